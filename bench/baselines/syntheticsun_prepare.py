#!/usr/bin/env python3
"""The original's data preparation, re-implemented faithfully as a benchmark baseline.

SyntheticSun's "IP Insights training grounds" (see ../../../shared/spec/SYNTHETICSUN.md)
prepared training CSVs in single-threaded Python with json, gzip, re and csv:
  cloudtrail: every gzip'd {"Records": [...]} object (keys containing CloudTrail-Digest
              skipped); records with userIdentity.type == AWSService dropped; IP =
              sourceIPAddress kept only when it is a strict dotted-quad IPv4 address;
              entity = userIdentity.principalId.
  waf:        uncompressed Firehose objects, one JSON record per line; IP =
              httpRequest.clientIp (same IPv4 rule); entity = the User-Agent header value
              with every '.' and ',' removed.
Output: headerless CSV entity,ip via csv.writer, one row per event, all rows held in memory
until the end, as the original did.

Deviations, so that it can run to the end on any corpus: a record without principalId or
without a User-Agent header is skipped (the original crashed or reused the previous
record's values), and objects are read from a local folder instead of S3 downloads.

Usage: syntheticsun_prepare.py cloudtrail|waf DIR OUTPUT.csv
"""
import csv
import gzip
import json
import os
import re
import sys

IPV4 = re.compile(
    r"^(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
    r"(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}$")


def objects(root):
    for folder, _, files in sorted(os.walk(root)):
        for name in sorted(files):
            if name == "labels.csv":
                continue
            yield os.path.join(folder, name)


def cloudtrail(root):
    rows = []
    for path in objects(root):
        if "CloudTrail-Digest" in path:
            continue
        with gzip.open(path, "rt") as f:
            log = json.load(f)
        for record in log["Records"]:
            identity = record.get("userIdentity") or {}
            if identity.get("type") == "AWSService":
                continue
            ip = record.get("sourceIPAddress") or ""
            if not IPV4.match(ip):
                continue
            principal = identity.get("principalId")
            if principal is None:
                continue
            rows.append([principal, ip])
    return rows


def waf(root):
    rows = []
    for path in objects(root):
        with open(path) as f:
            for line in f:
                if not line.strip():
                    continue
                record = json.loads(line)
                request = record["httpRequest"]
                ip = request.get("clientIp") or ""
                if not IPV4.match(ip):
                    continue
                agent = None
                for header in request.get("headers", []):
                    if header["name"] == "User-Agent":
                        agent = header["value"].replace(".", "").replace(",", "")
                if agent is None:
                    continue
                rows.append([agent, ip])
    return rows


def main():
    if len(sys.argv) != 4 or sys.argv[1] not in ("cloudtrail", "waf"):
        sys.exit(__doc__)
    rows = cloudtrail(sys.argv[2]) if sys.argv[1] == "cloudtrail" else waf(sys.argv[2])
    with open(sys.argv[3], "w", newline="") as out:
        csv.writer(out).writerows(rows)
    print(len(rows))


if __name__ == "__main__":
    main()
