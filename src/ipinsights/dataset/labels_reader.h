// Reading a labels CSV: the ground truth `evaluate --labels` scores against, as `simulate`
// writes it (DIR/labels.csv; docs/formats/labels-csv.md).
//
// Format: a header row naming the columns, in any order: `entity`, `ip`, `label`
// (required), `oracle_score` and `kind` (optional); other columns are ignored. Then one row per
// pair: label 0 = normal, 1 = anomalous; oracle_score a number (inf and -inf allowed: an
// oracle may be certain). Records are split by CsvRecordReader (the training CSV's
// grammar: docs/formats/training-csv.md).
//
// Unlike a training set, a labels file is the reference an evaluation is measured
// against: a bad row would silently change the figures, so any bad row is an Error, with
// the one bad-record message (FormatBadRecord): "labels.csv:12: bad label \"2\" (expected 0
// or 1)". `--strict` or not, the same.
//
// Thread-safety: ReadLabels is reentrant; the result is plain data.
//
//   LabeledPairs labels = ReadLabels("sim/labels.csv");
//   for (size_t i = 0; i < labels.size(); ++i) Use(labels.entities[i], labels.labels[i]);
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {

struct LabeledPairs {
  std::string text;                   // the file; entities point into it
  std::deque<std::string> unescaped;  // or into these (quoted fields with "" escapes)
  std::vector<std::string_view> entities;
  std::vector<IpAddress> ips;
  std::vector<uint8_t> labels;  // 1 = anomalous
  bool has_oracle = false;
  std::vector<float> oracle_scores;  // empty unless has_oracle
  // The `kind` column (attack kind; "normal" for label 0), where the header has one:
  // kinds[i] indexes kind_names, in order of first appearance. Empty unless has_kind.
  bool has_kind = false;
  std::vector<std::string> kind_names;
  std::vector<uint32_t> kinds;

  size_t size() const { return labels.size(); }
  LabeledPairs() = default;
  LabeledPairs(const LabeledPairs&) = delete;  // views point into this object
  LabeledPairs& operator=(const LabeledPairs&) = delete;
  LabeledPairs(LabeledPairs&&) = default;  // fine: `text` is never a short (SSO) string
};

// Reads and validates the whole file at `location`. Throws Error (see above); an empty
// file or one with only a header is an Error too.
LabeledPairs ReadLabels(const std::string& location);

// Parses labels CSV text; `name` is used in messages.
LabeledPairs ParseLabels(std::string text, const std::string& name);

}  // namespace ipinsights
