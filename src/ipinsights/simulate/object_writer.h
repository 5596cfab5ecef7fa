// Writes many objects through Storage on a few I/O threads, so CPU workers never wait on
// file creation, fsync and rename (each atomic local write ends with an fsync: milliseconds
// on a busy disk, which would otherwise dominate a simulation of thousands of files).
//
// Submit() hands over an object; it blocks while more than `max_pending_bytes` wait.
// Finish() waits for every write and rethrows the first failure. Write order is not
// defined, but each object's content is, so the resulting tree is deterministic.
//
// Thread-safety: Submit() may be called from any number of threads; Finish() once, by the
// owner, after the last Submit().
//
//   ObjectWriter writer(storage, 8, 64 << 20);
//   writer.Submit("/out/a.json.gz", std::move(bytes));
//   writer.Finish();
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ipinsights/storage/storage.h"

namespace ipinsights::simulate {

class ObjectWriter {
 public:
  ObjectWriter(Storage& storage, size_t io_threads, size_t max_pending_bytes);
  ~ObjectWriter();  // Finishes (errors after the owner stopped caring are dropped).
  ObjectWriter(const ObjectWriter&) = delete;
  ObjectWriter& operator=(const ObjectWriter&) = delete;

  // Throws the first write failure seen so far (so producers stop early).
  void Submit(std::string location, std::string bytes);
  // An empty string, with the capacity of an object already written where one is free:
  // reusing buffers avoids a fresh mmap and page faults per object.
  std::string TakeBuffer();
  void Finish();

 private:
  struct Pending {
    std::string location;
    std::string bytes;
  };
  void Run();

  Storage& storage_;
  const size_t max_pending_bytes_;
  std::mutex mutex_;
  std::condition_variable has_work_;
  std::condition_variable has_room_;
  std::deque<Pending> queue_;
  size_t pending_bytes_ = 0;
  bool closing_ = false;
  std::exception_ptr error_;
  std::vector<std::string> free_buffers_;
  std::vector<std::thread> threads_;
};

}  // namespace ipinsights::simulate
