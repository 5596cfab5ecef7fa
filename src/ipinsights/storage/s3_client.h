// S3Client: the S3 REST calls ipinsights needs, signed with SigV4, retried, with errors a
// person can act on.
//
// Requests go to AWS (virtual-hosted "https://<bucket>.s3.<region>.amazonaws.com/<key>",
// path-style for bucket names with dots or when forced) or to an S3-compatible endpoint
// (path-style, e.g. moto or MinIO on "http://127.0.0.1:9000"). Throttling (503 SlowDown),
// 5xx, request timeouts and broken connections are retried with exponential backoff and
// full jitter; a GET whose body is cut short resumes with a ranged GET pinned to the ETag
// it started with, so callers see every byte exactly once or get an Error. A bucket in
// another region (PermanentRedirect, AuthorizationHeaderMalformed) is retried in the region
// S3 names, and remembered. Expired temporary credentials are fetched again once.
//
// Thread-safety: all methods may be called from several threads at once.
//
//   S3Client client(S3Config::FromEnvironment(AwsEnvironment::Process()));
//   client.Get("bucket", "key", 0, std::nullopt, [&](std::string_view chunk) { out += chunk; });
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/aws_credentials.h"

namespace ipinsights {

// An error answer from S3, with its code ("NoSuchBucket", "AccessDenied", ...) for callers
// that handle some of them; what() is the message for a person.
class S3Error : public Error {
 public:
  S3Error(const std::string& message, std::string code, long status)
      : Error(message), code_(std::move(code)), status_(status) {}
  const std::string& code() const { return code_; }
  long status() const { return status_; }

 private:
  std::string code_;
  long status_;
};

struct S3Config {
  std::string region = "us-east-1";  // where buckets are assumed to be until S3 says otherwise
  std::string endpoint;              // "http://127.0.0.1:9000"; empty: AWS
  bool force_path_style = false;     // path-style even on AWS
  std::shared_ptr<AwsCredentialsProvider> credentials;
  int max_attempts = 8;     // per request, the first try included
  int retry_base_ms = 100;  // backoff: random in [0, min(max, base * 2^attempt)]
  int retry_max_ms = 10'000;
  size_t part_size = 8u << 20;  // multipart upload part (S3's minimum is 5 MiB)

  // Region, endpoint (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the override set with
  // SetS3EndpointOverride), AWS_S3_FORCE_PATH_STYLE / s3.addressing_style, and the standard
  // credential chain.
  static S3Config FromEnvironment(const AwsEnvironment& environment);
};

// For a global --endpoint-url flag: takes precedence over the environment for every S3
// storage created afterwards (call it before the first s3:// location is opened).
void SetS3EndpointOverride(std::string endpoint_url);

// Requests sent, by kind (retries included), and how many were retries.
struct S3RequestCounts {
  uint64_t list = 0;  // ListObjectsV2 pages
  uint64_t get = 0;
  uint64_t head = 0;
  uint64_t put = 0;        // PutObject, UploadPart, CreateBucket
  uint64_t multipart = 0;  // Create, Complete, Abort
  uint64_t retries = 0;    // requests sent again after a failure (any kind)
  uint64_t region_redirects = 0;
  uint64_t lost_uploads_aborted = 0;  // uploads a lost CreateMultipartUpload answer left
  uint64_t total() const { return list + get + head + put + multipart; }
};

struct S3Object {
  std::string key;
  uint64_t size = 0;
};

struct S3ListPage {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;
  std::string next_continuation_token;  // empty on the last page
};

// A multipart upload in progress (ListMultipartUploads).
struct S3Upload {
  std::string key;
  std::string upload_id;
  std::string initiated;  // "2026-12-06T05:10:00.000Z"
};

struct S3ObjectHead {
  uint64_t size = 0;
  std::string etag;
};

class S3Client {
 public:
  explicit S3Client(S3Config config);

  // One ListObjectsV2 page.
  S3ListPage ListPage(const std::string& bucket, const std::string& prefix,
                      const std::string& delimiter, const std::string& continuation_token,
                      int max_keys = 1000);
  // Every page.
  S3ListPage ListAll(const std::string& bucket, const std::string& prefix,
                     const std::string& delimiter);

  // nullopt when there is no such key.
  std::optional<S3ObjectHead> Head(const std::string& bucket, const std::string& key);

  // Streams bytes [offset, offset + length) (to the end when length is nullopt) to `sink`,
  // each byte exactly once. `on_size` gets the object's total size before the first byte.
  // With a non-empty `if_match` the object must still have that ETag. Returns the object's
  // head (size and ETag). Reading at or past the end delivers nothing.
  S3ObjectHead Get(const std::string& bucket, const std::string& key, uint64_t offset,
                   std::optional<uint64_t> length, const std::string& if_match,
                   const std::function<void(std::string_view)>& sink,
                   const std::function<void(uint64_t)>& on_size = {});

  void Put(const std::string& bucket, const std::string& key, std::string_view body);

  // Starts a multipart upload. A POST is not idempotent: when it had to be sent again
  // (a lost answer, a 5xx), the uploads an earlier send may have created for this key are
  // aborted, so that none is left behind (see AbortLostUploads in s3_client.cc).
  std::string CreateMultipartUpload(const std::string& bucket, const std::string& key);
  // Returns the part's ETag.
  std::string UploadPart(const std::string& bucket, const std::string& key,
                         const std::string& upload_id, int part_number, std::string_view body);
  void CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                               const std::string& upload_id,
                               const std::vector<std::string>& part_etags);
  void AbortMultipartUpload(const std::string& bucket, const std::string& key,
                            const std::string& upload_id);
  // The multipart uploads in progress whose keys start with `prefix`, every page.
  std::vector<S3Upload> ListMultipartUploads(const std::string& bucket, const std::string& prefix);

  // Creates a bucket in the client's region (tests, and setting up a store).
  void CreateBucket(const std::string& bucket);

  S3RequestCounts counts() const;
  const S3Config& config() const { return config_; }

  struct Request;  // in s3_client.cc

 private:
  struct Response;
  Response Send(Request& request);
  std::string RegionOf(const std::string& bucket);
  void SetRegion(const std::string& bucket, const std::string& region);
  void AbortLostUploads(const std::string& bucket, const std::string& key,
                        const std::string& upload_id, double resend_window_s);

  S3Config config_;
  std::mutex regions_mutex_;
  std::map<std::string, std::string> bucket_regions_;
  struct Counters {
    std::atomic<uint64_t> list{0}, get{0}, head{0}, put{0}, multipart{0}, retries{0},
        region_redirects{0}, lost_uploads_aborted{0};
  } counters_;
};

// Where a request for bucket/key goes: "https://bucket.s3.eu-west-1.amazonaws.com/key"
// (virtual-hosted), "https://s3.eu-west-1.amazonaws.com/my.bucket/key" (path-style: forced,
// or a bucket name that is no DNS label), "http://127.0.0.1:9000/bucket/key" (an endpoint).
struct S3Address {
  std::string scheme;  // "https"
  std::string host;    // the Host header: "bucket.s3.eu-west-1.amazonaws.com", "127.0.0.1:9000"
  std::string path;    // URI-encoded: "/key%20name", "/bucket/key"
};
S3Address S3AddressOf(const S3Config& config, const std::string& region, const std::string& bucket,
                      const std::string& key);

// "s3://bucket/key/with/slashes" -> {"bucket", "key/with/slashes"}. Throws UsageError.
struct S3Location {
  std::string bucket;
  std::string key;
};
S3Location ParseS3Location(const std::string& location);

}  // namespace ipinsights
