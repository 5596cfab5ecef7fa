// Shard: the I-th of N pieces of one `prepare` run, for running it on N machines at once
// (AWS Batch array jobs, Kubernetes Indexed Jobs, or N processes on one machine).
//
// The unit of work is the run's object list (logs/log_listing.h ListLogObjects, pruned and
// sorted: the list a single-machine run reads) cut into N contiguous ranges balanced by
// stored bytes. Each shard writes the rows of its range to `part-I-of-N`, so the parts
// concatenated in index order are the single-machine output byte for byte. The cut depends
// only on the list (locations and sizes), so every shard computes the same cut on its own
// and a shard run again computes the same range. Formats: docs/formats/training-csv.md.
//
// Thread-safety: pure functions.
//
//   std::optional<Shard> shard = ParseShard("2/8");                 // or:
//   std::optional<Shard> shard = ShardFromEnvironment(std::getenv);  // AWS Batch, Kubernetes
//   ShardBounds range = ShardRange(objects, *shard);
//   std::string part = ShardPartLocation("s3://b/train/", *shard);  // s3://b/train/part-2-of-8
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/storage/storage.h"

namespace ipinsights {

struct Shard {
  size_t index = 0;  // 0-based, below count (as AWS_BATCH_JOB_ARRAY_INDEX, JOB_COMPLETION_INDEX)
  size_t count = 1;
  bool operator==(const Shard&) const = default;
};

// Shard counts above this are refused (AWS Batch arrays stop at 10,000).
inline constexpr size_t kMaxShards = 100000;

// "I/N" (decimal, 0 <= I < N <= kMaxShards). Throws UsageError naming `flag` and the text:
//   --shard "3/3": the index must be below the count (0..2)
std::optional<Shard> ParseShard(std::string_view text, std::string_view flag = "--shard");

// The shard the environment gives: AWS_BATCH_JOB_ARRAY_INDEX with AWS_BATCH_JOB_ARRAY_SIZE
// (AWS Batch array jobs), or JOB_COMPLETION_INDEX with IPINSIGHTS_SHARD_COUNT (Kubernetes
// Indexed Jobs). nullopt when neither variable of either pair is set (an empty value counts
// as unset). Throws UsageError naming the variables when a pair is half set, a value is not
// a valid index or count, or both pairs are set and disagree. `getenv` looks up a variable
// (std::getenv; tests pass their own).
std::optional<Shard> ShardFromEnvironment(const std::function<const char*(const char*)>& getenv);

// Objects [begin, end) of a list.
struct ShardBounds {
  size_t begin = 0;
  size_t end = 0;
  bool operator==(const ShardBounds&) const = default;
};

// The shard's contiguous range of `objects`: object i (stored bytes before it B_i, size
// s_i, all of them S) belongs to shard floor((B_i + s_i / 2) * N / S), the shard its middle
// byte falls in; with S = 0, to floor(i * N / size). The ranges of shards 0..N-1 are
// contiguous, in order, cover the list exactly once and may be empty (more shards than
// objects, or one object bigger than a shard's share).
ShardBounds ShardRange(const std::vector<ObjectInfo>& objects, const Shard& shard);

// "part-I-of-N", I zero-padded to the digits of N-1 so that names sort in index order:
// part-03-of-12, part-3-of-7.
std::string ShardPartName(const Shard& shard);

// The part's location under the folder or S3 prefix `destination`: "DEST/part-I-of-N"
// ("DEST" with or without a trailing '/'). Its summary is that plus kShardSummarySuffix.
std::string ShardPartLocation(const std::string& destination, const Shard& shard);
inline constexpr std::string_view kShardSummarySuffix = ".summary.json";

// The part index and count a file name (no folder) names: "part-03-of-12" -> {3, 12}, also
// unpadded "part-3-of-12"; nullopt for any other name (summaries included).
std::optional<Shard> ParsePartName(std::string_view name);

}  // namespace ipinsights
