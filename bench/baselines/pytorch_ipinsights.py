#!/usr/bin/python3
"""SageMaker's IP Insights design in PyTorch, written for CPU speed: bench/train_bench.sh's baseline.

Model (shared/spec/ALGORITHM.md, with the IP encoder SageMaker's way rather than ours):
  * entities hashed (crc32) into num_entity_vectors rows of an Embedding(sparse=True),
    trained by SparseAdam (lazy Adam: only the rows of the batch move);
  * the IP encoder: one embedding row per (byte position, byte value), summed. IPv4 uses
    4 positions x 256 values (1,024 rows); IPv6, which SageMaker does not take, gets its own
    16 positions x 256 values (4,096 rows), so a v4 address and a v6 one share no row. All of
    them are one small dense EmbeddingBag(mode="sum") updated by a dense Adam (every v4 row
    is hit by every batch's random negatives, so a sparse update would buy nothing); then
    num_ip_encoder_layers fully connected layers, ReLU between them, the last linear;
  * score = dot product; binary cross-entropy with logits against R uniform random IPv4
    addresses per row (random bytes) and S shuffled ones (the batch's IPs rolled by a random
    shift in 1..B-1, so never the row's own); learning rate constant, weight_decay on the
    dense parameters (SparseAdam has none).

Speed choices: the training CSV is read and encoded once into tensors (entity row, byte rows)
before the epochs, as SageMaker reads recordio; both rates are reported: records_per_second
(the epoch loop, comparable to ipinsights train's figure) and records_per_second_end_to_end
(reading, encoding and epochs). Everything per batch is a handful of tensor ops, no Python per
sample. With one encoder layer the score u.(W h + b) is computed as (u W).h + u.b: the layer
is applied to the B entity vectors instead of the (1+R)B IP encodings, the same function and
gradients with about a sixth of the matrix work. "records" counts every (1+R+S) sample of a
row, as ipinsights does.

  train:   pytorch_ipinsights.py train --train train.csv --labels labels.csv [hyperparameters]
  metrics: pytorch_ipinsights.py metrics --labels labels.csv --scores scores.ndjson
Both print one JSON object: records_per_second (train), auc, recall_at_1pct_fpr,
recall_at_3pct_fpr, and the oracle's figures where labels.csv has oracle_score.
"""
import argparse
import csv
import ipaddress
import json
import os
import sys
import time
import zlib

# Before numpy and torch load libgomp (it reads this once): its threads otherwise spin at every
# barrier, and on two cores shared with other work a 2-thread op then waits for a descheduled
# spinner (measured: 5-10x slower under a load of 4).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import numpy as np  # noqa: E402

V4_ROWS = 4 * 256
PAD_ROW = V4_ROWS + 16 * 256  # the EmbeddingBag's padding_idx: v4 bags padded to IPv6's 16 bytes


def encode(entities, ips, num_entity_vectors):
    """Entity and IP texts -> (n,) entity rows and (n, width) byte-position rows, width 4 when
    every address is IPv4, else 16 (v4 addresses padded with PAD_ROW). Distinct values are
    hashed or parsed once each (a dict per column), then gathered."""
    entity_ids, ip_ids = {}, {}
    e_index = np.fromiter((entity_ids.setdefault(e, len(entity_ids)) for e in entities), np.int64, len(entities))
    i_index = np.fromiter((ip_ids.setdefault(a, len(ip_ids)) for a in ips), np.int64, len(ips))
    e_rows = np.fromiter((zlib.crc32(e.encode()) % num_entity_vectors for e in entity_ids), np.int64, len(entity_ids))
    packed = [ipaddress.ip_address(a).packed for a in ip_ids]
    width = 4 if all(len(p) == 4 for p in packed) else 16
    rows = np.full((len(packed), width), PAD_ROW, dtype=np.int64)
    v4 = np.array([len(p) == 4 for p in packed])
    if v4.any():
        octets = np.frombuffer(b"".join(p for p in packed if len(p) == 4), np.uint8).reshape(-1, 4)
        rows[v4, :4] = octets + np.arange(4) * 256
    if not v4.all():
        octets = np.frombuffer(b"".join(p for p in packed if len(p) == 16), np.uint8).reshape(-1, 16)
        rows[~v4] = V4_ROWS + octets + np.arange(16) * 256
    return e_rows[e_index], rows[i_index]


def read_pairs(path):
    entities, ips = [], []
    with open(path, newline="") as f:
        for row in csv.reader(f, skipinitialspace=True):
            if len(row) == 2:
                entities.append(row[0])
                ips.append(row[1])
    return entities, ips


def read_labels(path):
    entities, ips, labels, oracle = [], [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            entities.append(row["entity"])
            ips.append(row["ip"])
            labels.append(int(row["label"]))
            if row.get("oracle_score") not in (None, ""):
                oracle.append(float(row["oracle_score"]))
    return entities, ips, np.array(labels), (np.array(oracle) if len(oracle) == len(labels) else None)


def auc(normal, attack):
    """P(normal score > attack score), ties one half (Mann-Whitney rank statistic)."""
    _, inverse, counts = np.unique(np.concatenate([normal, attack]), return_inverse=True, return_counts=True)
    mid_rank = np.cumsum(counts) - (counts - 1) / 2.0  # average 1-based rank of each distinct score
    p, n = len(normal), len(attack)
    return float((mid_rank[inverse[:p]].sum() - p * (p + 1) / 2.0) / (p * n))


def figures(scores, labels, prefix=""):
    """AUC and recall at 1% and 3% FPR (flag score < the normal pairs' 1% / 3% quantile), and at
    the score-0 threshold."""
    scores = np.asarray(scores, dtype=np.float64)
    normal, attack = scores[labels == 0], scores[labels == 1]
    return {
        prefix + "auc": auc(normal, attack),
        prefix + "recall_at_1pct_fpr": float((attack < np.quantile(normal, 0.01)).mean()),
        prefix + "recall_at_3pct_fpr": float((attack < np.quantile(normal, 0.03)).mean()),
        prefix + "recall_at_0": float((attack < 0).mean()),
        prefix + "fpr_at_0": float((normal < 0).mean()),
    }


def train(args):
    import torch
    import torch.nn.functional as F

    start = time.time()
    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    entities, ips = read_pairs(args.train)
    e_rows_np, ip_rows_np = encode(entities, ips, args.num_entity_vectors)
    e_rows, ip_rows = torch.from_numpy(e_rows_np), torch.from_numpy(ip_rows_np)
    del entities, ips
    load_seconds = time.time() - start
    n = len(e_rows)
    D, R, S, B = args.vector_dim, args.random_negative_sampling_rate, args.shuffled_negative_sampling_rate, args.mini_batch_size
    L = args.num_ip_encoder_layers

    entity = torch.nn.Embedding(args.num_entity_vectors, D, sparse=True)
    octets = torch.nn.EmbeddingBag(PAD_ROW + 1, D, mode="sum", padding_idx=PAD_ROW)
    layers = torch.nn.ModuleList([torch.nn.Linear(D, D) for _ in range(L)])
    scale = (0.0025 * 9.0 / (4.0 * D)) ** 0.25  # initial scores near 0: first loss about ln 2
    with torch.no_grad():
        torch.nn.init.uniform_(entity.weight, -scale, scale)
        torch.nn.init.uniform_(octets.weight, -scale, scale)
        octets.weight[PAD_ROW].zero_()
        for layer in layers:
            layer.bias.zero_()
    sparse_opt = torch.optim.SparseAdam(list(entity.parameters()), lr=args.learning_rate)
    dense_opt = torch.optim.Adam(list(octets.parameters()) + list(layers.parameters()),
                                 lr=args.learning_rate, weight_decay=args.weight_decay, foreach=True)
    v4_offsets = torch.arange(4) * 256
    ip_lengths = (ip_rows != PAD_ROW).sum(1)

    def ip_layers(h):
        for i, layer in enumerate(layers):
            h = layer(h)
            if i + 1 < L:
                h = F.relu(h)
        return h

    def bag_input(rows, lengths):
        """Padded (n, width) byte rows -> EmbeddingBag's flat input and offsets (one bag per row;
        1-D with offsets measured faster than a 2-D input, and it takes mixed v4/v6 widths)."""
        flat = rows.view(-1) if rows.shape[1] == 4 else rows[rows != PAD_ROW]
        return flat, torch.cumsum(lengths, 0) - lengths

    def logits(u, h_pos, h_rand, shifts):
        """(bn, 1+R+S) scores: the row's own IP, its R random ones, its S shuffled ones."""
        if L == 1:  # u.(W h + b) = (u W).h + u.b: W on the bn entity vectors, not the IP encodings
            layer = layers[0]
            v, ub = u @ layer.weight, (u * layer.bias).sum(1, keepdim=True)
        else:
            v, ub = u, 0.0
            h_pos, h_rand = ip_layers(h_pos), ip_layers(h_rand)
        cols = [(v * h_pos).sum(1, keepdim=True), (h_rand.view(len(u), R, D) * v.unsqueeze(1)).sum(2)]
        cols += [(v * h_pos.roll(s, 0)).sum(1, keepdim=True) for s in shifts]
        return torch.cat(cols, 1) + ub

    target = torch.zeros(B, 1 + R + S)
    target[:, 0] = 1.0
    samples, train_seconds, epochs = 0, 0.0, []
    for epoch in range(args.epochs):
        epoch_start = time.time()
        order = torch.randperm(n)
        loss_sum, batches = 0.0, 0
        for b0 in range(0, n, B):
            idx = order[b0:b0 + B]
            bn = len(idx)
            # The batch's own IPs and its bn*R random IPv4 ones in one bag call (one backward).
            rand_rows = torch.randint(0, 256, (bn * R, 4)) + v4_offsets
            pos_flat, pos_offsets = bag_input(ip_rows[idx], ip_lengths[idx])
            h = octets(torch.cat([pos_flat, rand_rows.view(-1)]),
                       torch.cat([pos_offsets, len(pos_flat) + 4 * torch.arange(bn * R)]))
            shifts = torch.randint(1, max(bn, 2), (S,)).tolist() if bn > 1 else [0] * S
            loss = F.binary_cross_entropy_with_logits(logits(entity(e_rows[idx]), h[:bn], h[bn:], shifts), target[:bn])
            sparse_opt.zero_grad(set_to_none=True)
            dense_opt.zero_grad(set_to_none=True)
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            loss_sum += float(loss)
            batches += 1
            samples += bn * (1 + R + S)
        seconds = time.time() - epoch_start
        train_seconds += seconds
        epochs.append({"epoch": epoch + 1, "loss": loss_sum / batches, "seconds": seconds,
                       "records_per_second": n * (1 + R + S) / seconds})
        print(json.dumps(epochs[-1]), file=sys.stderr)
    total_seconds = time.time() - start

    result = {"implementation": "pytorch " + torch.__version__, "threads": args.threads, "rows": n,
              "records_per_second": samples / train_seconds, "records_per_second_end_to_end": samples / total_seconds,
              "load_seconds": load_seconds, "train_seconds": train_seconds, "epochs": epochs}
    if args.labels:
        l_entities, l_ips, labels, oracle = read_labels(args.labels)
        le_rows, lip_rows = encode(l_entities, l_ips, args.num_entity_vectors)
        with torch.no_grad():
            u = entity(torch.from_numpy(le_rows))
            lip_rows = torch.from_numpy(lip_rows)
            h = ip_layers(octets(*bag_input(lip_rows, (lip_rows != PAD_ROW).sum(1))))
            scores = (u * h).sum(1).numpy()
        result.update(figures(scores, labels))
        if oracle is not None:
            result.update(figures(oracle, labels, "oracle_"))
    print(json.dumps(result))


def metrics(args):
    _, _, labels, oracle = read_labels(args.labels)
    with open(args.scores) as f:
        scores = [json.loads(line)["score"] for line in f if line.strip()]
    if len(scores) != len(labels):
        sys.exit(f"{args.scores}: {len(scores)} scores for {len(labels)} labelled rows")
    result = {"pairs": len(labels), "attacks": int(labels.sum())}
    result.update(figures(np.array(scores), labels))
    if oracle is not None:
        result.update(figures(oracle, labels, "oracle_"))
    print(json.dumps(result))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    t = sub.add_parser("train")
    t.add_argument("--train", required=True)
    t.add_argument("--labels")
    t.add_argument("--num-entity-vectors", type=int, default=20000)
    t.add_argument("--vector-dim", type=int, default=128)
    t.add_argument("--epochs", type=int, default=5)
    t.add_argument("--learning-rate", type=float, default=0.01)
    t.add_argument("--mini-batch-size", type=int, default=1000)
    t.add_argument("--num-ip-encoder-layers", type=int, default=1)
    t.add_argument("--random-negative-sampling-rate", type=int, default=5)
    t.add_argument("--shuffled-negative-sampling-rate", type=int, default=1)
    t.add_argument("--weight-decay", type=float, default=0.00001)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("metrics")
    m.add_argument("--labels", required=True)
    m.add_argument("--scores", required=True)
    args = parser.parse_args()
    if args.mode == "train":
        train(args)
    else:
        metrics(args)


if __name__ == "__main__":
    main()
