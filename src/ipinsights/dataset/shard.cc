#include "ipinsights/dataset/shard.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"

namespace ipinsights {
namespace {

// A plain decimal number (digits only, no sign or blanks) up to kMaxShards.
std::optional<size_t> ParseCount(std::string_view text) {
  if (text.empty() || text.size() > 9) return std::nullopt;
  size_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

size_t Digits(size_t value) {
  size_t digits = 1;
  while (value >= 10) {
    value /= 10;
    ++digits;
  }
  return digits;
}

// An environment variable, nullptr when unset or empty.
const char* Variable(const std::function<const char*(const char*)>& getenv, const char* name) {
  const char* value = getenv(name);
  return value != nullptr && *value != '\0' ? value : nullptr;
}

// The shard of one engine's pair of variables; nullopt when neither is set.
std::optional<Shard> ShardFromPair(const std::function<const char*(const char*)>& getenv,
                                   const char* index_name, const char* count_name,
                                   const char* engine) {
  const char* index = Variable(getenv, index_name);
  const char* count = Variable(getenv, count_name);
  if (index == nullptr && count == nullptr) return std::nullopt;
  if (index == nullptr || count == nullptr) {
    throw UsageError(fmt::format(
        "{} is set but {} is not: {} shards need both (the 0-based index and the number of "
        "shards), or pass --shard I/N",
        index ? index_name : count_name, index ? count_name : index_name, engine));
  }
  const std::optional<size_t> i = ParseCount(index);
  const std::optional<size_t> n = ParseCount(count);
  if (!n || *n == 0 || *n > kMaxShards) {
    throw UsageError(fmt::format("{}={}: expected a number of shards from 1 to {}", count_name,
                                 QuoteForMessage(count), kMaxShards));
  }
  if (!i || *i >= *n) {
    throw UsageError(fmt::format("{}={}: expected a 0-based shard index below {}={}", index_name,
                                 QuoteForMessage(index), count_name, *n));
  }
  return Shard{*i, *n};
}

}  // namespace

std::optional<Shard> ParseShard(std::string_view text, std::string_view flag) {
  const size_t slash = text.find('/');
  const std::optional<size_t> index =
      slash == std::string_view::npos ? std::nullopt : ParseCount(text.substr(0, slash));
  const std::optional<size_t> count =
      slash == std::string_view::npos ? std::nullopt : ParseCount(text.substr(slash + 1));
  if (!index || !count) {
    throw UsageError(fmt::format(
        "{} {}: expected I/N, the 0-based shard index I below the number of shards N (e.g. 0/4)",
        flag, QuoteForMessage(text)));
  }
  if (*count == 0 || *count > kMaxShards) {
    throw UsageError(fmt::format("{} {}: the number of shards must be from 1 to {}", flag,
                                 QuoteForMessage(text), kMaxShards));
  }
  if (*index >= *count) {
    throw UsageError(fmt::format("{} {}: the index is 0-based and must be below the count ({}..{})",
                                 flag, QuoteForMessage(text), 0, *count - 1));
  }
  return Shard{*index, *count};
}

std::optional<Shard> ShardFromEnvironment(const std::function<const char*(const char*)>& getenv) {
  std::optional<Shard> batch =
      ShardFromPair(getenv, "AWS_BATCH_JOB_ARRAY_INDEX", "AWS_BATCH_JOB_ARRAY_SIZE", "AWS Batch");
  std::optional<Shard> kubernetes =
      ShardFromPair(getenv, "JOB_COMPLETION_INDEX", "IPINSIGHTS_SHARD_COUNT", "Kubernetes");
  if (batch && kubernetes && !(*batch == *kubernetes)) {
    throw UsageError(fmt::format(
        "AWS_BATCH_JOB_ARRAY_INDEX/AWS_BATCH_JOB_ARRAY_SIZE say shard {}/{} but "
        "JOB_COMPLETION_INDEX/IPINSIGHTS_SHARD_COUNT say {}/{}: unset one pair, or pass --shard",
        batch->index, batch->count, kubernetes->index, kubernetes->count));
  }
  return batch ? batch : kubernetes;
}

ShardBounds ShardRange(const std::vector<ObjectInfo>& objects, const Shard& shard) {
  IPI_CHECK(shard.count > 0 && shard.index < shard.count);
  unsigned __int128 total = 0;
  for (const ObjectInfo& object : objects) total += object.size;
  // The shard of object i; non-decreasing in i, so each shard's objects are contiguous.
  // Twice the middle byte keeps the arithmetic in integers.
  auto shard_of = [&, before = static_cast<unsigned __int128>(0)](size_t i) mutable {
    size_t owner;
    if (total == 0) {
      owner = i * shard.count / objects.size();
    } else {
      owner = static_cast<size_t>((2 * before + objects[i].size) * shard.count / (2 * total));
    }
    before += objects[i].size;
    // Empty objects after the last byte sit at the end: they belong to the last shard.
    return std::min(owner, shard.count - 1);
  };
  ShardBounds bounds{objects.size(), objects.size()};
  bool found_begin = false;
  for (size_t i = 0; i < objects.size(); ++i) {
    const size_t owner = shard_of(i);
    if (!found_begin && owner >= shard.index) {
      bounds.begin = i;
      found_begin = true;
    }
    if (owner > shard.index) {
      bounds.end = i;
      break;
    }
  }
  return bounds;
}

std::string ShardPartName(const Shard& shard) {
  return fmt::format("part-{:0{}}-of-{}", shard.index, Digits(shard.count - 1), shard.count);
}

std::string ShardPartLocation(const std::string& destination, const Shard& shard) {
  const bool has_slash = !destination.empty() && destination.back() == '/';
  return destination + (has_slash ? "" : "/") + ShardPartName(shard);
}

std::optional<Shard> ParsePartName(std::string_view name) {
  constexpr std::string_view kPrefix = "part-", kOf = "-of-";
  if (name.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  name.remove_prefix(kPrefix.size());
  const size_t of = name.find(kOf);
  if (of == std::string_view::npos) return std::nullopt;
  const std::optional<size_t> index = ParseCount(name.substr(0, of));
  const std::optional<size_t> count = ParseCount(name.substr(of + kOf.size()));
  if (!index || !count || *index >= *count) return std::nullopt;
  return Shard{*index, *count};
}

}  // namespace ipinsights
