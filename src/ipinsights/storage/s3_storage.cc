#include "ipinsights/storage/s3_storage.h"

#include <algorithm>
#include <cstring>
#include <future>

#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

std::string Location(const std::string& bucket, const std::string& key) {
  return "s3://" + bucket + "/" + key;
}

// Reads an object in ranged chunks, one chunk ahead of the caller.
class S3SequentialReader : public SequentialReader {
 public:
  S3SequentialReader(S3Client* client, S3Location location)
      : client_(client), location_(std::move(location)) {
    Prefetch();
  }
  ~S3SequentialReader() override {
    if (next_.valid()) {
      try {
        next_.get();
      } catch (...) {
        // The reader is going away; the error has no one to go to.
      }
    }
  }

  size_t Read(char* buffer, size_t n) override {
    // After a failed fetch every Read fails: a caller that goes on must not mistake the
    // rest of the object for its end.
    if (!failure_.empty()) throw Error(failure_);
    while (position_ == current_.size()) {
      if (!next_.valid()) return 0;
      try {
        current_ = next_.get();  // rethrows the fetch's Error
      } catch (const std::exception& error) {
        failure_ = error.what();
        throw;
      }
      position_ = 0;
      if (current_.empty()) return 0;
      if (!size_ || fetched_ < *size_) Prefetch();
    }
    size_t take = std::min(n, current_.size() - position_);
    std::memcpy(buffer, current_.data() + position_, take);
    position_ += take;
    return take;
  }

 private:
  void Prefetch() {
    const uint64_t offset = fetched_;
    fetched_ += S3Storage::kReadChunk;  // the range asked for; the object may end sooner
    next_ = std::async(std::launch::async, [this, offset] {
      std::string chunk;
      chunk.reserve(S3Storage::kReadChunk);
      S3ObjectHead head =
          client_->Get(location_.bucket, location_.key, offset, S3Storage::kReadChunk, etag_,
                       [&](std::string_view data) { chunk.append(data); });
      // Set before the future is ready; read only after get(), so no race.
      etag_ = head.etag;
      size_ = head.size;
      return chunk;
    });
  }

  S3Client* client_;
  S3Location location_;
  std::future<std::string> next_;
  std::string current_;
  size_t position_ = 0;
  uint64_t fetched_ = 0;
  std::string etag_;  // every chunk comes from the same version of the object
  std::optional<uint64_t> size_;
  std::string failure_;
};

class S3Writer : public WritableFile {
 public:
  S3Writer(S3Client* client, S3Location location)
      : client_(client), location_(std::move(location)), part_size_(client->config().part_size) {}

  ~S3Writer() override { Abandon(); }

  void Append(std::string_view data) override {
    if (closed_) throw Error(Location(location_.bucket, location_.key) + ": append after close");
    while (!data.empty()) {
      size_t take = std::min(data.size(), part_size_ - buffer_.size());
      buffer_.append(data.substr(0, take));
      data.remove_prefix(take);
      if (buffer_.size() == part_size_) FlushPart();
    }
  }

  void Close() override {
    if (closed_) return;
    closed_ = true;
    try {
      if (upload_id_.empty()) {
        client_->Put(location_.bucket, location_.key, buffer_);
      } else {
        if (!buffer_.empty()) FlushPart();
        client_->CompleteMultipartUpload(location_.bucket, location_.key, upload_id_, etags_);
        upload_id_.clear();
      }
      buffer_.clear();
      buffer_.shrink_to_fit();
    } catch (...) {
      Abandon();
      throw;
    }
  }

 private:
  void FlushPart() {
    try {
      if (upload_id_.empty()) {
        upload_id_ = client_->CreateMultipartUpload(location_.bucket, location_.key);
      }
      etags_.push_back(client_->UploadPart(location_.bucket, location_.key, upload_id_,
                                           static_cast<int>(etags_.size() + 1), buffer_));
      buffer_.clear();
    } catch (...) {
      Abandon();
      closed_ = true;
      throw;
    }
  }

  // Leaves nothing behind: an unfinished multipart upload is aborted (its parts cost
  // storage until then).
  void Abandon() noexcept {
    if (upload_id_.empty()) return;
    std::string upload_id = std::move(upload_id_);
    upload_id_.clear();
    try {
      client_->AbortMultipartUpload(location_.bucket, location_.key, upload_id);
    } catch (...) {
      // Best effort: a bucket lifecycle rule for incomplete uploads cleans up the rest.
    }
  }

  S3Client* client_;
  S3Location location_;
  size_t part_size_;
  std::string buffer_;
  std::string upload_id_;
  std::vector<std::string> etags_;
  bool closed_ = false;
};

}  // namespace

S3Storage::S3Storage(S3Config config) : client_(std::move(config)) {}

std::vector<ObjectInfo> S3Storage::List(const std::string& location) {
  bool found = false;
  Listing listing = ListIn(ParseS3Location(location), location, ListDepth::kRecursive, &found);
  if (!found) throw Error(location + ": no such object or prefix");
  return std::move(listing.objects);
}

Listing S3Storage::ListUnder(const std::string& location, ListDepth depth) {
  bool found = false;
  return ListIn(ParseS3Location(location), location, depth, &found);
}

Listing S3Storage::ListIn(const S3Location& parsed, const std::string& location, ListDepth depth,
                          bool* found) {
  Listing listing;
  std::string prefix = parsed.key;
  if (!prefix.empty() && prefix.back() != '/') {
    // The object itself, if there is one by that name; else the "folder" under it.
    S3ListPage page = client_.ListPage(parsed.bucket, prefix, "", "", 1);
    if (!page.objects.empty() && page.objects.front().key == prefix) {
      *found = true;
      listing.objects.push_back(ObjectInfo{location, page.objects.front().size});
      return listing;
    }
    prefix += '/';
  }
  S3ListPage page =
      client_.ListAll(parsed.bucket, prefix, depth == ListDepth::kOneLevel ? "/" : "");
  *found = !page.objects.empty() || !page.common_prefixes.empty();
  listing.objects.reserve(page.objects.size());
  for (S3Object& object : page.objects) {
    if (!object.key.empty() && object.key.back() == '/') continue;  // console "folder" markers
    listing.objects.push_back(ObjectInfo{Location(parsed.bucket, object.key), object.size});
  }
  for (const std::string& common : page.common_prefixes) {
    listing.folders.push_back(Location(parsed.bucket, common));
  }
  std::sort(listing.objects.begin(), listing.objects.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.location < b.location; });
  std::sort(listing.folders.begin(), listing.folders.end());
  return listing;
}

void S3Storage::ReadAll(const std::string& location, std::string* out) {
  S3Location parsed = ParseS3Location(location);
  out->clear();
  client_.Get(
      parsed.bucket, parsed.key, 0, std::nullopt, "",
      [&](std::string_view chunk) { out->append(chunk); },
      [&](uint64_t size) {
        if (size > out->capacity()) out->reserve(size);
      });
}

std::unique_ptr<SequentialReader> S3Storage::OpenSequential(const std::string& location) {
  return std::make_unique<S3SequentialReader>(&client_, ParseS3Location(location));
}

std::unique_ptr<WritableFile> S3Storage::OpenWritable(const std::string& location) {
  S3Location parsed = ParseS3Location(location);
  if (parsed.key.empty() || parsed.key.back() == '/') {
    throw UsageError(location + ": an s3:// destination needs a key, not a bucket or folder");
  }
  return std::make_unique<S3Writer>(&client_, std::move(parsed));
}

bool S3Storage::Exists(const std::string& location) {
  S3Location parsed = ParseS3Location(location);
  try {
    return ExistsIn(parsed);
  } catch (const S3Error& error) {
    if (error.code() == "NoSuchBucket") return false;
    throw;
  }
}

bool S3Storage::ExistsIn(const S3Location& parsed) {
  if (!parsed.key.empty() && parsed.key.back() != '/' && client_.Head(parsed.bucket, parsed.key)) {
    return true;
  }
  std::string prefix = parsed.key;
  if (!prefix.empty() && prefix.back() != '/') prefix += '/';
  S3ListPage page = client_.ListPage(parsed.bucket, prefix, "/", "", 1);
  return parsed.key.empty() || !page.objects.empty() || !page.common_prefixes.empty();
}

S3Storage& DefaultS3Storage() {
  static S3Storage storage(S3Config::FromEnvironment(AwsEnvironment::Process()));
  return storage;
}

}  // namespace ipinsights
