#include "ipinsights/detect/aws_ip_ranges.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <optional>
#include <utility>

#include "ipinsights/base/error.h"
#include "ipinsights/logs/json_error_locator.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

namespace ondemand = simdjson::ondemand;
using u128 = unsigned __int128;

constexpr std::string_view kAmazon = "AMAZON";

// One entry of "prefixes" or "ipv6_prefixes", checked.
struct Entry {
  IpAddress network;
  int length = 0;
  std::string service;
  std::string region;
};

u128 Key128(const IpAddress& ip) { return (u128{ip.high64()} << 64) | ip.low64(); }

// Parses "a.b.c.d/n" (or an IPv6 prefix); returns the reason it is not one, "" when it is.
std::string ParsePrefix(std::string_view text, bool v6, IpAddress* network, int* length) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return "has no prefix length";
  std::string_view digits = text.substr(slash + 1);
  const int max_length = v6 ? 128 : 32;
  if (digits.empty() || digits.size() > 3 || (digits.size() > 1 && digits[0] == '0'))
    return "has a bad prefix length";
  int n = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return "has a bad prefix length";
    n = n * 10 + (c - '0');
  }
  if (n > max_length) return fmt::format("has a prefix length over {}", max_length);
  std::optional<IpAddress> address =
      v6 ? IpAddress::ParseV6(text.substr(0, slash)) : IpAddress::ParseV4(text.substr(0, slash));
  if (!address) return v6 ? "is not an IPv6 prefix" : "is not an IPv4 prefix";
  // IPv4 addresses are stored IPv4-mapped; an IPv6 prefix in that space would be looked up
  // in neither table, so it is refused rather than silently never matched.
  if (v6 && address->is_v4()) return "is an IPv4-mapped prefix; list it under \"prefixes\"";
  // Host bits: the bits after the first (96 + n) of the mapped form, or n of an IPv6 one.
  const int bits = v6 ? n : 96 + n;
  const std::array<uint8_t, 16>& bytes = address->bytes();
  for (int bit = bits; bit < 128; ++bit) {
    if (bytes[bit / 8] & (0x80 >> (bit % 8))) return "has host bits set";
  }
  *network = *address;
  *length = n;
  return "";
}

// The offset of the first byte that is not part of valid UTF-8 (RFC 3629); text.size() when
// all of it is. Only for messages: simdjson says that the text is not UTF-8, not where.
size_t FirstInvalidUtf8(std::string_view text) {
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
    const uint8_t lead = byte(i);
    size_t length;
    uint8_t low = 0x80, high = 0xbf;  // the allowed range of the second byte
    if (lead < 0x80) {
      ++i;
      continue;
    } else if (lead >= 0xc2 && lead <= 0xdf) {
      length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
      length = 3;
      if (lead == 0xe0) low = 0xa0;   // overlong
      if (lead == 0xed) high = 0x9f;  // surrogates
    } else if (lead >= 0xf0 && lead <= 0xf4) {
      length = 4;
      if (lead == 0xf0) low = 0x90;   // overlong
      if (lead == 0xf4) high = 0x8f;  // over U+10FFFF
    } else {
      return i;
    }
    if (i + length > text.size()) return i;
    if (byte(i + 1) < low || byte(i + 1) > high) return i;
    for (size_t k = 2; k < length; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return i;
    }
    i += length;
  }
  return text.size();
}

class RangesParser {
 public:
  RangesParser(const std::string& location, std::string_view text)
      : location_(location), text_(text), padded_(text) {}

  // Fills the entries of both families, the createDate and the syncToken.
  void Parse(std::vector<Entry>* v4, std::vector<Entry>* v6, std::string* create_date) {
    ondemand::parser parser;
    if (auto error = parser.iterate(padded_).get(doc_)) FailJson(error, "not JSON");
    doc_started_ = true;
    ondemand::object root;
    if (auto error = doc_.get_object().get(root)) FailJson(error, "not a JSON object");
    bool has_prefixes = false;
    for (auto field_result : root) {
      ondemand::field field;
      std::string_view key;
      if (auto error = std::move(field_result).get(field)) FailJson(error, "bad object member");
      if (auto error = field.unescaped_key().get(key)) FailJson(error, "bad object key");
      if (key == "createDate") {
        std::string_view text;
        if (auto error = field.value().get_string().get(text))
          FailJson(error, "createDate is not a string");
        *create_date = std::string(text);
      } else if (key == "prefixes") {
        ReadEntries(field.value(), "prefixes", "ip_prefix", false, v4);
        has_prefixes = true;
      } else if (key == "ipv6_prefixes") {
        ReadEntries(field.value(), "ipv6_prefixes", "ipv6_prefix", true, v6);
        has_prefixes = true;
      }
      // Other members (syncToken, any added later) are not read.
    }
    // Past the document's end, the iterator has no location.
    const char* rest = nullptr;
    if (doc_.current_location().get(rest) == simdjson::SUCCESS)
      Fail(CurrentOffset(), "text after the JSON document");
    if (!has_prefixes) Fail(0, "not ip-ranges.json: no \"prefixes\" or \"ipv6_prefixes\"");
  }

 private:
  void ReadEntries(ondemand::value value, std::string_view array_name, std::string_view prefix_key,
                   bool v6, std::vector<Entry>* out) {
    ondemand::array array;
    if (auto error = value.get_array().get(array))
      FailJson(error, fmt::format("{} is not an array", array_name));
    size_t index = 0;
    for (auto element : array) {
      ondemand::value entry_value;
      if (auto error = element.get(entry_value))
        FailJson(error, fmt::format("{}[{}]: bad entry", array_name, index));
      const char* start = nullptr;
      size_t entry_offset = entry_value.current_location().get(start) == simdjson::SUCCESS
                                ? static_cast<size_t>(start - padded_.data())
                                : text_.size();
      const std::string where = fmt::format("{}[{}]", array_name, index);
      ondemand::object object;
      if (auto error = entry_value.get_object().get(object))
        FailJson(error, where + ": not a JSON object");
      std::optional<std::string> prefix, service, region;
      for (auto field_result : object) {
        ondemand::field field;
        std::string_view key;
        if (auto error = std::move(field_result).get(field))
          FailJson(error, where + ": bad member");
        if (auto error = field.unescaped_key().get(key)) FailJson(error, where + ": bad key");
        std::optional<std::string>* slot = key == prefix_key  ? &prefix
                                           : key == "service" ? &service
                                           : key == "region"  ? &region
                                                              : nullptr;
        if (slot == nullptr) continue;  // network_border_group and the like are not read
        std::string_view text;
        if (auto error = field.value().get_string().get(text))
          FailJson(error, fmt::format("{}: {} is not a string", where, key));
        *slot = std::string(text);
      }
      if (!prefix) Fail(entry_offset, fmt::format("{}: no {}", where, prefix_key));
      if (!service) Fail(entry_offset, where + ": no service");
      if (!region) Fail(entry_offset, where + ": no region");
      if (service->empty()) Fail(entry_offset, where + ": service is empty");
      if (region->empty()) Fail(entry_offset, where + ": region is empty");
      Entry entry;
      std::string problem = ParsePrefix(*prefix, v6, &entry.network, &entry.length);
      if (!problem.empty())
        Fail(entry_offset,
             fmt::format("{}: {} \"{}\" {}", where, prefix_key, prefix->substr(0, 64), problem));
      entry.service = std::move(*service);
      entry.region = std::move(*region);
      out->push_back(std::move(entry));
      ++index;
    }
  }

  size_t CurrentOffset() {
    if (!doc_started_) return 0;
    const char* location = nullptr;
    if (doc_.current_location().get(location) != simdjson::SUCCESS) return text_.size();
    return static_cast<size_t>(location - padded_.data());
  }

  [[noreturn]] void Fail(size_t offset, std::string_view why) const {
    throw Error(fmt::format("{}: byte {}: {}", location_, offset, why));
  }

  // On-Demand reports a syntax error where it happens to stop (or not at all when the bad
  // text is in a member we skip), so the strict locator says where the text is not JSON;
  // only valid JSON of the wrong shape is reported where the iterator stands.
  [[noreturn]] void FailJson(simdjson::error_code error, std::string_view what) {
    if (error == simdjson::UTF8_ERROR) Fail(FirstInvalidUtf8(text_), "not UTF-8");
    JsonErrorLocation where = LocateJsonError(text_);
    if (where.found) Fail(where.offset, "malformed JSON (" + where.message + ")");
    size_t after = where.end;
    while (after < text_.size() && (text_[after] == ' ' || text_[after] == '\n' ||
                                    text_[after] == '\r' || text_[after] == '\t'))
      ++after;
    if (after < text_.size()) Fail(after, "text after the JSON document");
    Fail(CurrentOffset(), fmt::format("{} ({})", what, simdjson::error_message(error)));
  }

  const std::string& location_;
  std::string_view text_;
  simdjson::padded_string padded_;
  ondemand::document doc_;
  bool doc_started_ = false;  // iterate() succeeded: doc_ may be asked where it stands
};

// Merges the entries of one family into distinct ranges (sorted by network, then length:
// an enclosing prefix before the ones it holds) and builds its interval table.
template <typename Key>
void BuildTable(std::vector<Entry> entries, bool v6, std::vector<AwsRange>* ranges,
                std::vector<Key>* starts, std::vector<int32_t>* covering) {
  auto key_of = [&](const IpAddress& ip) -> Key {
    if constexpr (sizeof(Key) == 4) {
      return ip.v4();
    } else {
      return Key128(ip);
    }
  };
  const int key_bits = v6 ? 128 : 32;
  // Not numeric_limits: strict -std=c++20 does not specialise it for __int128.
  constexpr Key kMaxKey = static_cast<Key>(~Key{0});
  auto last_of = [&](Key first, int length) -> Key {
    if (length == key_bits) return first;  // a shift by the key's width is undefined
    return first | static_cast<Key>(kMaxKey >> length);
  };
  // Stable: among entries of one prefix, file order decides which non-AMAZON service wins.
  std::stable_sort(entries.begin(), entries.end(), [&](const Entry& a, const Entry& b) {
    Key ka = key_of(a.network), kb = key_of(b.network);
    return ka != kb ? ka < kb : a.length < b.length;
  });

  struct Open {
    Key last;
    int32_t range;
  };
  std::vector<Open> stack;  // the ranges holding the current position, outermost first
  auto emit = [&](Key start, int32_t range) {
    // Several boundaries can fall on one address (a range and its first sub-range start
    // together; nested ranges end together): the last one written is the innermost.
    if (!starts->empty() && starts->back() == start) {
      covering->back() = range;
    } else {
      starts->push_back(start);
      covering->push_back(range);
    }
  };
  auto close_before = [&](std::optional<Key> next_first) {
    while (!stack.empty() && (!next_first || stack.back().last < *next_first)) {
      Key last = stack.back().last;
      stack.pop_back();
      if (last == kMaxKey) continue;  // nothing after the space's end
      emit(last + 1, stack.empty() ? -1 : stack.back().range);
    }
  };

  for (size_t i = 0; i < entries.size();) {
    const Key first = key_of(entries[i].network);
    const int length = entries[i].length;
    // The entries of this one prefix: [i, j).
    size_t j = i;
    const Entry* named = nullptr;  // the first entry naming a service other than AMAZON
    while (j < entries.size() && key_of(entries[j].network) == first &&
           entries[j].length == length) {
      if (named == nullptr && entries[j].service != kAmazon) named = &entries[j];
      ++j;
    }
    close_before(first);
    AwsRange range;
    range.network = entries[i].network;
    range.length = length;
    range.prefix = fmt::format("{}/{}", entries[i].network.ToString(), length);
    if (named != nullptr) {
      range.service = named->service;
      range.region = named->region;
    } else {
      range.service = stack.empty() ? std::string(kAmazon) : (*ranges)[stack.back().range].service;
      range.region = entries[i].region;
    }
    const int32_t index = static_cast<int32_t>(ranges->size());
    ranges->push_back(std::move(range));
    emit(first, index);
    stack.push_back({last_of(first, length), index});
    i = j;
  }
  close_before(std::nullopt);
}

template <typename Key>
int32_t FindCovering(const std::vector<Key>& starts, const std::vector<int32_t>& covering,
                     Key key) {
  auto it = std::upper_bound(starts.begin(), starts.end(), key);
  if (it == starts.begin()) return -1;
  return covering[static_cast<size_t>(it - starts.begin()) - 1];
}

std::string BaseName(const std::string& location) {
  size_t slash = location.find_last_of('/');
  return slash == std::string::npos ? location : location.substr(slash + 1);
}

}  // namespace

AwsIpRanges AwsIpRanges::Parse(const std::string& location, std::string_view text) {
  std::vector<Entry> v4, v6;
  std::string create_date;
  RangesParser(location, text).Parse(&v4, &v6, &create_date);

  AwsIpRanges result;
  BuildTable(std::move(v4), false, &result.ranges_, &result.v4_starts_, &result.v4_covering_);
  // IPv6 range indexes continue after the IPv4 ones in the one ranges_ vector.
  const int32_t v6_base = static_cast<int32_t>(result.ranges_.size());
  std::vector<AwsRange> v6_ranges;
  BuildTable(std::move(v6), true, &v6_ranges, &result.v6_starts_, &result.v6_covering_);
  for (int32_t& index : result.v6_covering_) {
    if (index >= 0) index += v6_base;
  }
  for (AwsRange& range : v6_ranges) result.ranges_.push_back(std::move(range));
  result.description_ = BaseName(location);
  if (!create_date.empty()) result.description_ += " " + create_date;
  return result;
}

AwsIpRanges AwsIpRanges::Load(const std::string& location) {
  std::string text;
  OpenStorage(location).ReadAll(location, &text);
  return Parse(location, text);
}

const AwsRange* AwsIpRanges::Find(const IpAddress& ip) const {
  const int32_t index = ip.is_v4() ? FindCovering(v4_starts_, v4_covering_, ip.v4())
                                   : FindCovering(v6_starts_, v6_covering_, Key128(ip));
  return index < 0 ? nullptr : &ranges_[static_cast<size_t>(index)];
}

}  // namespace ipinsights
