#include "ipinsights/base/json_text.h"

#include <fmt/compile.h>
#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace ipinsights {

size_t ValidUtf8Length(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t min;
  uint32_t code;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2, min = 0x80, code = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3, min = 0x800, code = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4, min = 0x10000, code = c & 0x07;
  } else {
    return 0;
  }
  if (n < len) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    code = (code << 6) | (s[i] & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return len;
}

namespace {

// PlainPrefix(s): how many of the kBlock bytes at s AppendJsonString copies as they are
// before the first one that needs care (a control character, '"', '\\', or a byte >= 0x80
// to be checked as UTF-8); kBlock when none does. Most log text (URIs, user agents, ids)
// needs no escape, so it is skipped a block at a time and copied with one append.
#if defined(__SSE2__)
constexpr size_t kBlock = 16;

inline size_t PlainPrefix(const unsigned char* s) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));
  // Signed compare: bytes >= 0x80 are negative, so "< 0x20" catches them with the controls.
  const __m128i care = _mm_or_si128(_mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20)),
                                    _mm_or_si128(_mm_cmpeq_epi8(bytes, _mm_set1_epi8('"')),
                                                 _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'))));
  const unsigned mask = static_cast<unsigned>(_mm_movemask_epi8(care));
  return mask == 0 ? kBlock : static_cast<size_t>(__builtin_ctz(mask));
}
#else
constexpr size_t kBlock = 8;

// The zero-byte tests ((v - 0x01..) & ~v & 0x80..) are exact about "any byte", which is all
// this asks: a block that answers yes is walked byte by byte.
inline size_t PlainPrefix(const unsigned char* s) {
  constexpr uint64_t kOnes = 0x0101010101010101;
  constexpr uint64_t kHigh = 0x8080808080808080;
  uint64_t word;
  std::memcpy(&word, s, sizeof(word));
  const uint64_t quote = word ^ (kOnes * '"');
  const uint64_t backslash = word ^ (kOnes * '\\');
  const uint64_t below_space = (word - kOnes * 0x20) & ~word;
  const uint64_t care =
      (below_space | ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) | word) &
      kHigh;
  return care == 0 ? kBlock : 0;
}
#endif

}  // namespace

char* WriteJsonString(char* out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  *out++ = '"';
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const size_t n = text.size();
  size_t run = 0;  // start of the pending run of bytes copied unchanged
  for (size_t i = 0; i < n;) {
    if (i + kBlock <= n) {
      const size_t plain = PlainPrefix(s + i);
      i += plain;
      if (plain == kBlock) continue;
    }
    unsigned char c = s[i];
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = ValidUtf8Length(s + i, n - i);
      if (len > 0) {
        i += len;
        continue;
      }
    }
    std::memcpy(out, text.data() + run, i - run);
    out += i - run;
    *out++ = '\\';
    switch (c) {
      case '"':
      case '\\':
        *out++ = static_cast<char>(c);
        break;
      case '\n':
        *out++ = 'n';
        break;
      case '\r':
        *out++ = 'r';
        break;
      case '\t':
        *out++ = 't';
        break;
      case '\b':
        *out++ = 'b';
        break;
      case '\f':
        *out++ = 'f';
        break;
      default:
        if (c < 0x20) {
          std::memcpy(out, "u00", 3);
          out[3] = kHex[c >> 4];
          out[4] = kHex[c & 15];
        } else {
          std::memcpy(out, "ufffd", 5);  // a byte of invalid UTF-8
        }
        out += 5;
    }
    ++i;
    run = i;
  }
  if (n > run) {  // an empty view's data() may be null, which memcpy must not get
    std::memcpy(out, text.data() + run, n - run);
    out += n - run;
  }
  *out++ = '"';
  return out;
}

void AppendJsonString(std::string* out, std::string_view text) {
  const size_t start = out->size();
  out->resize(start + JsonStringBound(text.size()));
  char* end = WriteJsonString(out->data() + start, text);
  out->resize(end - out->data());
}

namespace {

// Shortest round-trip text of a float or double; null when not finite. A compiled format
// into a plain buffer: appending through a back_inserter costs more than the conversion
// itself in score's hot loop.
template <typename Number>
char* WriteFiniteOrNull(char* out, Number value) {
  if (!std::isfinite(value)) {
    std::memcpy(out, "null", 4);
    return out + 4;
  }
  return fmt::format_to(out, FMT_COMPILE("{}"), value);
}

}  // namespace

char* WriteJsonNumber(char* out, double value) { return WriteFiniteOrNull(out, value); }

char* WriteJsonNumber(char* out, float value) { return WriteFiniteOrNull(out, value); }

void AppendJsonNumber(std::string* out, double value) {
  char buffer[kJsonNumberBound];
  out->append(buffer, WriteJsonNumber(buffer, value) - buffer);
}

void AppendJsonNumber(std::string* out, float value) {
  char buffer[kJsonNumberBound];
  out->append(buffer, WriteJsonNumber(buffer, value) - buffer);
}

std::string JsonString(std::string_view text) {
  std::string out;
  AppendJsonString(&out, text);
  return out;
}

std::string JsonNumber(double value) {
  std::string out;
  AppendJsonNumber(&out, value);
  return out;
}

}  // namespace ipinsights
