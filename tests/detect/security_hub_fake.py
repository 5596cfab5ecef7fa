#!/usr/bin/env python3
"""A fake AWS Security Hub endpoint for BatchImportFindings (POST /findings/import).

Standard library only. It verifies each request's SigV4 signature itself, from AWS's
documented canonical request (hashlib/hmac, nothing shared with the C++ signer), with the
test credentials it is given; enforces the API's 1..100 findings per call; and can be told to
throttle the first N calls (429), fail the next N with a 500, and reject chosen finding ids
(FailedFindings). Every request is recorded as one JSON line in --record:
  {"status": 200, "signature": "ok", "count": 3, "ids": [...], "content_type": ...,
   "user_agent": ..., "body": {...}}

  security_hub_fake.py --port 8443 --record calls.ndjson --access-key AKIA... --secret s \
      [--region us-east-1] [--throttle-first 1] [--error-first 1] [--fail-ids id1,id2]
"""
import argparse
import datetime
import hashlib
import hmac
import json
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MAX_FINDINGS = 100
SERVICE = "securityhub"


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def hmac_sha256(key, text):
    return hmac.new(key, text.encode("utf-8"), hashlib.sha256).digest()


def canonical_uri(path):
    # Non-S3 services: the path as sent, each segment URI-encoded (again).
    return urllib.parse.quote(path or "/", safe="/~")


def canonical_query(query):
    pairs = urllib.parse.parse_qsl(query, keep_blank_values=True)
    encoded = sorted(
        (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~")) for k, v in pairs
    )
    return "&".join(f"{k}={v}" for k, v in encoded)


def verify_signature(handler, body, options):
    """Returns None when the request is signed right, else the reason."""
    authorization = handler.headers.get("Authorization", "")
    match = re.fullmatch(
        r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request,\s*"
        r"SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})",
        authorization,
    )
    if not match:
        return f"malformed Authorization header {authorization!r}"
    access_key, date, region, service, signed_headers, signature = match.groups()
    if access_key != options.access_key:
        return f"unknown access key {access_key}"
    if service != SERVICE:
        return f"credential scope names service {service}, not {SERVICE}"
    if options.region and region != options.region:
        return f"credential scope names region {region}, not {options.region}"
    amz_date = handler.headers.get("X-Amz-Date", "")
    if not amz_date.startswith(date):
        return "X-Amz-Date does not match the credential scope's date"
    signed_time = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(
        tzinfo=datetime.timezone.utc)
    skew = abs((datetime.datetime.now(datetime.timezone.utc) - signed_time).total_seconds())
    if skew > 15 * 60:
        return f"request signed {skew:.0f} s away from now"
    names = signed_headers.split(";")
    if "host" not in names or "x-amz-date" not in names:
        return "host and x-amz-date must be signed"
    if names != sorted(names):
        return "SignedHeaders are not sorted"
    payload_hash = sha256_hex(body)
    claimed = handler.headers.get("X-Amz-Content-Sha256")
    if claimed is not None and claimed != payload_hash:
        return "x-amz-content-sha256 is not the body's SHA-256"
    canonical_headers = ""
    for name in names:
        values = handler.headers.get_all(name)
        if values is None:
            return f"signed header {name} is missing"
        value = ",".join(" ".join(v.strip().split()) for v in values)
        canonical_headers += f"{name}:{value}\n"
    path, _, query = handler.path.partition("?")
    canonical_request = "\n".join([
        handler.command,
        canonical_uri(path),
        canonical_query(query),
        canonical_headers,
        signed_headers,
        payload_hash,
    ])
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([
        "AWS4-HMAC-SHA256", amz_date, scope,
        sha256_hex(canonical_request.encode("utf-8"))
    ])
    key = hmac_sha256(("AWS4" + options.secret).encode("utf-8"), date)
    key = hmac_sha256(key, region)
    key = hmac_sha256(key, service)
    key = hmac_sha256(key, "aws4_request")
    expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "The request signature we calculated does not match the signature you provided"
    return None


class State:
    def __init__(self, options):
        self.options = options
        self.lock = threading.Lock()
        self.calls = 0


def make_handler(state):
    options = state.options

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, status, document, record, error_type=None):
            # Recorded before answering: a client that has its answer finds its call recorded.
            record["status"] = status
            if options.record:
                with state.lock, open(options.record, "a", encoding="utf-8") as out:
                    out.write(json.dumps(record) + "\n")
            payload = json.dumps(document).encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            if error_type:
                self.send_header("x-amzn-ErrorType", error_type)
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            record = {
                "path": self.path,
                "content_type": self.headers.get("Content-Type"),
                "user_agent": self.headers.get("User-Agent"),
            }
            problem = verify_signature(self, body, options)
            record["signature"] = problem or "ok"
            if problem:
                return self.answer(403, {"message": problem}, record, "InvalidSignatureException")
            if self.path.partition("?")[0] != "/findings/import":
                return self.answer(404, {"message": f"no operation at {self.path}"}, record,
                                   "ResourceNotFoundException")
            try:
                document = json.loads(body)
                findings = document["Findings"]
                assert isinstance(findings, list)
            except (ValueError, KeyError, TypeError, AssertionError):
                return self.answer(400, {"message": "the body is not {\"Findings\": [...]}"},
                                   record, "InvalidInputException")
            record["count"] = len(findings)
            record["ids"] = [f.get("Id") for f in findings if isinstance(f, dict)]
            record["body"] = document
            if not 1 <= len(findings) <= MAX_FINDINGS:
                return self.answer(
                    400,
                    {"message": f"1 validation error detected: Value at 'findings' failed to "
                                f"satisfy constraint: Member must have length between 1 and "
                                f"{MAX_FINDINGS} (got {len(findings)})"},
                    record, "InvalidInputException")
            with state.lock:
                state.calls += 1
                call = state.calls
            if call <= options.throttle_first:
                return self.answer(429, {"message": "Rate exceeded"}, record,
                                   "TooManyRequestsException")
            if call <= options.throttle_first + options.error_first:
                return self.answer(500, {"message": "Internal server error"}, record,
                                   "InternalException")
            failed = [
                {"Id": i, "ErrorCode": "InvalidInput", "ErrorMessage": "rejected by the fake"}
                for i in record["ids"] if i in options.fail_ids
            ]
            return self.answer(200, {
                "FailedCount": len(failed),
                "SuccessCount": len(findings) - len(failed),
                "FailedFindings": failed,
            }, record)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--record", default="")
    parser.add_argument("--access-key", required=True)
    parser.add_argument("--secret", required=True)
    parser.add_argument("--region", default="")
    parser.add_argument("--throttle-first", type=int, default=0)
    parser.add_argument("--error-first", type=int, default=0)
    parser.add_argument("--fail-ids", default="")
    options = parser.parse_args()
    options.fail_ids = set(filter(None, options.fail_ids.split(",")))
    server = ThreadingHTTPServer(("127.0.0.1", options.port), make_handler(State(options)))
    server.serve_forever()


if __name__ == "__main__":
    main()
