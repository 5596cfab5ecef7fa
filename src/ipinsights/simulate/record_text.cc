#include "ipinsights/simulate/record_text.h"

#include "ipinsights/base/civil_time.h"

namespace ipinsights::simulate {

void AppendUuid(std::string& out, Rng& rng) {
  const uint64_t a = rng.Next();
  const uint64_t b = rng.Next();
  char text[36];
  int pos = 0;
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) text[pos++] = '-';
    unsigned nibble = static_cast<unsigned>(((i < 16 ? a : b) >> (60 - 4 * (i % 16))) & 15);
    if (i == 12) nibble = 4;                 // version 4
    if (i == 16) nibble = 8 | (nibble & 3);  // variant 10xx
    text[pos++] = kHexLower[nibble];
  }
  out.append(text, 36);
}

void AppendRandomChars(std::string& out, Rng& rng, size_t count, std::string_view alphabet) {
  uint64_t bits = rng.Next();
  int left = 10;  // 6 bits per character from one 64-bit draw
  for (size_t i = 0; i < count; ++i) {
    if (left == 0) {
      bits = rng.Next();
      left = 10;
    }
    out.push_back(alphabet[((bits & 63) * alphabet.size()) >> 6]);
    bits >>= 6;
    --left;
  }
}

void AppendUnsigned(std::string& out, uint64_t value) {
  char text[20];
  int pos = 20;
  do {
    text[--pos] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value);
  out.append(text + pos, static_cast<size_t>(20 - pos));
}

void AppendPadded(std::string& out, uint64_t value, int width) {
  char text[20];
  for (int i = width - 1; i >= 0; --i) {
    text[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
  out.append(text, static_cast<size_t>(width));
}

void AppendIsoTime(std::string& out, int64_t unix_millis, bool with_millis) {
  const int64_t seconds = unix_millis / 1000;
  const Date date = DateOfUnixSeconds(seconds);
  const int64_t of_day = seconds - DaysFromCivil(date) * 86400;
  AppendPadded(out, static_cast<uint64_t>(date.year), 4);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(date.month), 2);
  out.push_back('-');
  AppendPadded(out, static_cast<uint64_t>(date.day), 2);
  out.push_back('T');
  AppendPadded(out, static_cast<uint64_t>(of_day / 3600), 2);
  out.push_back(':');
  AppendPadded(out, static_cast<uint64_t>(of_day / 60 % 60), 2);
  out.push_back(':');
  AppendPadded(out, static_cast<uint64_t>(of_day % 60), 2);
  if (with_millis) {
    out.push_back('.');
    AppendPadded(out, static_cast<uint64_t>(unix_millis % 1000), 3);
  }
  out.push_back('Z');
}

void AppendIp(std::string& out, const IpAddress& ip) {
  char text[IpAddress::kMaxTextLength];
  out.append(text, ip.Format(text));
}

}  // namespace ipinsights::simulate
