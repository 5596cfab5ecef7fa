#include "ipinsights/base/bad_record.h"

#include <fmt/format.h>

#include <utility>

#include "ipinsights/base/error.h"

namespace ipinsights {

BadRecord BadRecord::AtLine(std::string location, uint64_t line, std::string reason) {
  return BadRecord{std::move(location), Position::kLine, line, std::move(reason)};
}

BadRecord BadRecord::AtByte(std::string location, uint64_t offset, std::string reason) {
  return BadRecord{std::move(location), Position::kByteOffset, offset, std::move(reason)};
}

BadRecord BadRecord::Whole(std::string location, std::string reason) {
  return BadRecord{std::move(location), Position::kNone, 0, std::move(reason)};
}

std::string FormatBadRecord(const BadRecord& record) {
  switch (record.position) {
    case BadRecord::Position::kLine:
      return fmt::format("{}:{}: {}", record.location, record.value, record.reason);
    case BadRecord::Position::kByteOffset:
      return fmt::format("{}: byte {}: {}", record.location, record.value, record.reason);
    case BadRecord::Position::kNone:
      break;
  }
  return fmt::format("{}: {}", record.location, record.reason);
}

BadRecordLog::BadRecordLog(size_t cap, bool strict) : cap_(cap), strict_(strict) {}

void BadRecordLog::Report(const BadRecord& record) {
  if (strict_) throw Error(FormatBadRecord(record));
  std::lock_guard<std::mutex> lock(mutex_);
  ++count_;
  if (messages_.size() < cap_) messages_.push_back(FormatBadRecord(record));
}

uint64_t BadRecordLog::count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return count_;
}

std::vector<std::string> BadRecordLog::messages() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return messages_;
}

}  // namespace ipinsights
