// Gzip input for the log readers: detection by content, whole-buffer decompression with
// libdeflate (fast; all members of a multi-member file), and a streaming zlib reader for
// objects too large to hold in memory.
//
// Data errors (corrupt or truncated streams) are reported as values, not thrown, so the
// reader can keep what was decoded before them and go on with other files.
//
// Thread-safety: functions are pure; a GzipStreamReader has one user at a time.
//
//   if (LooksGzipped(bytes)) {
//     GunzipResult result = GunzipWhole(bytes, max_output, &json);
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "ipinsights/logs/padded_buffer.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

// True when `head` starts with the gzip magic bytes 1f 8b.
inline bool LooksGzipped(std::string_view head) {
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

// The size the last member's trailer claims (ISIZE, the uncompressed size mod 2^32). Only a
// hint for the first allocation: it is wrong for multi-member files and > 4 GiB outputs.
uint64_t GzipSizeHint(std::string_view compressed);

struct GunzipResult {
  enum class Status {
    kOk,
    kTooLarge,  // the output would exceed max_output: use the streaming reader
    kCorrupt,   // corrupt or truncated data: use the streaming reader to keep what decodes
  };
  Status status = Status::kOk;
};

// Decompresses every gzip member of `compressed` into *out (replacing its contents).
// Trailing zero bytes after the last member are ignored (some writers pad).
GunzipResult GunzipWhole(std::string_view compressed, size_t max_output, PaddedBuffer* out);

// Decompresses a gzip stream read from `source`, member after member. Read() returns 0 at
// the end of the data or at the first data error; error() then says what went wrong
// ("truncated gzip data ..."), empty for a clean end.
class GzipStreamReader : public SequentialReader {
 public:
  GzipStreamReader(std::unique_ptr<SequentialReader> source, std::string name);
  ~GzipStreamReader() override;
  GzipStreamReader(const GzipStreamReader&) = delete;
  GzipStreamReader& operator=(const GzipStreamReader&) = delete;

  size_t Read(char* buffer, size_t n) override;
  const std::string& error() const { return error_; }
  // True when error() is corruption inside a member (bad deflate data, or a CRC32 / ISIZE
  // trailer that does not match what was decoded), as opposed to truncation or trailing
  // garbage after whole members. Bytes of that member were handed out unverified.
  bool corrupt() const { return corrupt_; }

 private:
  bool Refill();

  struct State;
  std::unique_ptr<State> state_;
  std::unique_ptr<SequentialReader> source_;
  std::string name_;
  std::string error_;
  uint64_t compressed_total_ = 0;  // bytes taken from source_
  bool finished_ = false;
  bool corrupt_ = false;
};

// A SequentialReader over bytes already in memory (the caller keeps them alive).
class MemoryReader : public SequentialReader {
 public:
  explicit MemoryReader(std::string_view bytes) : bytes_(bytes) {}
  size_t Read(char* buffer, size_t n) override;

 private:
  std::string_view bytes_;
};

}  // namespace ipinsights
