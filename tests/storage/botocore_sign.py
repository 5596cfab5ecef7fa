#!/usr/bin/env python3
"""Signs requests with botocore's S3SigV4Auth, the reference for tests/storage/sigv4_test.cc.

Reads one JSON request per line on stdin, writes one JSON answer per line:
  in:  {"method", "host", "bucket", "key", "query": [[name, value]...], "headers": [[n, v]...],
        "body", "access_key", "secret_key", "token", "region", "time": unix seconds,
        "sign_payload": bool}
  out: {"path": path botocore encodes for bucket/key, "authorization": ..., "amz_date": ...}
Exits 3 when botocore is missing (the test then skips).
"""
import datetime
import json
import sys

try:
    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.config import Config
    from botocore.credentials import Credentials
    from botocore.utils import percent_encode
except ImportError:
    sys.exit(3)


def sign(spec):
    when = datetime.datetime.fromtimestamp(spec["time"], datetime.timezone.utc).replace(tzinfo=None)
    # botocore >= 1.31 reads the clock through get_current_datetime; older ones call utcnow.
    if hasattr(botocore.auth, "get_current_datetime"):
        botocore.auth.get_current_datetime = lambda *a, **k: when
    else:
        class FixedDatetime(datetime.datetime):
            @classmethod
            def utcnow(cls):
                return when
        botocore.auth.datetime.datetime = FixedDatetime
    path = "/" + spec["bucket"]
    if spec["key"]:
        path += "/" + percent_encode(spec["key"], safe="/~")
    request = AWSRequest(method=spec["method"], url="http://" + spec["host"] + path,
                         headers=dict(spec["headers"]), data=spec["body"].encode())
    request.params = {name: value for name, value in spec["query"]}
    request.context["client_config"] = Config(
        s3={"payload_signing_enabled": bool(spec["sign_payload"])})
    credentials = Credentials(spec["access_key"], spec["secret_key"], spec["token"] or None)
    auth = botocore.auth.S3SigV4Auth(credentials, "s3", spec["region"])
    if not spec["sign_payload"]:
        # botocore signs the payload on plain http unless told otherwise; an https URL with
        # payload signing disabled gives UNSIGNED-PAYLOAD, as we send for GETs.
        request.url = "https://" + spec["host"] + path
    auth.add_auth(request)
    return {"path": path, "authorization": request.headers["Authorization"],
            "amz_date": request.headers["X-Amz-Date"],
            "content_sha256": request.headers["X-Amz-Content-SHA256"]}


for line in sys.stdin:
    if line.strip():
        print(json.dumps(sign(json.loads(line))), flush=True)
