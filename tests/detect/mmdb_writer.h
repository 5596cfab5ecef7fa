// MmdbWriter: writes small MaxMind DB files (format 2.0, https://maxmind.github.io/MaxMind-DB/)
// so the tests need no downloaded database. The layout is MaxMind's own: a binary search tree
// (24-, 28- or 32-bit records), 16 zero bytes, the data section, then "\xAB\xCD\xEFMaxMind.com"
// and the metadata map. An IPv6 database (the default) keeps IPv4 networks under ::/96, where
// libmaxminddb looks for IPv4 addresses.
//
// Thread-safety: test-only, single-threaded use.
//
//   MmdbWriter writer("GeoLite2-ASN");
//   writer.Insert("1.2.3.0/24", MmdbMap({{"autonomous_system_number", MmdbUint32(64500)},
//                                        {"autonomous_system_organization", MmdbString("X")}}));
//   WriteFileBytes("asn.mmdb", writer.Build());
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipinsights/pairs/ip_address.h"

namespace ipinsights::testing {

// A value of the data section: the types the tests need.
struct MmdbValue {
  enum class Kind { kString, kUint16, kUint32, kUint64, kMap, kArray };
  Kind kind = Kind::kString;
  std::string text;
  uint64_t number = 0;
  std::vector<std::string> keys;  // kMap: keys[i] -> values[i]
  std::vector<MmdbValue> values;  // kMap, kArray
};

inline MmdbValue MmdbString(std::string text) {
  MmdbValue value;
  value.text = std::move(text);
  return value;
}
inline MmdbValue MmdbNumber(MmdbValue::Kind kind, uint64_t number) {
  MmdbValue value;
  value.kind = kind;
  value.number = number;
  return value;
}
inline MmdbValue MmdbUint16(uint16_t n) { return MmdbNumber(MmdbValue::Kind::kUint16, n); }
inline MmdbValue MmdbUint32(uint32_t n) { return MmdbNumber(MmdbValue::Kind::kUint32, n); }
inline MmdbValue MmdbUint64(uint64_t n) { return MmdbNumber(MmdbValue::Kind::kUint64, n); }
inline MmdbValue MmdbMap(std::vector<std::pair<std::string, MmdbValue>> members) {
  MmdbValue value;
  value.kind = MmdbValue::Kind::kMap;
  for (auto& [key, member] : members) {
    value.keys.push_back(key);
    value.values.push_back(std::move(member));
  }
  return value;
}
inline MmdbValue MmdbArray(std::vector<MmdbValue> elements) {
  MmdbValue value;
  value.kind = MmdbValue::Kind::kArray;
  value.values = std::move(elements);
  return value;
}

class MmdbWriter {
 public:
  explicit MmdbWriter(std::string database_type, int record_size = 24, int ip_version = 6)
      : database_type_(std::move(database_type)),
        record_size_(record_size),
        ip_version_(ip_version) {
    if (record_size != 24 && record_size != 28 && record_size != 32)
      throw std::invalid_argument("record size must be 24, 28 or 32");
  }

  // build_epoch of the metadata (2024-03-01 00:00:00 UTC unless set).
  uint64_t build_epoch = 1709251200;

  // Adds a network ("1.2.3.0/24", "2001:db8::/32") holding `value`. Nested networks may be
  // added in any order: the more specific one wins for its addresses.
  void Insert(std::string_view cidr, MmdbValue value) {
    size_t slash = cidr.find('/');
    std::optional<IpAddress> ip = IpAddress::Parse(cidr.substr(0, slash));
    if (slash == std::string_view::npos || !ip) throw std::invalid_argument("bad network");
    int length = std::stoi(std::string(cidr.substr(slash + 1)));
    std::array<uint8_t, 16> bits = ip->bytes();
    if (ip->is_v4()) {
      if (ip_version_ == 6) {
        bits[10] = bits[11] = 0;  // ::a.b.c.d, MaxMind's IPv4 subtree
        length += 96;
      } else {
        std::array<uint8_t, 16> v4{};
        std::copy(bits.begin() + 12, bits.end(), v4.begin());
        bits = v4;
      }
    } else if (ip_version_ == 4) {
      throw std::invalid_argument("IPv6 network in an IPv4 database");
    }
    networks_.push_back({bits, length, values_.size()});
    values_.push_back(std::move(value));
  }

  // The whole file. *data_section_start, when given, is the offset of the data section (the
  // first inserted value is encoded there), for tests that corrupt it.
  std::string Build(size_t* data_section_start = nullptr) const {
    // Less specific networks first, so a more specific one splits what they set.
    std::vector<Network> sorted = networks_;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const Network& a, const Network& b) { return a.length < b.length; });
    std::vector<Node> nodes(1);
    for (const Network& network : sorted) {
      uint32_t node = 0;
      for (int depth = 0; depth < network.length; ++depth) {
        int bit = (network.bits[depth / 8] >> (7 - depth % 8)) & 1;
        if (depth == network.length - 1) {
          nodes[node].records[bit] = {Record::kData, static_cast<uint32_t>(network.value)};
          break;
        }
        Record record = nodes[node].records[bit];
        if (record.kind == Record::kNode) {
          node = record.value;
          continue;
        }
        // Empty or data: a new node whose two halves keep what the record held.
        uint32_t child = static_cast<uint32_t>(nodes.size());
        nodes.push_back(Node{{record, record}});
        nodes[node].records[bit] = {Record::kNode, child};
        node = child;
      }
    }

    std::string data;
    std::vector<uint32_t> offsets;
    for (const MmdbValue& value : values_) {
      offsets.push_back(static_cast<uint32_t>(data.size()));
      Encode(value, &data);
    }

    const uint32_t node_count = static_cast<uint32_t>(nodes.size());
    auto record_value = [&](const Record& record) -> uint32_t {
      switch (record.kind) {
        case Record::kEmpty:
          return node_count;
        case Record::kNode:
          return record.value;
        case Record::kData:
          return node_count + 16 + offsets[record.value];
      }
      return node_count;
    };
    std::string file;
    for (const Node& node : nodes) {
      uint32_t left = record_value(node.records[0]);
      uint32_t right = record_value(node.records[1]);
      if (record_size_ == 24) {
        PutBigEndian(left, 3, &file);
        PutBigEndian(right, 3, &file);
      } else if (record_size_ == 28) {
        PutBigEndian(left & 0xffffff, 3, &file);
        file.push_back(static_cast<char>(((left >> 24) & 0x0f) << 4 | ((right >> 24) & 0x0f)));
        PutBigEndian(right & 0xffffff, 3, &file);
      } else {
        PutBigEndian(left, 4, &file);
        PutBigEndian(right, 4, &file);
      }
    }
    file.append(16, '\0');
    if (data_section_start != nullptr) *data_section_start = file.size();
    file += data;
    file += "\xAB\xCD\xEFMaxMind.com";
    Encode(MmdbMap({{"binary_format_major_version", MmdbUint16(2)},
                    {"binary_format_minor_version", MmdbUint16(0)},
                    {"build_epoch", MmdbUint64(build_epoch)},
                    {"database_type", MmdbString(database_type_)},
                    {"description", MmdbMap({{"en", MmdbString("ipinsights test database")}})},
                    {"ip_version", MmdbUint16(static_cast<uint16_t>(ip_version_))},
                    {"languages", MmdbArray({MmdbString("en")})},
                    {"node_count", MmdbUint32(node_count)},
                    {"record_size", MmdbUint16(static_cast<uint16_t>(record_size_))}}),
           &file);
    return file;
  }

 private:
  struct Network {
    std::array<uint8_t, 16> bits;
    int length;
    size_t value;
  };
  struct Record {
    enum Kind { kEmpty, kNode, kData } kind = kEmpty;
    uint32_t value = 0;  // kNode: node index; kData: index in values_
  };
  struct Node {
    Record records[2];
  };

  static void PutBigEndian(uint64_t value, int bytes, std::string* out) {
    for (int i = bytes - 1; i >= 0; --i)
      out->push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }

  // Control byte: type in the top 3 bits (0 = extended: type - 7 in the next byte), size in
  // the low 5 (29, 30, 31: the size continues in 1, 2, 3 more bytes).
  static void Control(int type, size_t size, std::string* out) {
    uint8_t size_bits;
    std::string size_bytes;
    if (size < 29) {
      size_bits = static_cast<uint8_t>(size);
    } else if (size < 29 + 256) {
      size_bits = 29;
      PutBigEndian(size - 29, 1, &size_bytes);
    } else if (size < 285 + 65536) {
      size_bits = 30;
      PutBigEndian(size - 285, 2, &size_bytes);
    } else {
      size_bits = 31;
      PutBigEndian(size - 65821, 3, &size_bytes);
    }
    out->push_back(static_cast<char>(((type <= 7 ? type : 0) << 5) | size_bits));
    if (type > 7) out->push_back(static_cast<char>(type - 7));
    *out += size_bytes;
  }

  static void EncodeUnsigned(int type, uint64_t number, std::string* out) {
    int bytes = 0;
    for (uint64_t rest = number; rest != 0; rest >>= 8) ++bytes;
    Control(type, static_cast<size_t>(bytes), out);
    PutBigEndian(number, bytes, out);
  }

  static void Encode(const MmdbValue& value, std::string* out) {
    switch (value.kind) {
      case MmdbValue::Kind::kString:
        Control(2, value.text.size(), out);
        *out += value.text;
        break;
      case MmdbValue::Kind::kUint16:
        EncodeUnsigned(5, value.number, out);
        break;
      case MmdbValue::Kind::kUint32:
        EncodeUnsigned(6, value.number, out);
        break;
      case MmdbValue::Kind::kUint64:
        EncodeUnsigned(9, value.number, out);
        break;
      case MmdbValue::Kind::kMap:
        Control(7, value.keys.size(), out);
        for (size_t i = 0; i < value.keys.size(); ++i) {
          Encode(MmdbString(value.keys[i]), out);
          Encode(value.values[i], out);
        }
        break;
      case MmdbValue::Kind::kArray:
        Control(11, value.values.size(), out);
        for (const MmdbValue& element : value.values) Encode(element, out);
        break;
    }
  }

  std::string database_type_;
  int record_size_;
  int ip_version_;
  std::vector<Network> networks_;
  std::vector<MmdbValue> values_;
};

}  // namespace ipinsights::testing
