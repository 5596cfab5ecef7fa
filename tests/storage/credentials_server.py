#!/usr/bin/env python3
"""Serves temporary AWS credentials the way the ECS/Fargate agent and EC2 IMDSv2 do.

  credentials_server.py --port P [--ecs-path /creds] [--ecs-token T] [--expires-in SECONDS]

ECS: GET <ecs-path> (with "Authorization: T" when --ecs-token is given).
IMDSv2: PUT /latest/api/token (X-aws-ec2-metadata-token-ttl-seconds required), then
GET /latest/meta-data/iam/security-credentials/ and .../<role> with X-aws-ec2-metadata-token.
Every answer carries a new AccessKeyId ("ASIATEST000001", ...), so a test sees each fetch;
GET /__stats returns {"fetches": n, "tokens": n, "rejected": n}.
"""
import argparse
import datetime
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser()
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--ecs-path", default="/v2/credentials/test")
parser.add_argument("--ecs-token", default="")
parser.add_argument("--expires-in", type=int, default=3600)
parser.add_argument("--role", default="ipinsights-test-role")
args = parser.parse_args()

IMDS_TOKEN = "imds-session-token-for-test"
lock = threading.Lock()
stats = {"fetches": 0, "tokens": 0, "rejected": 0}


def credentials_document():
    with lock:
        stats["fetches"] += 1
        n = stats["fetches"]
    expiration = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(
        seconds=args.expires_in)
    return {
        "Code": "Success",
        "Type": "AWS-HMAC",
        "AccessKeyId": "ASIATEST%06d" % n,
        "SecretAccessKey": "test-secret-%d" % n,
        "Token": "test-session-token-%d" % n,
        "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "RoleArn": "arn:aws:iam::123456789012:role/" + args.role,
    }


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *unused):
        pass

    def send(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def reject(self, status):
        with lock:
            stats["rejected"] += 1
        self.send(status, "")

    def do_PUT(self):
        if self.path != "/latest/api/token":
            return self.reject(404)
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.reject(400)
        with lock:
            stats["tokens"] += 1
        self.send(200, IMDS_TOKEN, "text/plain")

    def do_GET(self):
        if self.path == "/__stats":
            with lock:
                return self.send(200, json.dumps(stats))
        if self.path == args.ecs_path:
            if args.ecs_token and self.headers.get("Authorization") != args.ecs_token:
                return self.reject(401)
            return self.send(200, json.dumps(credentials_document()))
        prefix = "/latest/meta-data/iam/security-credentials/"
        if self.path.startswith(prefix):
            if self.headers.get("X-aws-ec2-metadata-token") != IMDS_TOKEN:
                return self.reject(401)  # IMDSv2 only: no token, no answer
            role = self.path[len(prefix):]
            if role == "":
                return self.send(200, args.role, "text/plain")
            if role == args.role:
                return self.send(200, json.dumps(credentials_document()))
        self.reject(404)


ThreadingHTTPServer(("127.0.0.1", args.port), Handler).serve_forever()
