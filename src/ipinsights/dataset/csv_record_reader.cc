#include "ipinsights/dataset/csv_record_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <cstring>

namespace ipinsights {
namespace {

constexpr size_t kNoQuote = static_cast<size_t>(-1);

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// The bytes that end an unquoted field. One table load per byte instead of three compares:
// this loop is most of the cost of a short record (serve's one-pair requests, score).
struct StopTable {
  bool stop[256] = {};
  constexpr StopTable() {
    stop[static_cast<unsigned char>(',')] = true;
    stop[static_cast<unsigned char>('\n')] = true;
    stop[static_cast<unsigned char>('\r')] = true;
  }
};
constexpr StopTable kStops;

// Offset of the first ',', '\n' or '\r' in [p, end), or `end`. Eight bytes at a time while
// eight remain (SWAR): (v - 0x01..*n) & ~v & 0x80.. marks exactly the first byte of v below
// n, so one test finds the first byte below 0x0e (a superset of '\n' and '\r', checked
// afterwards) and one the first ',' (a zero byte of w ^ ',,,,'); on a little-endian machine
// the lowest marked bit is the first byte. Fields are short: this is most of the cost of
// splitting a typical record.
size_t FindStop(const char* d, size_t p, size_t end) {
  if constexpr (std::endian::native == std::endian::little) {
    constexpr uint64_t kOnes = 0x0101010101010101ULL;
    constexpr uint64_t kHighs = 0x8080808080808080ULL;
    while (p + 8 <= end) {
      uint64_t w;
      std::memcpy(&w, d + p, 8);
      const uint64_t commas = w ^ (kOnes * ',');
      const uint64_t found = (((w - kOnes * 0x0e) & ~w) | ((commas - kOnes) & ~commas)) & kHighs;
      if (found == 0) {
        p += 8;
        continue;
      }
      const size_t at = p + (static_cast<size_t>(std::countr_zero(found)) >> 3);
      if (kStops.stop[static_cast<unsigned char>(d[at])]) return at;
      p = at + 1;  // a control byte that is no stop (a tab): look on from the next byte
    }
  }
  while (p < end && !kStops.stop[static_cast<unsigned char>(d[p])]) ++p;
  return p;
}

}  // namespace

CsvRecordReader::CsvRecordReader(std::string_view data, bool last, size_t max_record_bytes)
    : data_(data), last_(last), max_record_bytes_(max_record_bytes < 1 ? 1 : max_record_bytes) {}

CsvRecordReader::Result CsvRecordReader::Next() {
  for (;;) {
    record_start_ = pos_;
    record_line_ = line_;
    if (pos_ >= data_.size() || continues_)
      return last_ || continues_ ? Result::kEnd : Result::kNeedMore;
    const Parse parse = ParseRecord(pos_);
    if (parse == Parse::kNeedMore) return Result::kNeedMore;
    if (parse == Parse::kRecord && field_count_ == 1 && !first_field_quoted_) {
      std::string_view only = field(0);
      if (std::all_of(only.begin(), only.end(), IsBlank)) continue;  // a blank line
    }
    return Result::kRecord;
  }
}

void CsvRecordReader::AddFieldSlow(size_t begin, size_t end, bool escaped) {
  std::string_view field(data_.data() + begin, end - begin);
  if (escaped) {
    if (unescaped_used_ == unescaped_.size()) unescaped_.push_back(std::make_unique<std::string>());
    std::string& out = *unescaped_[unescaped_used_++];
    out.clear();
    // Copy up to and including each quote, then skip the second quote of its "" pair.
    while (!field.empty()) {
      const size_t quote = field.find('"');
      if (quote == std::string_view::npos) {
        out.append(field);
        break;
      }
      out.append(field.data(), quote + 1);
      field.remove_prefix(std::min(field.size(), quote + 2));
    }
    field = out;
  }
  if (field_count_ < kInlineFields) {
    inline_fields_[field_count_] = Span{field.data(), field.size()};
  } else {
    if (field_count_ == kInlineFields) more_fields_.clear();
    more_fields_.push_back(field);
  }
  ++field_count_;
}

CsvRecordReader::Parse CsvRecordReader::EndRecord(size_t end, uint64_t line_breaks) {
  pos_ = end;
  examined_ = end;
  line_ = record_line_ + line_breaks;
  return Parse::kRecord;
}

// Skips a bad record that starts at `start` up to just past the first '\n' at or after
// `resync_from` (or the end of the buffer). The line breaks skipped are counted from the
// record's start, as the resync point may lie before bytes the verdict looked at.
CsvRecordReader::Parse CsvRecordReader::Bad(size_t start, std::string error, size_t examined,
                                            size_t resync_from) {
  error_ = std::move(error);
  field_count_ = 0;
  examined_ = examined;
  const size_t size = data_.size();
  const void* newline = resync_from < size
                            ? std::memchr(data_.data() + resync_from, '\n', size - resync_from)
                            : nullptr;
  if (newline != nullptr) {
    pos_ = static_cast<const char*>(newline) - data_.data() + 1;
  } else {
    pos_ = size;
    continues_ = !last_;
  }
  line_ = record_line_ +
          static_cast<uint64_t>(std::count(data_.data() + start, data_.data() + pos_, '\n'));
  return Parse::kBad;
}

// The record at `start` needs a byte past the end of its view. When the input goes on past
// the record's cap, that is the verdict: too long. Otherwise the buffer just ends early.
CsvRecordReader::Parse CsvRecordReader::NeedMore(size_t start, size_t open_quote) {
  if (data_.size() - start > max_record_bytes_) {
    const size_t cut = start + max_record_bytes_;
    if (open_quote != kNoQuote) {
      return Bad(
          start,
          fmt::format("unterminated quoted field (record longer than {} bytes)", max_record_bytes_),
          cut + 1, open_quote + 1);
    }
    return Bad(start, fmt::format("record longer than {} bytes", max_record_bytes_), cut + 1, cut);
  }
  return Parse::kNeedMore;
}

CsvRecordReader::Parse CsvRecordReader::ParseRecord(size_t start) {
  const char* d = data_.data();
  const size_t size = data_.size();
  // The record is judged on its first max_record_bytes_ bytes: the view.
  const size_t view_end = size - start > max_record_bytes_ ? start + max_record_bytes_ : size;
  const bool view_last = last_ && view_end == size;
  field_count_ = 0;
  unescaped_used_ = 0;
  error_.clear();
  continues_ = false;
  first_field_quoted_ = d[start] == '"';
  uint64_t quoted_line_breaks = 0;
  size_t p = start;
  for (;;) {
    if (field_count_ > 0) {
      while (p < view_end && IsBlank(d[p])) ++p;
    }
    if (p < view_end && d[p] == '"') {
      const size_t open = p;
      const size_t begin = p + 1;
      bool escaped = false;
      size_t close;
      p = begin;
      for (;;) {
        const void* quote = std::memchr(d + p, '"', view_end - p);
        if (quote == nullptr) {
          if (!view_last) return NeedMore(start, open);
          return Bad(start, "unterminated quoted field", view_end, open + 1);
        }
        const size_t at = static_cast<const char*>(quote) - d;
        if (at + 1 == view_end && !view_last) return NeedMore(start, open);  // "" or closing?
        if (at + 1 < view_end && d[at + 1] == '"') {
          escaped = true;
          p = at + 2;
          continue;
        }
        close = at;
        break;
      }
      quoted_line_breaks += static_cast<uint64_t>(std::count(d + begin, d + close, '\n'));
      AddField(begin, close, escaped);
      p = close + 1;
      if (p == view_end) {
        if (view_last) return EndRecord(p, quoted_line_breaks);
        return NeedMore(start, kNoQuote);
      }
      const char c = d[p];
      if (c == ',') {
        ++p;
        continue;
      }
      if (c == '\n') return EndRecord(p + 1, quoted_line_breaks + 1);
      if (c == '\r') {
        if (p + 1 == view_end) {
          if (view_last) return EndRecord(p + 1, quoted_line_breaks);
          return NeedMore(start, kNoQuote);
        }
        if (d[p + 1] == '\n') return EndRecord(p + 2, quoted_line_breaks + 1);
      }
      // `"abc"x`: the quote that "closed" the field may well have been the opening quote of
      // a later line (an unbalanced quote swallows everything up to the next one), so
      // resynchronise at the first line break after the opening quote.
      // (After a '\r' the verdict also looked at the byte after it.)
      return Bad(start, "text after a closing quote", c == '\r' ? p + 2 : p + 1, open + 1);
    }
    const size_t begin = p;
    for (;;) {
      p = FindStop(d, p, view_end);
      if (p == view_end) {
        if (!view_last) return NeedMore(start, kNoQuote);
        AddField(begin, p, false);
        return EndRecord(p, quoted_line_breaks);
      }
      const char c = d[p];
      if (c == ',') {
        AddField(begin, p, false);
        ++p;
        break;
      }
      if (c == '\n') {
        AddField(begin, p, false);
        return EndRecord(p + 1, quoted_line_breaks + 1);
      }
      if (c == '\r') {
        if (p + 1 == view_end) {
          if (!view_last) return NeedMore(start, kNoQuote);
          AddField(begin, p, false);
          return EndRecord(p + 1, quoted_line_breaks);
        }
        if (d[p + 1] == '\n') {
          AddField(begin, p, false);
          return EndRecord(p + 2, quoted_line_breaks + 1);
        }
      }
      ++p;
    }
  }
}

}  // namespace ipinsights
