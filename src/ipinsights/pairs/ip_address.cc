#include "ipinsights/pairs/ip_address.h"

namespace ipinsights {
namespace {

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }

inline int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Parses a strict dotted quad into `out` (network order). Whole string must match.
bool ParseDottedQuad(std::string_view text, uint8_t out[4]) {
  size_t pos = 0;
  for (int part = 0; part < 4; ++part) {
    if (part > 0) {
      if (pos >= text.size() || text[pos] != '.') return false;
      ++pos;
    }
    size_t start = pos;
    unsigned value = 0;
    while (pos < text.size() && IsDigit(text[pos]) && pos - start < 3) {
      value = value * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    const size_t digits = pos - start;
    if (digits == 0 || value > 255) return false;
    if (digits > 1 && text[start] == '0') return false;  // leading zero: octal in some stacks
    out[part] = static_cast<uint8_t>(value);
  }
  return pos == text.size();
}

}  // namespace

IpAddress IpAddress::FromV4(uint32_t host_order) {
  IpAddress ip;
  ip.bytes_[10] = 0xff;
  ip.bytes_[11] = 0xff;
  ip.bytes_[12] = static_cast<uint8_t>(host_order >> 24);
  ip.bytes_[13] = static_cast<uint8_t>(host_order >> 16);
  ip.bytes_[14] = static_cast<uint8_t>(host_order >> 8);
  ip.bytes_[15] = static_cast<uint8_t>(host_order);
  return ip;
}

IpAddress IpAddress::FromBytes(const std::array<uint8_t, 16>& bytes) {
  IpAddress ip;
  ip.bytes_ = bytes;
  return ip;
}

IpAddress IpAddress::FromHalves(uint64_t high, uint64_t low) {
  IpAddress ip;
  for (int i = 0; i < 8; ++i) {
    ip.bytes_[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
    ip.bytes_[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
  }
  return ip;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  // A colon can only appear in IPv6; a dotted quad has none.
  for (char c : text) {
    if (c == ':') return ParseV6(text);
  }
  return ParseV4(text);
}

std::optional<IpAddress> IpAddress::ParseV4(std::string_view text) {
  if (text.size() < 7 || text.size() > 15) return std::nullopt;
  uint8_t quad[4];
  if (!ParseDottedQuad(text, quad)) return std::nullopt;
  IpAddress ip;
  ip.bytes_[10] = 0xff;
  ip.bytes_[11] = 0xff;
  std::memcpy(&ip.bytes_[12], quad, 4);
  return ip;
}

std::optional<IpAddress> IpAddress::ParseV6(std::string_view text) {
  if (text.size() < 2 || text.size() > 45) return std::nullopt;
  uint16_t groups[8] = {0};
  int count = 0;         // groups parsed
  int compress_at = -1;  // index in `groups` where "::" stands
  size_t pos = 0;
  if (text[0] == ':') {
    if (text[1] != ':') return std::nullopt;  // a lone leading colon
    compress_at = 0;
    pos = 2;
    if (pos == text.size()) {  // "::"
      return IpAddress();
    }
  }
  while (pos < text.size()) {
    if (count == 8) return std::nullopt;
    // Find the extent of this field.
    size_t end = pos;
    while (end < text.size() && text[end] != ':') ++end;
    std::string_view field = text.substr(pos, end - pos);
    if (field.empty()) return std::nullopt;
    if (field.find('.') != std::string_view::npos) {
      // A trailing dotted quad: must be the last field and leave room for two groups.
      if (end != text.size() || count > 6) return std::nullopt;
      uint8_t quad[4];
      if (!ParseDottedQuad(field, quad)) return std::nullopt;
      groups[count++] = static_cast<uint16_t>(quad[0] << 8 | quad[1]);
      groups[count++] = static_cast<uint16_t>(quad[2] << 8 | quad[3]);
      pos = end;
      break;
    }
    if (field.size() > 4) return std::nullopt;
    unsigned value = 0;
    for (char c : field) {
      int h = HexValue(c);
      if (h < 0) return std::nullopt;
      value = value << 4 | static_cast<unsigned>(h);
    }
    groups[count++] = static_cast<uint16_t>(value);
    pos = end;
    if (pos == text.size()) break;
    // pos is at ':'.
    if (pos + 1 < text.size() && text[pos + 1] == ':') {
      if (compress_at >= 0) return std::nullopt;  // a second "::"
      compress_at = count;
      pos += 2;
    } else {
      ++pos;
      if (pos == text.size()) return std::nullopt;  // a trailing single colon
    }
  }
  if (compress_at >= 0) {
    if (count > 7) return std::nullopt;  // "::" must stand for at least one group
  } else if (count != 8) {
    return std::nullopt;
  }
  uint16_t full[8] = {0};
  if (compress_at >= 0) {
    const int tail = count - compress_at;
    for (int i = 0; i < compress_at; ++i) full[i] = groups[i];
    for (int i = 0; i < tail; ++i) full[8 - tail + i] = groups[compress_at + i];
  } else {
    for (int i = 0; i < 8; ++i) full[i] = groups[i];
  }
  IpAddress ip;
  for (int i = 0; i < 8; ++i) {
    ip.bytes_[2 * i] = static_cast<uint8_t>(full[i] >> 8);
    ip.bytes_[2 * i + 1] = static_cast<uint8_t>(full[i]);
  }
  return ip;
}

uint64_t IpAddress::high64() const {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | bytes_[i];
  return v;
}

uint64_t IpAddress::low64() const {
  uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = v << 8 | bytes_[i];
  return v;
}

size_t IpAddress::Format(char* out) const {
  char* p = out;
  auto put_decimal = [&p](unsigned v) {
    if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
    if (v >= 10) *p++ = static_cast<char>('0' + v / 10 % 10);
    *p++ = static_cast<char>('0' + v % 10);
  };
  if (is_v4()) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) *p++ = '.';
      put_decimal(bytes_[i]);
    }
    return static_cast<size_t>(p - out);
  }
  uint16_t groups[8];
  for (int i = 0; i < 8; ++i)
    groups[i] = static_cast<uint16_t>(bytes_[2 * i] << 8 | bytes_[2 * i + 1]);
  // RFC 5952: compress the longest run of two or more zero groups (the first on a tie).
  int best_start = -1, best_length = 0;
  for (int i = 0; i < 8;) {
    if (groups[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && groups[j] == 0) ++j;
    if (j - i > best_length && j - i >= 2) {
      best_start = i;
      best_length = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      *p++ = ':';
      *p++ = ':';
      i += best_length - 1;
      continue;
    }
    if (i > 0 && i != best_start + best_length) *p++ = ':';
    const unsigned g = groups[i];
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = (g >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        *p++ = kHex[nibble];
        started = true;
      }
    }
  }
  return static_cast<size_t>(p - out);
}

std::string IpAddress::ToString() const {
  char buffer[kMaxTextLength];
  return std::string(buffer, Format(buffer));
}

}  // namespace ipinsights
