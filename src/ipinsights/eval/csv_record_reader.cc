#include "ipinsights/eval/csv_record_reader.h"

#include <algorithm>
#include <cstring>

namespace ipinsights {

bool CsvRecordReader::Next() {
  fields_.clear();
  error_.clear();
  unescaped_used_ = 0;
  const size_t size = data_.size();
  // Blank lines ("\n" or "\r\n") are not records.
  while (pos_ < size) {
    if (data_[pos_] == '\n') {
      ++pos_;
      ++line_;
    } else if (data_[pos_] == '\r' && pos_ + 1 < size && data_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
    } else {
      break;
    }
  }
  if (pos_ >= size) return false;
  record_line_ = line_;
  if (data_[pos_] == '\0' && data_.substr(pos_).starts_with(kDroppedRecordMarker)) {
    const size_t reason = pos_ + kDroppedRecordMarker.size();
    const size_t eol = std::min(data_.find('\n', reason), size);
    error_.assign(data_.substr(reason, eol - reason));
    SkipToEndOfLine();
    return true;
  }
  for (;;) {
    if (!ParseField()) {
      SkipToEndOfLine();
      return true;
    }
    if (pos_ >= size) return true;
    char c = data_[pos_];
    if (c == ',') {
      ++pos_;
      while (pos_ < size && data_[pos_] == ' ') ++pos_;
      continue;
    }
    if (c == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    if (c == '\r' && pos_ + 1 == size) {
      ++pos_;
      return true;
    }
    if (c == '\r' && data_[pos_ + 1] == '\n') {
      pos_ += 2;
      ++line_;
      return true;
    }
    // Only reachable after a quoted field: `"abc"x`. The quote that "closed" it may well
    // have been the opening quote of a later line (an unbalanced quote swallows everything
    // up to the next one), so resynchronise at the first line break after the opening
    // quote: one broken line then costs one row, not every row up to the next quote.
    error_ = "unexpected text after a closing quote";
    pos_ = quote_open_;
    line_ = quote_open_line_;
    SkipToEndOfLine();
    return true;
  }
}

bool CsvRecordReader::ParseField() {
  const size_t size = data_.size();
  if (pos_ >= size || data_[pos_] != '"') {
    size_t start = pos_;
    while (pos_ < size) {
      char c = data_[pos_];
      if (c == ',' || c == '\n') break;
      if (c == '\r' && (pos_ + 1 == size || data_[pos_ + 1] == '\n')) break;
      ++pos_;
    }
    fields_.emplace_back(data_.data() + start, pos_ - start);
    return true;
  }
  // Quoted field.
  const size_t open = pos_;
  const uint64_t line_at_open = line_;
  quote_open_ = open;
  quote_open_line_ = line_at_open;
  size_t start = ++pos_;
  bool has_escapes = false;
  for (;;) {
    const void* found = std::memchr(data_.data() + pos_, '"', size - pos_);
    if (found == nullptr) {
      // Unterminated: resynchronise at the first line break after the opening quote.
      error_ = "unterminated quoted field";
      pos_ = open;
      line_ = line_at_open;
      return false;
    }
    size_t quote = static_cast<const char*>(found) - data_.data();
    for (size_t i = pos_; i < quote; ++i) line_ += data_[i] == '\n';
    if (quote + 1 < size && data_[quote + 1] == '"') {
      has_escapes = true;
      pos_ = quote + 2;
      continue;
    }
    pos_ = quote + 1;
    std::string_view raw(data_.data() + start, quote - start);
    if (!has_escapes) {
      fields_.push_back(raw);
      return true;
    }
    if (unescaped_used_ == unescaped_.size()) unescaped_.emplace_back();
    std::string& out = unescaped_[unescaped_used_++];
    out.clear();
    for (size_t i = 0; i < raw.size(); ++i) {
      out.push_back(raw[i]);
      if (raw[i] == '"') ++i;  // the second quote of a "" pair
    }
    fields_.push_back(out);
    return true;
  }
}

void CsvRecordReader::SkipToEndOfLine() {
  fields_.clear();
  const void* found = std::memchr(data_.data() + pos_, '\n', data_.size() - pos_);
  if (found == nullptr) {
    pos_ = data_.size();
    return;
  }
  pos_ = static_cast<const char*>(found) - data_.data() + 1;
  ++line_;
}

}  // namespace ipinsights
