#include "ipinsights/dataset/pair_reader.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string Printable(std::string_view text) {
  std::string out;
  for (char c : text.substr(0, 80)) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    } else {
      out += c;
    }
  }
  if (text.size() > 80) out += "...";
  return out;
}

}  // namespace

PairReader::PairReader(const std::string& location) {
  if (location == "-") {
    objects_.push_back(location);
  } else {
    for (const ObjectInfo& object : OpenStorage(location).List(location)) {
      objects_.push_back(object.location);
    }
  }
}

PairReader::~PairReader() = default;

bool PairReader::OpenNextObject() {
  if (next_object_ >= objects_.size()) return false;
  object_name_ = objects_[next_object_++];
  reader_ = OpenStorage(object_name_).OpenSequential(object_name_);
  eof_ = false;
  buffer_.clear();
  position_ = 0;
  line_ = 1;
  return true;
}

// Appends the next chunk of the current object; false at its end.
bool PairReader::Fill() {
  if (eof_) return false;
  buffer_.erase(0, position_);
  position_ = 0;
  const size_t old_size = buffer_.size();
  buffer_.resize(old_size + kChunkBytes);
  const size_t n = reader_->Read(buffer_.data() + old_size, kChunkBytes);
  buffer_.resize(old_size + n);
  stats_.bytes += n;
  if (n == 0) eof_ = true;
  return n > 0;
}

void PairReader::ReportBad(const std::string& problem) {
  ++stats_.bad_rows;
  if (stats_.errors.size() < kMaxReportedErrors) {
    stats_.errors.push_back(fmt::format("{}:{}: {}", object_name_, record_line_, problem));
  }
}

// Parses one record starting at position_. On kRecord/kBadRecord/kBlank advances past it.
// kNeedMore: the buffer ends inside the record and more input may follow.
PairReader::Parse PairReader::ParseRecord(std::string_view* entity, std::string_view* ip_text,
                                          std::string* problem) {
  const char* begin = buffer_.data() + position_;
  const char* end = buffer_.data() + buffer_.size();
  const char* p = begin;
  uint64_t lines = 0;
  std::string_view fields[2];
  int field_count = 0;
  bool quoted_entity = false;
  bool bad = false;
  auto at_record_end = [&](const char* q) { return q == end || *q == '\n' || *q == '\r'; };

  for (;;) {
    // One field at p.
    if (field_count == 1) {
      while (p < end && *p == ' ') ++p;  // the optional space after the comma
    }
    std::string_view field;
    if (p < end && *p == '"') {
      ++p;
      std::string* target = field_count == 0 ? &unquoted_ : nullptr;
      if (target) target->clear();
      std::string scratch;
      if (!target) target = &scratch;
      bool closed = false;
      while (p < end) {
        if (*p == '"') {
          if (p + 1 == end && !eof_) return Parse::kNeedMore;
          if (p + 1 < end && p[1] == '"') {
            target->push_back('"');
            p += 2;
            continue;
          }
          ++p;
          closed = true;
          break;
        }
        if (*p == '\n') ++lines;
        target->push_back(*p++);
      }
      if (!closed) {
        *problem = "unterminated quoted field";
        if (!eof_) return Parse::kNeedMore;  // Next() cuts it at kMaxRecordBytes
        bad = true;
        p = end;
        break;
      }
      if (field_count == 0) {
        field = unquoted_;
        quoted_entity = true;
      } else {
        // A quoted IP: keep it in the entity-independent buffer below.
        unquoted_ip_ = scratch;
        field = unquoted_ip_;
      }
      if (p < end && *p != ',' && !at_record_end(p)) {
        *problem = "text after a closing quote";
        bad = true;
      }
    } else {
      const char* start = p;
      while (p < end && *p != ',' && *p != '\n' && *p != '\r') {
        if (*p == '"') bad = true;
        ++p;
      }
      if (p == end && !eof_) return Parse::kNeedMore;
      field = std::string_view(start, p - start);
      if (bad && problem->empty()) *problem = "quote inside an unquoted field";
    }
    if (field_count < 2) fields[field_count] = field;
    ++field_count;
    if (p < end && *p == ',') {
      ++p;
      continue;
    }
    break;
  }
  // p is at the record end (or in a bad record): skip to just past the line break.
  while (p < end && *p != '\n') {
    if (!bad && *p == '\r' && (p + 1 == end || p[1] == '\n')) {
      ++p;
      continue;
    }
    if (p + 1 == end && !eof_) return Parse::kNeedMore;
    ++p;
    if (!bad) {
      bad = true;
      *problem = "stray carriage return";
    }
  }
  if (p == end && !eof_) return Parse::kNeedMore;
  if (p < end) {
    ++p;  // '\n'
    ++lines;
  }
  record_line_ = line_;
  line_ += lines;
  position_ = p - buffer_.data();
  (void)quoted_entity;

  if (bad) return Parse::kBadRecord;
  if (field_count == 1 && fields[0].empty() && !quoted_entity) return Parse::kBlank;
  if (field_count != 2) {
    *problem = fmt::format("expected 2 fields (entity,ip), found {}", field_count);
    return Parse::kBadRecord;
  }
  if (fields[0].empty()) {
    *problem = "empty entity";
    return Parse::kBadRecord;
  }
  *entity = fields[0];
  *ip_text = fields[1];
  return Parse::kRecord;
}

// Drops the record at position_, which is longer than kMaxRecordBytes, up to and including
// the next '\n' (the cut bytes are not kept, so a line of any length costs one buffer).
// Clears skipping_ once that line break is found.
void PairReader::SkipOverlongRecord() {
  const char* begin = buffer_.data() + position_;
  const size_t size = buffer_.size() - position_;
  const void* newline = std::memchr(begin, '\n', size);
  if (newline == nullptr) {
    buffer_.clear();
    position_ = 0;
    return;
  }
  position_ += static_cast<const char*>(newline) - begin + 1;
  ++line_;
  skipping_ = false;
}

bool PairReader::Next(std::string_view* entity, IpAddress* ip) {
  for (;;) {
    if (!reader_ || (position_ >= buffer_.size() && eof_)) {
      skipping_ = false;
      if (!OpenNextObject()) return false;
    }
    if (position_ >= buffer_.size() && !Fill()) continue;
    if (skipping_) {
      SkipOverlongRecord();
      continue;
    }
    std::string_view ip_text;
    std::string problem;
    const Parse result = ParseRecord(entity, &ip_text, &problem);
    if (result == Parse::kNeedMore) {
      if (buffer_.size() - position_ >= kMaxRecordBytes) {
        // Cut here: one bad row, and the bytes scanned so far dropped, then skip to the next
        // line break, wherever the record was (inside a quote or not). Parsing on would
        // re-read a record that can grow without bound on every Fill(). As kNeedMore is
        // only returned at the end of the buffer, a record is parsed at most twice.
        record_line_ = line_;
        const char* begin = buffer_.data() + position_;
        line_ += std::count(begin, begin + (buffer_.size() - position_), '\n');
        buffer_.clear();
        position_ = 0;
        skipping_ = true;
        ReportBad(fmt::format("{}{}record longer than {} bytes{}", problem,
                              problem.empty() ? "" : " (", kMaxRecordBytes,
                              problem.empty() ? "" : ")"));
        continue;
      }
      if (!Fill()) {
        // End of object inside a record: eof_ is now set, parse it as the last one.
      }
      continue;
    }
    if (result == Parse::kBlank) continue;
    if (result == Parse::kBadRecord) {
      ReportBad(problem);
      continue;
    }
    // Trailing spaces after the address are tolerated (hand-edited files).
    while (!ip_text.empty() && (ip_text.back() == ' ' || ip_text.back() == '\t')) {
      ip_text.remove_suffix(1);
    }
    std::optional<IpAddress> parsed = IpAddress::Parse(ip_text);
    if (!parsed) {
      ReportBad(fmt::format("bad IP \"{}\"", Printable(ip_text)));
      continue;
    }
    *ip = *parsed;
    ++stats_.rows;
    return true;
  }
}

}  // namespace ipinsights
