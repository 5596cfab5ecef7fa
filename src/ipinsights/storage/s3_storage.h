// S3Storage: the Storage implementation for "s3://bucket/key" locations.
//
// List and ListUnder use ListObjectsV2 (every page; ListUnder kOneLevel with delimiter "/").
// Keys mean nothing here: digest files are listed like any object, and the pruned listing
// of the AWS log layouts is logs/log_listing.h's walk over ListUnder. Readers stream GETs: ReadAll
// into the caller's string, OpenSequential in ranged chunks of kReadChunk bytes (the next chunk is
// fetched while the caller consumes the current one), so memory stays bounded and nothing is staged
// on disk; a cut download resumes where it stopped (S3Client). Writers buffer one part: objects
// under S3Config::part_size go up in one PUT on Close(), larger ones as a multipart upload
// completed on Close(), aborted when Close() fails or the writer is destroyed without it. Readers
// see the object whole or not at all.
//
// Thread-safety: as Storage. A reader or writer is used by one thread at a time.
//
//   S3Storage& s3 = DefaultS3Storage();   // what OpenStorage("s3://...") returns
//   auto objects = s3.List("s3://trail-bucket/AWSLogs/");
//   S3RequestCounts counts = s3.client().counts();
#pragma once

#include <memory>

#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {

class S3Storage : public Storage {
 public:
  static constexpr size_t kReadChunk = 8u << 20;

  explicit S3Storage(S3Config config);

  std::vector<ObjectInfo> List(const std::string& location) override;
  Listing ListUnder(const std::string& location, ListDepth depth) override;
  void ReadAll(const std::string& location, std::string* out) override;
  std::unique_ptr<SequentialReader> OpenSequential(const std::string& location) override;
  std::unique_ptr<WritableFile> OpenWritable(const std::string& location) override;
  bool Exists(const std::string& location) override;

  S3Client& client() { return client_; }

 private:
  bool ExistsIn(const S3Location& location);
  // ListUnder's work; *found: anything at all (an object, a key or a common prefix) there.
  Listing ListIn(const S3Location& parsed, const std::string& location, ListDepth depth,
                 bool* found);

  S3Client client_;
};

// The process-wide S3 storage, configured from the environment (and SetS3EndpointOverride)
// on first use.
S3Storage& DefaultS3Storage();

}  // namespace ipinsights
