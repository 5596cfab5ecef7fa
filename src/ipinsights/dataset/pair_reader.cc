#include "ipinsights/dataset/pair_reader.h"

#include <algorithm>
#include <cstring>

#include "ipinsights/dataset/channel_listing.h"
#include "ipinsights/dataset/pair_csv.h"

namespace ipinsights {

PairReader::PairReader(const std::string& location, BadRecordReporter* reporter, size_t read_bytes,
                       size_t max_record_bytes)
    : reporter_(reporter),
      read_bytes_(std::max<size_t>(read_bytes, 1)),
      max_record_bytes_(max_record_bytes) {
  if (location == "-") {
    objects_.push_back(location);
  } else {
    for (const ObjectInfo& object : ListChannel(location)) {
      objects_.push_back(object.location);
    }
  }
}

PairReader::~PairReader() = default;

bool PairReader::OpenNextObject() {
  records_.reset();
  input_.reset();
  if (next_object_ >= objects_.size()) return false;
  object_name_ = objects_[next_object_++];
  input_ = OpenStorage(object_name_).OpenSequential(object_name_);
  eof_ = false;
  buffer_.clear();
  line_base_ = 0;
  first_line_in_buffer_ = true;
  Refill(0);
  return true;
}

void PairReader::Refill(size_t keep_from) {
  if (keep_from > 0) {
    // On kNeedMore the reader stands at keep_from, so it has counted those lines already.
    line_base_ += records_->lines_consumed();
    buffer_.erase(0, keep_from);
    first_line_in_buffer_ = false;
  }
  const size_t old_size = buffer_.size();
  const size_t want = eof_ ? 0 : std::max(read_bytes_, old_size);
  buffer_.resize(old_size + want);
  size_t got = 0;
  while (got < want) {
    const size_t n = input_->Read(buffer_.data() + old_size + got, want - got);
    if (n == 0) {
      eof_ = true;
      break;
    }
    got += n;
  }
  buffer_.resize(old_size + got);
  stats_.bytes += got;
  records_.emplace(buffer_, /*last=*/eof_, max_record_bytes_);
}

void PairReader::SkipPastLineBreak() {
  line_base_ += records_->lines_consumed();
  records_.reset();
  buffer_.clear();
  first_line_in_buffer_ = false;
  // CsvRecordReader searched the whole buffer for this record's line break: the dropped
  // bytes hold none, so only the one found below is counted.
  std::string piece(std::min(read_bytes_, size_t{1} << 16), '\0');
  while (!eof_) {
    const size_t n = input_->Read(piece.data(), piece.size());
    stats_.bytes += n;
    if (n == 0) {
      eof_ = true;
      break;
    }
    const void* newline = std::memchr(piece.data(), '\n', n);
    if (newline != nullptr) {
      const size_t after = static_cast<const char*>(newline) - piece.data() + 1;
      ++line_base_;
      buffer_.assign(piece, after, n - after);
      break;
    }
  }
  Refill(0);
}

bool PairReader::Next(std::string_view* entity, IpAddress* ip) {
  for (;;) {
    if (!records_) {
      if (!OpenNextObject()) return false;
      continue;
    }
    switch (records_->Next()) {
      case CsvRecordReader::Result::kEnd:
        records_.reset();
        continue;
      case CsvRecordReader::Result::kNeedMore:
        Refill(records_->record_start());
        continue;
      case CsvRecordReader::Result::kRecord:
        break;
    }
    const uint64_t line = line_base_ + records_->line() + 1;
    switch (ParsePairRecord(*records_, first_line_in_buffer_, entity, ip, &problem_)) {
      case PairRecord::kHeader:
        continue;
      case PairRecord::kBad:
        ++stats_.bad_rows;
        if (records_->continues_past_buffer()) SkipPastLineBreak();
        if (reporter_ != nullptr)
          reporter_->Report(BadRecord::AtLine(object_name_, line, problem_));
        continue;
      case PairRecord::kPair:
        current_line_ = line;
        ++stats_.rows;
        return true;
    }
  }
}

}  // namespace ipinsights
