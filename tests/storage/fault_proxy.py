#!/usr/bin/env python3
"""An HTTP proxy in front of an S3 server: checks SigV4 signatures the way S3 does and
injects the faults S3 clients must survive.

  fault_proxy.py --port P --upstream http://127.0.0.1:Q [--verify KEY_ID=SECRET]
                 [--slowdown-every N] [--cut-every N] [--region R] [--expired-token T]
                 [--deny-prefix K]

--verify KEY_ID=SECRET  every request must carry a valid SigV4 signature by that key,
                    computed over the request exactly as received (raw path and query), and
                    a signed x-amz-content-sha256 must match the body; else 403
                    SignatureDoesNotMatch / InvalidAccessKeyId / XAmzContentSHA256Mismatch.
                    (moto_server's own check decodes %2F in query strings before verifying,
                    so it refuses correct signatures of delimiter listings; botocore fails
                    there too.)

--slowdown-every N  every Nth request (any kind) gets 503 SlowDown without reaching S3
--cut-every N       every Nth object GET gets its headers (full Content-Length) and half of
                    its body, then the connection is closed
--region R          requests signed for another region get 400 AuthorizationHeaderMalformed
                    naming R (as S3 does for a bucket in another region)
--expired-token T   requests with x-amz-security-token T get 400 ExpiredToken
--deny-prefix K     requests for keys starting with K get 403 AccessDenied
--shift-range N     ranged object GETs are sent upstream with the range start moved N bytes
                    later, and S3's (truthful) 206 answer for that range is passed back: a
                    store that answers another range than the one asked for
--drop-create-response N  the first N CreateMultipartUpload requests (POST ?uploads) reach
                    S3, which creates the upload, but the connection is closed before the
                    answer: a lost response to a request that was processed
GET /__stats returns the counts of requests and of each fault injected, as JSON.
"""
import argparse
import http.client
import json
import re
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--upstream", required=True)
parser.add_argument("--verify", default="")
parser.add_argument("--slowdown-every", type=int, default=0)
parser.add_argument("--cut-every", type=int, default=0)
parser.add_argument("--region", default="")
parser.add_argument("--expired-token", default="")
parser.add_argument("--deny-prefix", default="")
parser.add_argument("--shift-range", type=int, default=0)
parser.add_argument("--drop-create-response", type=int, default=0)
args = parser.parse_args()
upstream = urllib.parse.urlsplit(args.upstream)

lock = threading.Lock()
stats = {"bad_signatures": 0, "requests": 0, "object_gets": 0, "slowdowns": 0, "cuts": 0, "region_errors": 0,
         "expired": 0, "denied": 0, "shifted_ranges": 0, "dropped_creates": 0}
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
              "proxy-connection"}


def signature_problem(handler, body):
    """None when the request is signed correctly by --verify's key, else an S3 error code."""
    import hashlib
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    key_id, _, secret = args.verify.partition("=")
    authorization = handler.headers.get("Authorization", "")
    match = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                     r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", authorization)
    if not match:
        return "AccessDenied"
    if match.group(1) != key_id:
        return "InvalidAccessKeyId"
    signed = match.group(4).split(";")
    headers = {name: handler.headers.get(name, "") for name in signed}
    for required in ("host", "x-amz-date", "x-amz-content-sha256"):
        if required not in signed:
            return "AccessDenied"
    content_sha256 = handler.headers.get("x-amz-content-sha256")
    if content_sha256 != "UNSIGNED-PAYLOAD" and content_sha256 != hashlib.sha256(body).hexdigest():
        return "XAmzContentSHA256Mismatch"
    request = AWSRequest(method=handler.command, url="http://" + handler.headers["Host"] + handler.path,
                         headers=headers, data=body)
    request.context["timestamp"] = handler.headers.get("x-amz-date")
    token = handler.headers.get("x-amz-security-token")
    auth = botocore.auth.S3SigV4Auth(Credentials(key_id, secret, token), "s3", match.group(3))
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    return None if expected == match.group(5) else "SignatureDoesNotMatch"


def error_document(code, message, extra=""):
    return ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>%s</Code><Message>%s</Message>"
            "%s<RequestId>FAULTPROXY</RequestId></Error>" % (code, message, extra)).encode()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *unused):
        pass

    def answer(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def count(self, name):
        with lock:
            stats[name] += 1
            return stats[name]

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/__stats":
            with lock:
                data = json.dumps(stats).encode()
            return self.answer(200, data)
        n = self.count("requests")
        split = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(split.query, keep_blank_values=True)
        path_parts = split.path.lstrip("/").split("/", 1)
        key = urllib.parse.unquote(path_parts[1]) if len(path_parts) > 1 else ""
        is_object_get = self.command == "GET" and key != "" and not query

        if args.verify:
            problem = signature_problem(self, body)
            if problem:
                self.count("bad_signatures")
                return self.answer(403, error_document(problem, "checked by fault_proxy.py"))

        if args.expired_token and self.headers.get("x-amz-security-token") == args.expired_token:
            self.count("expired")
            return self.answer(400, error_document("ExpiredToken",
                                                   "The provided token has expired."))
        if args.region:
            match = re.search(r"Credential=[^/]+/\d+/([^/]+)/",
                              self.headers.get("Authorization", ""))
            if match and match.group(1) != args.region:
                self.count("region_errors")
                return self.answer(
                    400,
                    error_document("AuthorizationHeaderMalformed",
                                   "the region '%s' is wrong; expecting '%s'" %
                                   (match.group(1), args.region),
                                   "<Region>%s</Region>" % args.region),
                    [("x-amz-bucket-region", args.region)])
        if args.deny_prefix and key.startswith(args.deny_prefix):
            self.count("denied")
            return self.answer(403, error_document("AccessDenied", "Access Denied"))
        if args.slowdown_every and n % args.slowdown_every == 0:
            self.count("slowdowns")
            return self.answer(503, error_document("SlowDown", "Please reduce your request rate."))

        connection = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
        connection.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() in HOP_BY_HOP:
                continue
            if name.lower() == "range" and args.shift_range and key and self.command == "GET":
                match = re.match(r"bytes=(\d+)-(\d*)$", value)
                if match:
                    self.count("shifted_ranges")
                    value = "bytes=%d-%s" % (int(match.group(1)) + args.shift_range, match.group(2))
            connection.putheader(name, value)
        connection.endheaders(body if body else None)
        response = connection.getresponse()
        data = response.read()
        headers = [(k, v) for k, v in response.getheaders() if k.lower() not in HOP_BY_HOP]
        connection.close()

        if (self.command == "POST" and "uploads" in query and args.drop_create_response and
                stats["dropped_creates"] < args.drop_create_response):
            self.count("dropped_creates")
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return

        cut = False
        if is_object_get and 200 <= response.status < 300 and len(data) >= 2:
            g = self.count("object_gets")
            cut = args.cut_every and g % args.cut_every == 0
        self.send_response(response.status)
        for name, value in headers:
            if name.lower() != "content-length":
                self.send_header(name, value)
        if self.command == "HEAD":
            self.send_header("Content-Length", response.getheader("Content-Length", "0"))
            self.end_headers()
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if cut:
            self.count("cuts")
            self.wfile.write(data[: len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(data)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
