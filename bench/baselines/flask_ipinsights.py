"""Flask baseline of the same hosting contract as `ipinsights serve`, for bench/serve_bench.sh.

This is the way such endpoints are usually written (and how SageMaker's own IP Insights
container serves: a Python web app under gunicorn, one worker per core): parse the body with
the csv / json modules, look the embeddings up in numpy arrays, answer JSON.

The weights are random arrays of the same shapes as the benchmarked model (entity table,
IP prefix table, one dense layer, dot product), so every request does the same kind and
amount of work; the scores are not the C++ server's (this baseline does not read
model.ipinsights). Shapes from the environment: IPI_ENTITY_VECTORS, IPI_VECTOR_DIM,
IPI_PREFIX_ROWS.

  gunicorn -w 2 -b 127.0.0.1:8082 --chdir bench/baselines flask_ipinsights:app
"""
import csv
import io
import ipaddress
import json
import os
import zlib

import numpy as np
from flask import Flask, Response, request

ENTITY_VECTORS = int(os.environ.get("IPI_ENTITY_VECTORS", "20000"))
DIM = int(os.environ.get("IPI_VECTOR_DIM", "128"))
PREFIX_ROWS = int(os.environ.get("IPI_PREFIX_ROWS", "65536"))

rng = np.random.default_rng(7)
entity_table = rng.standard_normal((ENTITY_VECTORS, DIM), dtype=np.float32) * 0.1
prefix_table = rng.standard_normal((PREFIX_ROWS, DIM), dtype=np.float32) * 0.1
layer_w = rng.standard_normal((DIM, DIM), dtype=np.float32) / np.sqrt(DIM)
layer_b = np.zeros(DIM, dtype=np.float32)

app = Flask(__name__)


def entity_embedding(entity):
    return entity_table[zlib.crc32(entity.encode()) % ENTITY_VECTORS]


def ip_embedding(ip):
    packed = ip.packed if ip.version == 6 else b"\0" * 10 + b"\xff\xff" + ip.packed
    rows = [zlib.crc32(packed[: 12 + n] + bytes([n])) % PREFIX_ROWS for n in (1, 2, 3, 4)]
    return prefix_table[rows].sum(axis=0) @ layer_w.T + layer_b


def error(status, message):
    return Response(json.dumps({"error": message}), status=status, mimetype="application/json")


def parse_instance(instance):
    if "features" in instance:
        return instance["features"]
    return instance["data"]["features"]["values"]


def parse_pairs(content_type, body):
    pairs = []
    if content_type == "text/csv":
        for number, row in enumerate(csv.reader(io.StringIO(body.decode())), 1):
            if not row:
                continue
            if len(row) != 2:
                raise ValueError(f"line {number}: expected 2 columns (entity,ip), got {len(row)}")
            pairs.append((row[0], row[1].strip(), f"line {number}"))
    elif content_type == "application/json":
        for index, instance in enumerate(json.loads(body)["instances"]):
            entity, ip = parse_instance(instance)
            pairs.append((str(entity), ip, f"instance {index}"))
    elif content_type == "application/jsonlines":
        for number, line in enumerate(body.decode().splitlines(), 1):
            if line.strip():
                entity, ip = parse_instance(json.loads(line))
                pairs.append((str(entity), ip, f"line {number}"))
    else:
        return None
    return pairs


@app.route("/ping", methods=["GET"])
def ping():
    return Response('{"status":"healthy"}', mimetype="application/json")


@app.route("/execution-parameters", methods=["GET"])
def execution_parameters():
    return {"MaxConcurrentTransforms": 4, "BatchStrategy": "MULTI_RECORD", "MaxPayloadInMB": 6}


@app.route("/invocations", methods=["POST"])
@app.route("/endpoints/<name>/invocations", methods=["POST"])
def invocations(name=None):
    accept = request.headers.get("Accept", "application/json")
    media, _, params = accept.partition(";")
    media = media.strip()
    verbose = "verbose=true" in params.replace(" ", "").lower()
    if media in ("", "*/*", "application/json"):
        lines = False
    elif media == "application/jsonlines":
        lines = True
    else:
        return error(406, f"unsupported Accept {accept!r}")
    content_type = request.headers.get("Content-Type", "").split(";")[0].strip()
    try:
        pairs = parse_pairs(content_type, request.get_data())
    except (ValueError, KeyError, TypeError) as e:
        return error(400, str(e))
    if pairs is None:
        return error(415, f"unsupported Content-Type {content_type!r}")
    predictions = []
    for entity, ip_text, where in pairs:
        try:
            ip = ipaddress.ip_address(ip_text)
        except ValueError:
            return error(400, f"{where}: bad IP {ip_text!r}")
        e = entity_embedding(entity)
        v = ip_embedding(ip)
        prediction = {"dot_product": float(np.dot(e, v))}
        if verbose:
            prediction["entity_embedding"] = e.tolist()
            prediction["ip_embedding"] = v.tolist()
        predictions.append(prediction)
    if lines:
        body = "".join(json.dumps(p) + "\n" for p in predictions)
        return Response(body, mimetype="application/jsonlines")
    return Response(json.dumps({"predictions": predictions}), mimetype="application/json")
