#include "ipinsights/dataset/pair_reader.h"

#include "ipinsights/dataset/pair_csv.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

PairReader::PairReader(const std::string& location, BadRecordReporter* reporter, size_t chunk_bytes,
                       size_t max_record_bytes)
    : reporter_(reporter), chunk_bytes_(chunk_bytes), max_record_bytes_(max_record_bytes) {
  if (location == "-") {
    objects_.push_back(location);
  } else {
    for (const ObjectInfo& object : OpenStorage(location).List(location, {})) {
      objects_.push_back(object.location);
    }
  }
}

PairReader::~PairReader() = default;

bool PairReader::OpenNextObject() {
  if (chunks_) bytes_of_done_objects_ += chunks_->bytes_read();
  stats_.bytes = bytes_of_done_objects_;
  chunks_.reset();
  if (next_object_ >= objects_.size()) return false;
  object_name_ = objects_[next_object_++];
  chunks_ = std::make_unique<CsvChunkReader>(OpenStorage(object_name_).OpenSequential(object_name_),
                                             chunk_bytes_, max_record_bytes_);
  first_chunk_ = true;
  line_base_ = 0;
  return true;
}

bool PairReader::Next(std::string_view* entity, IpAddress* ip) {
  for (;;) {
    if (!records_) {
      if (!chunks_ || !chunks_->Next(&chunk_)) {
        if (!OpenNextObject()) return false;
        continue;
      }
      stats_.bytes = bytes_of_done_objects_ + chunks_->bytes_read();
      records_.emplace(chunk_, /*last=*/true, max_record_bytes_);
    }
    if (records_->Next() != CsvRecordReader::Result::kRecord) {
      line_base_ += records_->lines_consumed();
      records_.reset();
      first_chunk_ = false;
      continue;
    }
    switch (ParsePairRecord(*records_, first_chunk_, entity, ip, &problem_)) {
      case PairRecord::kHeader:
        continue;
      case PairRecord::kBad:
        ++stats_.bad_rows;
        if (reporter_ != nullptr) {
          reporter_->Report(BadRecord::AtLine(object_name_, line_base_ + records_->line() + 1, problem_));
        }
        continue;
      case PairRecord::kPair:
        current_line_ = line_base_ + records_->line() + 1;
        ++stats_.rows;
        return true;
    }
  }
}

}  // namespace ipinsights
