#include "ipinsights/simulate/object_writer.h"

#include <memory>

namespace ipinsights::simulate {

ObjectWriter::ObjectWriter(Storage& storage, size_t io_threads, size_t max_pending_bytes)
    : storage_(storage), max_pending_bytes_(max_pending_bytes) {
  if (io_threads == 0) io_threads = 1;
  for (size_t i = 0; i < io_threads; ++i) threads_.emplace_back([this] { Run(); });
}

ObjectWriter::~ObjectWriter() {
  try {
    Finish();
  } catch (...) {
  }
}

void ObjectWriter::Submit(std::string location, std::string bytes) {
  std::unique_lock<std::mutex> lock(mutex_);
  // An object larger than the limit still goes through once the queue is empty.
  has_room_.wait(lock, [&] {
    return error_ || pending_bytes_ == 0 || pending_bytes_ + bytes.size() <= max_pending_bytes_;
  });
  if (error_) std::rethrow_exception(error_);
  pending_bytes_ += bytes.size();
  queue_.push_back({std::move(location), std::move(bytes)});
  has_work_.notify_one();
}

std::string ObjectWriter::TakeBuffer() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (free_buffers_.empty()) return {};
  std::string buffer = std::move(free_buffers_.back());
  free_buffers_.pop_back();
  return buffer;
}

void ObjectWriter::Run() {
  for (;;) {
    Pending item;
    bool failed;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      has_work_.wait(lock, [&] { return closing_ || !queue_.empty(); });
      if (queue_.empty()) return;
      item = std::move(queue_.front());
      queue_.pop_front();
      failed = error_ != nullptr;
    }
    const size_t size = item.bytes.size();
    try {
      if (!failed) {
        std::unique_ptr<WritableFile> file = storage_.OpenWritable(item.location);
        file->Append(item.bytes);
        file->Close();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (!error_) error_ = std::current_exception();
    }
    item.bytes.clear();
    std::lock_guard<std::mutex> lock(mutex_);
    pending_bytes_ -= size;
    if (free_buffers_.size() < 32) free_buffers_.push_back(std::move(item.bytes));
    has_room_.notify_all();
  }
}

void ObjectWriter::Finish() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (threads_.empty()) return;
    closing_ = true;
    has_work_.notify_all();
  }
  for (std::thread& thread : threads_) thread.join();
  threads_.clear();
  if (error_) std::rethrow_exception(error_);
}

}  // namespace ipinsights::simulate
