#!/usr/bin/python3
"""A PyTorch CPU implementation of the IP Insights design, the baseline for bench/train_bench.sh.

The same model as ours (shared/spec/ALGORITHM.md): hashed entity embeddings, an IP encoder
summing hashed embeddings of the /8, /16, /24, /32 prefixes (IPv4; IPv6 addresses use their
/16../64 and /128 prefixes), num_ip_encoder_layers fully connected layers (last linear),
dot-product score, BCE with R random-IPv4 and S shuffled (rolled, so never the same pair
index) negatives, SparseAdam on the embeddings and Adam on the dense layers. Written the way
a PyTorch user would: the dense layer is applied to every sample's IP.

  train:   pytorch_ipinsights.py train --train train.csv --labels labels.csv [hyperparameters]
  metrics: pytorch_ipinsights.py metrics --labels labels.csv --scores scores.ndjson
Both print one JSON object: records_per_second (train), auc, recall_at_3pct_fpr, and the
oracle's figures where labels.csv has oracle_score.
"""
import argparse
import csv
import ipaddress
import json
import sys
import time
import zlib

import numpy as np

MASK64 = (1 << 64) - 1


def entity_index(entities, rows):
    return np.array([zlib.crc32(e.encode()) % rows for e in entities], dtype=np.int64)


def mix(x):
    # splitmix64 finaliser on uint64 arrays (wrapping arithmetic).
    with np.errstate(over="ignore"):
        x = x + np.uint64(0x9E3779B97F4A7C15)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def prefix_rows_v4(v4, buckets):
    """(n,) uint32 host-order IPv4 -> (n, 4) bucket rows of the /8, /16, /24, /32 prefixes."""
    v4 = v4.astype(np.uint64)
    cols = []
    for level, shift in enumerate((24, 16, 8, 0)):
        h = mix((v4 >> np.uint64(shift)) ^ (np.uint64(level + 1) << np.uint64(40)))
        cols.append((h % np.uint64(buckets)).astype(np.int64))
    return np.stack(cols, axis=1)


def prefix_rows(ips, buckets):
    """Addresses as text -> (n, 5) rows; IPv4 rows repeat their /32 row in column 5 with a
    zero weight (per_sample_weights), IPv6 use five prefixes."""
    n = len(ips)
    rows = np.zeros((n, 5), dtype=np.int64)
    weights = np.ones((n, 5), dtype=np.float32)
    v4_index, v4_value = [], []
    for i, text in enumerate(ips):
        a = ipaddress.ip_address(text)
        if a.version == 4:
            v4_index.append(i)
            v4_value.append(int(a))
        else:
            value = int(a)
            high = value >> 64
            for k, bits in enumerate((16, 32, 48, 64)):
                rows[i, k] = (hash((6, bits, high >> (64 - bits))) & MASK64) % buckets
            rows[i, 4] = (hash((6, 128, value)) & MASK64) % buckets
    if v4_index:
        idx = np.array(v4_index)
        rows[idx, :4] = prefix_rows_v4(np.array(v4_value, dtype=np.uint64), buckets)
        rows[idx, 4] = rows[idx, 3]
        weights[idx, 4] = 0.0
    return rows, weights


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
        reader = csv.DictReader(f)
        for row in reader:
            entities.append(row["entity"])
            ips.append(row["ip"])
            labels.append(int(row["label"]))
            if "oracle_score" in row and row["oracle_score"] not in (None, ""):
                oracle.append(float(row["oracle_score"]))
    return entities, ips, np.array(labels), (np.array(oracle) if len(oracle) == len(labels) else None)


def auc(normal, attack):
    """P(normal score > attack score), ties one half (rank statistic)."""
    scores = np.concatenate([normal, attack])
    order = scores.argsort(kind="mergesort")
    ranks = np.empty(len(scores))
    sorted_scores = scores[order]
    # average ranks for ties
    i = 0
    ranks_sorted = np.arange(1, len(scores) + 1, dtype=np.float64)
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate([[0], boundaries])
    ends = np.concatenate([boundaries, [len(scores)]])
    for s, e in zip(starts, ends):
        if e - s > 1:
            ranks_sorted[s:e] = (s + 1 + e) / 2.0
    ranks[order] = ranks_sorted
    p, n = len(normal), len(attack)
    return float((ranks[:p].sum() - p * (p + 1) / 2.0) / (p * n))


def figures(scores, labels, prefix=""):
    scores = np.asarray(scores, dtype=np.float64)
    normal, attack = scores[labels == 0], scores[labels == 1]
    threshold = np.quantile(normal, 0.03)  # flag score < threshold: 3% of normal pairs
    out = {
        prefix + "auc": auc(normal, attack),
        prefix + "recall_at_3pct_fpr": float((attack < threshold).mean()),
        prefix + "recall_at_0": float((attack < 0).mean()),
        prefix + "fpr_at_0": float((normal < 0).mean()),
    }
    return out


def train(args):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    entities, ips = read_pairs(args.train)
    t_load = time.time()
    e_idx = torch.from_numpy(entity_index(entities, args.num_entity_vectors))
    rows_np, weights_np = prefix_rows(ips, args.ip_hash_buckets)
    p_rows = torch.from_numpy(rows_np)
    p_weights = torch.from_numpy(weights_np)
    n = len(entities)
    D, R, S, B = args.vector_dim, args.random_negative_sampling_rate, args.shuffled_negative_sampling_rate, args.mini_batch_size

    entity = torch.nn.Embedding(args.num_entity_vectors, D, sparse=True)
    prefix = torch.nn.EmbeddingBag(args.ip_hash_buckets, D, mode="sum", sparse=True)
    scale = (0.0025 * 9.0 / (4.0 * D)) ** 0.25
    torch.nn.init.uniform_(entity.weight, -scale, scale)
    torch.nn.init.uniform_(prefix.weight, -scale, scale)
    layers = torch.nn.ModuleList([torch.nn.Linear(D, D) for _ in range(args.num_ip_encoder_layers)])
    for layer in layers:
        torch.nn.init.zeros_(layer.bias)
    sparse_opt = torch.optim.SparseAdam(list(entity.parameters()) + list(prefix.parameters()), lr=args.learning_rate)
    dense_params = list(layers.parameters())
    dense_opt = torch.optim.Adam(dense_params, lr=args.learning_rate, weight_decay=args.weight_decay) if dense_params else None

    def encode(rows, weights):
        h = prefix(rows, per_sample_weights=weights)
        for i, layer in enumerate(layers):
            h = layer(h)
            if i + 1 < len(layers):
                h = F.relu(h)
        return h

    samples = 0
    train_seconds = 0.0
    epochs = []
    for epoch in range(args.epochs):
        start = time.time()
        order = torch.randperm(n)
        loss_sum, batches = 0.0, 0
        for b0 in range(0, n, B):
            idx = order[b0:b0 + B]
            bn = len(idx)
            u = entity(e_idx[idx])  # bn x D
            rand_v4 = np.random.randint(0, 2**32, size=bn * R, dtype=np.uint64)
            r_rows = torch.from_numpy(np.concatenate([prefix_rows_v4(rand_v4, args.ip_hash_buckets),
                                                      np.zeros((bn * R, 1), dtype=np.int64)], axis=1))
            r_weights = torch.ones(bn * R, 5)
            r_weights[:, 4] = 0
            all_rows = torch.cat([p_rows[idx], r_rows])
            all_weights = torch.cat([p_weights[idx], r_weights])
            h = encode(all_rows, all_weights)
            h_pos, h_rand = h[:bn], h[bn:].view(bn, R, D)
            logits = [(u * h_pos).sum(1, keepdim=True), (u.unsqueeze(1) * h_rand).sum(2)]
            labels = [torch.ones(bn, 1), torch.zeros(bn, R)]
            for s in range(S):
                shift = int(np.random.randint(1, bn)) if bn > 1 else 0
                logits.append((u * h_pos.roll(shift, 0)).sum(1, keepdim=True))
                labels.append(torch.zeros(bn, 1))
            logits = torch.cat(logits, 1)
            labels = torch.cat(labels, 1)
            loss = F.binary_cross_entropy_with_logits(logits, labels)
            sparse_opt.zero_grad()
            if dense_opt:
                dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            if dense_opt:
                dense_opt.step()
            loss_sum += float(loss)
            batches += 1
            samples += bn * (1 + R + S)
        seconds = time.time() - start
        train_seconds += seconds
        epochs.append({"epoch": epoch + 1, "loss": loss_sum / batches, "seconds": seconds,
                       "records_per_second": n * (1 + R + S) / seconds})
        print(json.dumps(epochs[-1]), file=sys.stderr)

    result = {"implementation": "pytorch " + torch.__version__, "threads": args.threads, "rows": n,
              "records_per_second": samples / train_seconds, "train_seconds": train_seconds,
              "epochs": epochs}
    if args.labels:
        l_entities, l_ips, labels, oracle = read_labels(args.labels)
        with torch.no_grad():
            u = entity(torch.from_numpy(entity_index(l_entities, args.num_entity_vectors)))
            lr_rows, lr_weights = prefix_rows(l_ips, args.ip_hash_buckets)
            scores = (u * encode(torch.from_numpy(lr_rows), torch.from_numpy(lr_weights))).sum(1).numpy()
        result.update(figures(scores, labels))
        if oracle is not None:
            result.update(figures(oracle, labels, "oracle_"))
    print(json.dumps(result))


def metrics(args):
    _, _, labels, oracle = read_labels(args.labels)
    scores = []
    with open(args.scores) as f:
        for line in f:
            if line.strip():
                scores.append(json.loads(line)["score"])
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
    t.add_argument("--ip-hash-buckets", type=int, default=262144)
    t.add_argument("--threads", type=int, default=2)
    t.add_argument("--seed", type=int, default=1)
    m = sub.add_parser("metrics")
    m.add_argument("--labels", required=True)
    m.add_argument("--scores", required=True)
    args = parser.parse_args()
    if args.mode == "train":
        np.random.seed(args.seed)
        train(args)
    else:
        metrics(args)


if __name__ == "__main__":
    main()
