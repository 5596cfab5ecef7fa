#include "ipinsights/storage/s3_client.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <random>
#include <thread>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/http_client.h"
#include "ipinsights/storage/s3_xml.h"
#include "ipinsights/storage/sigv4.h"

namespace ipinsights {
namespace {

enum class RequestKind { kList, kGet, kHead, kPut, kMultipart };

std::mutex& EndpointOverrideMutex() {
  static std::mutex mutex;
  return mutex;
}
std::string& EndpointOverride() {
  static std::string endpoint;
  return endpoint;
}

bool IsTrueValue(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string lower = *value;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "true" || lower == "1" || lower == "yes";
}

// Bucket names that cannot be a DNS label under TLS wildcards (dots, upper case,
// underscores) go path-style.
bool NeedsPathStyle(const std::string& bucket) {
  for (char c : bucket) {
    if (c == '.' || c == '_' || (c >= 'A' && c <= 'Z')) return true;
  }
  return false;
}

// Bucket names: S3's rules ([a-z0-9.-]), plus the legacy us-east-1 names with upper case
// and '_' (those go path-style, never into a host name). Nothing else may reach a URL.
bool IsValidBucketName(std::string_view bucket) {
  if (bucket.empty() || bucket.size() > 255) return false;
  for (char c : bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' ||
          (c >= 'A' && c <= 'Z') || c == '_')) {
      return false;
    }
  }
  return true;
}

// Region names ("eu-west-1", "us-gov-west-1", "cn-north-1"): [a-z0-9-]. No dots, so a
// region can never move the host name out of the S3 domain.
bool IsValidRegionName(std::string_view region) {
  if (region.empty() || region.size() > 63) return false;
  for (char c : region) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) return false;
  }
  return true;
}

std::string BucketNameError(const std::string& bucket) {
  return "\"" + bucket + "\" is not a valid S3 bucket name (letters, digits, '.', '-')";
}
std::string RegionNameError(const std::string& region) {
  return "\"" + region + "\" is not a valid AWS region name (a-z, 0-9, '-')";
}

// "2026-12-06T05:10:00.123Z" (S3's <Initiated>) in milliseconds since 1970; nullopt if not.
std::optional<int64_t> ParseIsoMillis(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  char dot = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%c%3d", &tm.tm_year, &tm.tm_mon,
                  &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &dot, &millis) < 6) {
    return std::nullopt;
  }
  if (dot != '.') millis = 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + millis;
}

void SleepBackoff(const S3Config& config, int attempt) {
  thread_local std::mt19937_64 random(std::random_device{}());
  int64_t cap = config.retry_base_ms;
  for (int i = 1; i < attempt && cap < config.retry_max_ms; ++i) cap *= 2;
  cap = std::min<int64_t>(cap, config.retry_max_ms);
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(cap, 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

std::string ErrorField(const std::string& body, std::string_view name) {
  auto value = XmlFirst(body, name);
  return value ? XmlText(*value) : std::string();
}

bool IsRetryableCode(const std::string& code) {
  return code == "SlowDown" || code == "InternalError" || code == "RequestTimeout" ||
         code == "ServiceUnavailable" || code == "Throttling" || code == "ThrottlingException" ||
         code == "RequestTimeTooSkewed" || code == "OperationAborted";
}

bool IsExpiredCode(const std::string& code) {
  return code == "ExpiredToken" || code == "TokenRefreshRequired" ||
         code == "ExpiredTokenException";
}

// Parses "bytes 100-199/1000" (or "bytes */1000") into first byte and total.
bool ParseContentRange(const std::string& value, uint64_t* first, uint64_t* total) {
  size_t space = value.find(' ');
  size_t slash = value.find('/');
  if (space == std::string::npos || slash == std::string::npos) return false;
  std::string range = value.substr(space + 1, slash - space - 1);
  std::string size = value.substr(slash + 1);
  if (size == "*") return false;
  *total = std::strtoull(size.c_str(), nullptr, 10);
  *first = range == "*" ? 0 : std::strtoull(range.c_str(), nullptr, 10);
  return true;
}

}  // namespace

void SetS3EndpointOverride(std::string endpoint_url) {
  std::lock_guard<std::mutex> lock(EndpointOverrideMutex());
  EndpointOverride() = std::move(endpoint_url);
}

S3Config S3Config::FromEnvironment(const AwsEnvironment& environment) {
  S3Config config;
  config.region = ResolveAwsRegion(environment);
  {
    std::lock_guard<std::mutex> lock(EndpointOverrideMutex());
    config.endpoint = EndpointOverride();
  }
  if (config.endpoint.empty()) {
    config.endpoint = environment.Get("AWS_ENDPOINT_URL_S3")
                          .value_or(environment.Get("AWS_ENDPOINT_URL").value_or(""));
  }
  while (!config.endpoint.empty() && config.endpoint.back() == '/') config.endpoint.pop_back();
  config.force_path_style = IsTrueValue(environment.Get("AWS_S3_FORCE_PATH_STYLE"));
  config.credentials = std::make_shared<AwsCredentialsChain>(environment);
  return config;
}

S3Address S3AddressOf(const S3Config& config, const std::string& region, const std::string& bucket,
                      const std::string& key) {
  if (!IsValidBucketName(bucket)) throw Error("s3://" + bucket + ": " + BucketNameError(bucket));
  if (!IsValidRegionName(region)) throw Error("s3://" + bucket + ": " + RegionNameError(region));
  S3Address address;
  address.scheme = "https";
  std::string authority;
  std::string base_path;
  bool path_style = config.force_path_style || NeedsPathStyle(bucket);
  if (!config.endpoint.empty()) {
    size_t colon = config.endpoint.find("://");
    address.scheme = config.endpoint.substr(0, colon);
    std::string rest = config.endpoint.substr(colon + 3);
    size_t slash = rest.find('/');
    authority = rest.substr(0, slash);
    if (slash != std::string::npos) base_path = rest.substr(slash);
    while (!base_path.empty() && base_path.back() == '/') base_path.pop_back();
    path_style = true;  // custom endpoints rarely have wildcard DNS for buckets
  } else {
    const std::string domain = region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    authority = "s3." + region + "." + domain;
  }
  address.host = authority;
  address.path = base_path;
  if (path_style) {
    address.path += "/" + UriEncode(bucket, false);
    if (!key.empty()) address.path += "/" + UriEncodePath(key);
  } else {
    address.host = bucket + "." + authority;
    address.path += "/" + UriEncodePath(key);
  }
  return address;
}

S3Location ParseS3Location(const std::string& location) {
  if (location.rfind("s3://", 0) != 0) throw UsageError(location + ": not an s3:// location");
  std::string rest = location.substr(5);
  size_t slash = rest.find('/');
  S3Location parsed;
  parsed.bucket = rest.substr(0, slash);
  if (slash != std::string::npos) parsed.key = rest.substr(slash + 1);
  if (parsed.bucket.empty()) throw UsageError(location + ": no bucket name after s3://");
  if (!IsValidBucketName(parsed.bucket)) {
    throw UsageError(location + ": " + BucketNameError(parsed.bucket));
  }
  return parsed;
}

struct S3Client::Request {
  RequestKind kind = RequestKind::kGet;
  std::string method = "GET";
  std::string bucket;
  std::string key;
  HttpHeaders query;
  HttpHeaders headers;
  std::string_view body;
  bool sign_payload = false;  // SHA-256 of the body (PUT, POST); GETs use UNSIGNED-PAYLOAD
  HttpBodySink sink;
  std::function<void(long, const HttpHeaders&)> on_headers;
  std::function<void(Request&)> before_attempt;           // rebuilds headers (GET resume)
  std::function<bool(const HttpClientResponse&)> accept;  // non-2xx answers the caller handles
};

struct S3Client::Response : HttpClientResponse {
  int attempts = 1;            // sends of the request, the answered one included
  double resend_window_s = 0;  // seconds from the first send to the answered one
};

S3Client::S3Client(S3Config config) : config_(std::move(config)) {
  if (!config_.credentials) {
    config_.credentials = std::make_shared<AwsCredentialsChain>(AwsEnvironment::Process());
  }
  while (!config_.endpoint.empty() && config_.endpoint.back() == '/') config_.endpoint.pop_back();
  if (!config_.endpoint.empty() && config_.endpoint.find("://") == std::string::npos) {
    throw UsageError("S3 endpoint URL \"" + config_.endpoint +
                     "\" has no scheme (http:// or https://)");
  }
}

std::string S3Client::RegionOf(const std::string& bucket) {
  std::lock_guard<std::mutex> lock(regions_mutex_);
  auto it = bucket_regions_.find(bucket);
  return it == bucket_regions_.end() ? config_.region : it->second;
}

void S3Client::SetRegion(const std::string& bucket, const std::string& region) {
  std::lock_guard<std::mutex> lock(regions_mutex_);
  bucket_regions_[bucket] = region;
}

S3RequestCounts S3Client::counts() const {
  S3RequestCounts counts;
  counts.list = counters_.list.load();
  counts.get = counters_.get.load();
  counts.head = counters_.head.load();
  counts.put = counters_.put.load();
  counts.multipart = counters_.multipart.load();
  counts.retries = counters_.retries.load();
  counts.region_redirects = counters_.region_redirects.load();
  counts.lost_uploads_aborted = counters_.lost_uploads_aborted.load();
  return counts;
}

S3Client::Response S3Client::Send(Request& request) {
  const std::string what =
      "s3://" + request.bucket + (request.key.empty() ? "" : "/" + request.key);
  const std::string payload_hash =
      request.sign_payload ? Sha256Hex(request.body) : std::string(kUnsignedPayload);
  const std::string query = CanonicalQueryString(request.query);
  int attempt = 1;
  int redirects = 0;
  bool credentials_refreshed = false;
  std::string last_problem;

  auto retry_or_throw = [&](const std::string& problem) {
    last_problem = problem;
    if (attempt >= config_.max_attempts) {
      throw Error(what + ": " + problem + " (gave up after " + std::to_string(attempt) +
                  " attempts)");
    }
    SleepBackoff(config_, attempt);
    ++attempt;
    counters_.retries.fetch_add(1);
  };

  const auto first_send = std::chrono::steady_clock::now();
  for (;;) {
    if (request.before_attempt) request.before_attempt(request);
    const std::string region = RegionOf(request.bucket);
    const auto this_send = std::chrono::steady_clock::now();

    const S3Address address = S3AddressOf(config_, region, request.bucket, request.key);
    const std::string& host = address.host;
    const std::string& path = address.path;

    AwsCredentials credentials = config_.credentials->Get();
    SignableRequest signable{request.method,  host,        path, request.query,
                             request.headers, payload_hash};
    HttpRequest http;
    http.method = request.method;
    http.url = address.scheme + "://" + host + path + (query.empty() ? "" : "?" + query);
    http.headers = request.headers;
    for (auto& header :
         SignV4(signable, credentials, region, "s3", static_cast<int64_t>(std::time(nullptr)))) {
      http.headers.push_back(std::move(header));
    }
    http.body = request.body;
    http.on_headers = request.on_headers;

    switch (request.kind) {
      case RequestKind::kList:
        counters_.list.fetch_add(1);
        break;
      case RequestKind::kGet:
        counters_.get.fetch_add(1);
        break;
      case RequestKind::kHead:
        counters_.head.fetch_add(1);
        break;
      case RequestKind::kPut:
        counters_.put.fetch_add(1);
        break;
      case RequestKind::kMultipart:
        counters_.multipart.fetch_add(1);
        break;
    }

    Response response;
    try {
      static_cast<HttpClientResponse&>(response) = HttpPerform(http, request.sink);
    } catch (const HttpTransportError& error) {
      // The URL names the endpoint and key only; no secret is in it.
      retry_or_throw(std::string("connection failed: ") + error.what());
      continue;
    }
    const long status = response.status;
    response.attempts = attempt;
    response.resend_window_s = std::chrono::duration<double>(this_send - first_send).count();
    if (status >= 200 && status < 300) return response;
    if (request.accept && request.accept(response)) return response;

    const std::string code = ErrorField(response.body, "Code");
    const std::string message = ErrorField(response.body, "Message");

    // Wrong region: S3 names the right one in a header or in the error document.
    std::string named_region = response.Header("x-amz-bucket-region");
    if (named_region.empty()) named_region = ErrorField(response.body, "Region");
    if (!named_region.empty() && !IsValidRegionName(named_region)) {
      throw S3Error(what + ": S3 named the bucket's region " + RegionNameError(named_region), code,
                    status);
    }
    if ((status == 301 || status == 307 || code == "PermanentRedirect" ||
         code == "AuthorizationHeaderMalformed" || code == "IllegalLocationConstraintException") &&
        !named_region.empty() && named_region != region && redirects < 3) {
      SetRegion(request.bucket, named_region);
      ++redirects;
      counters_.region_redirects.fetch_add(1);
      continue;
    }
    if (IsExpiredCode(code)) {
      if (!credentials_refreshed) {
        credentials_refreshed = true;
        config_.credentials->Invalidate();
        continue;
      }
      throw S3Error(what + ": the AWS session token from " + credentials.source + " has expired (" +
                        code + "); refresh the credentials and run again",
                    code, status);
    }
    if (status >= 500 || status == 429 || IsRetryableCode(code)) {
      retry_or_throw("HTTP " + std::to_string(status) + (code.empty() ? "" : " " + code));
      continue;
    }

    const std::string from = " (credentials from " + credentials.source + ", access key id " +
                             credentials.access_key_id + ")";
    if (code == "NoSuchBucket") {
      throw S3Error("s3://" + request.bucket + ": no such bucket (region " + region +
                        (config_.endpoint.empty() ? "" : ", endpoint " + config_.endpoint) + ")",
                    code, status);
    }
    if (code == "NoSuchKey" || (status == 404 && request.kind == RequestKind::kGet)) {
      throw S3Error(what + ": no such object", code.empty() ? "NoSuchKey" : code, status);
    }
    if (code == "NoSuchUpload") {
      throw S3Error(what + ": the multipart upload no longer exists", code, status);
    }
    if (code == "AccessDenied" || status == 403) {
      if (code == "InvalidAccessKeyId") {
        throw S3Error(what + ": S3 does not know the access key id" + from, code, status);
      }
      if (code == "SignatureDoesNotMatch") {
        throw S3Error(what +
                          ": S3 refused the request signature: the secret access key does "
                          "not match" +
                          from,
                      code, status);
      }
      throw S3Error(what + ": access denied for " + request.method + " in bucket \"" +
                        request.bucket + "\"" +
                        (request.key.empty() ? "" : ", key \"" + request.key + "\"") + from,
                    code.empty() ? "AccessDenied" : code, status);
    }
    if (code == "PreconditionFailed" || status == 412) {
      throw S3Error(what + ": the object changed while it was being read; read it again",
                    code.empty() ? "PreconditionFailed" : code, status);
    }
    if (status == 301 || code == "PermanentRedirect") {
      throw S3Error(what + ": the bucket is in another region than " + region +
                        " and S3 did not say which; set AWS_REGION",
                    code, status);
    }
    throw S3Error(what + ": " + request.method + " failed: HTTP " + std::to_string(status) +
                      (code.empty() ? "" : " " + code) + (message.empty() ? "" : ": " + message),
                  code, status);
  }
}

S3ListPage S3Client::ListPage(const std::string& bucket, const std::string& prefix,
                              const std::string& delimiter, const std::string& continuation_token,
                              int max_keys) {
  Request request;
  request.kind = RequestKind::kList;
  request.bucket = bucket;
  request.query = {
      {"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", std::to_string(max_keys)}};
  if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
  if (!delimiter.empty()) request.query.emplace_back("delimiter", delimiter);
  if (!continuation_token.empty())
    request.query.emplace_back("continuation-token", continuation_token);
  Response response = Send(request);

  const std::string where = "s3://" + bucket + "/" + prefix + ": ListObjectsV2";
  const std::string_view body = response.body;
  if (body.find("<ListBucketResult") == std::string_view::npos) {
    throw Error(where + ": the answer is not a ListBucketResult document");
  }
  // With encoding-type=url S3 percent-encodes keys and prefixes (so any byte survives XML).
  const bool url_encoded = XmlText(XmlFirst(body, "EncodingType").value_or("")) == "url";
  auto decode = [&](std::string_view raw) {
    std::string text = XmlText(raw);
    return url_encoded ? UriDecode(text) : text;
  };
  S3ListPage page;
  for (std::string_view contents : XmlElements(body, "Contents")) {
    S3Object object;
    auto key = XmlFirst(contents, "Key");
    auto size = XmlFirst(contents, "Size");
    if (!key || !size) throw Error(where + ": a <Contents> element without <Key> or <Size>");
    object.key = decode(*key);
    std::string size_text = XmlText(*size);
    char* end = nullptr;
    object.size = std::strtoull(size_text.c_str(), &end, 10);
    if (size_text.empty() || *end != '\0') {
      throw Error(where + ": bad <Size> \"" + size_text + "\" for key \"" + object.key + "\"");
    }
    page.objects.push_back(std::move(object));
  }
  for (std::string_view common : XmlElements(body, "CommonPrefixes")) {
    if (auto value = XmlFirst(common, "Prefix")) page.common_prefixes.push_back(decode(*value));
  }
  if (XmlText(XmlFirst(body, "IsTruncated").value_or("false")) == "true") {
    page.next_continuation_token = XmlText(XmlFirst(body, "NextContinuationToken").value_or(""));
    if (page.next_continuation_token.empty()) {
      throw Error(where + ": truncated listing without a NextContinuationToken");
    }
  }
  return page;
}

S3ListPage S3Client::ListAll(const std::string& bucket, const std::string& prefix,
                             const std::string& delimiter) {
  S3ListPage all;
  std::string token;
  do {
    S3ListPage page = ListPage(bucket, prefix, delimiter, token);
    for (auto& object : page.objects) all.objects.push_back(std::move(object));
    for (auto& common : page.common_prefixes) all.common_prefixes.push_back(std::move(common));
    token = std::move(page.next_continuation_token);
  } while (!token.empty());
  return all;
}

std::optional<S3ObjectHead> S3Client::Head(const std::string& bucket, const std::string& key) {
  Request request;
  request.kind = RequestKind::kHead;
  request.method = "HEAD";
  request.bucket = bucket;
  request.key = key;
  request.accept = [](const HttpClientResponse& response) { return response.status == 404; };
  Response response = Send(request);
  if (response.status == 404) return std::nullopt;
  S3ObjectHead head;
  head.size = std::strtoull(response.Header("content-length").c_str(), nullptr, 10);
  head.etag = response.Header("etag");
  return head;
}

S3ObjectHead S3Client::Get(const std::string& bucket, const std::string& key, uint64_t offset,
                           std::optional<uint64_t> length, const std::string& if_match,
                           const std::function<void(std::string_view)>& sink,
                           const std::function<void(uint64_t)>& on_size) {
  const std::string what = "s3://" + bucket + "/" + key;
  const uint64_t want_end = length ? offset + *length : UINT64_MAX;  // exclusive
  uint64_t delivered = 0;                                            // bytes handed to `sink`
  uint64_t body_position = 0;  // object offset of the next byte of the current answer
  bool headers_seen = false;   // for the current attempt
  bool size_announced = false;
  S3ObjectHead head;
  head.etag = if_match;
  std::optional<uint64_t> total;

  auto handle_headers = [&](long status, const HttpHeaders& headers) {
    headers_seen = true;
    auto header = [&](std::string_view name) -> std::string {
      for (const auto& [key, value] : headers) {
        if (key == name) return value;
      }
      return "";
    };
    uint64_t first = 0;
    uint64_t size = 0;
    if (status == 206) {
      // A partial answer must start exactly where we asked: bytes from another offset
      // would be spliced in as a silent gap or a duplicate.
      const std::string range = header("content-range");
      const uint64_t asked = offset + delivered;
      if (!ParseContentRange(range, &first, &size)) {
        throw Error(what + ": a 206 answer without a usable Content-Range (\"" + range + "\")");
      }
      if (first != asked) {
        throw Error(what + ": asked for bytes from " + std::to_string(asked) +
                    ", the answer's Content-Range starts at " + std::to_string(first) + " (\"" +
                    range + "\")");
      }
      body_position = first;
      total = size;
    } else {
      // A whole-object answer (or a store that ignores Range): skip what we already have.
      body_position = 0;
      total = std::strtoull(header("content-length").c_str(), nullptr, 10);
    }
    std::string etag = header("etag");
    if (head.etag.empty()) {
      head.etag = etag;  // later resumes are pinned to this version of the object
    } else if (!etag.empty() && etag != head.etag) {
      throw Error(what + ": the object changed while it was being read; read it again");
    }
    if (!size_announced && on_size) {
      size_announced = true;
      on_size(*total);
    }
  };

  Request request;
  request.kind = RequestKind::kGet;
  request.bucket = bucket;
  request.key = key;
  request.before_attempt = [&](Request& r) {
    headers_seen = false;
    r.headers.clear();
    const uint64_t start = offset + delivered;
    if (start > 0 || length) {
      r.headers.emplace_back("Range", "bytes=" + std::to_string(start) + "-" +
                                          (length ? std::to_string(want_end - 1) : ""));
    }
    if (!head.etag.empty()) r.headers.emplace_back("If-Match", head.etag);
  };
  request.on_headers = handle_headers;
  request.sink = [&](std::string_view chunk) {
    // Deliver only the part of this chunk we have not delivered yet.
    const uint64_t chunk_begin = body_position;
    const uint64_t chunk_end = body_position + chunk.size();
    body_position = chunk_end;
    const uint64_t from = std::max(chunk_begin, offset + delivered);
    const uint64_t to = std::min(chunk_end, want_end);
    if (from >= to) return;
    sink(chunk.substr(from - chunk_begin, to - from));
    delivered += to - from;
  };
  request.accept = [](const HttpClientResponse& response) { return response.status == 416; };

  if (length && *length == 0) return head;
  for (int short_reads = 0;; ++short_reads) {
    Response response = Send(request);
    if (response.status == 416) {
      // Range past the end: an empty object, or an offset at or after its end.
      uint64_t first = 0;
      uint64_t size = 0;
      if (ParseContentRange(response.Header("content-range"), &first, &size)) total = size;
      if (!total) total = offset + delivered;
      head.size = *total;
      if (!size_announced && on_size) on_size(*total);
      return head;
    }
    if (!headers_seen) handle_headers(response.status, response.headers);
    head.size = *total;
    const uint64_t expected = std::min(want_end, *total) - std::min(offset, *total);
    if (delivered >= expected) return head;
    // The answer ended early without a transport error (no Content-Length to check
    // against): ask again for the rest.
    if (short_reads + 1 >= config_.max_attempts) {
      throw Error(what + ": the download kept ending early (" + std::to_string(delivered) + " of " +
                  std::to_string(expected) + " bytes)");
    }
    counters_.retries.fetch_add(1);
    SleepBackoff(config_, short_reads + 1);
  }
}

void S3Client::Put(const std::string& bucket, const std::string& key, std::string_view body) {
  Request request;
  request.kind = RequestKind::kPut;
  request.method = "PUT";
  request.bucket = bucket;
  request.key = key;
  request.body = body;
  request.sign_payload = true;
  Send(request);
}

std::string S3Client::CreateMultipartUpload(const std::string& bucket, const std::string& key) {
  Request request;
  request.kind = RequestKind::kMultipart;
  request.method = "POST";
  request.bucket = bucket;
  request.key = key;
  request.query = {{"uploads", ""}};
  request.sign_payload = true;
  Response response = Send(request);
  std::string upload_id = XmlText(XmlFirst(response.body, "UploadId").value_or(""));
  if (upload_id.empty()) {
    throw Error("s3://" + bucket + "/" + key + ": CreateMultipartUpload answer has no UploadId");
  }
  if (response.attempts > 1) AbortLostUploads(bucket, key, upload_id, response.resend_window_s);
  return upload_id;
}

// A POST is not idempotent: when CreateMultipartUpload had to be sent again, an earlier
// send may have created an upload whose answer was lost. Nobody would complete or abort it,
// and S3 keeps (and bills) its parts until a lifecycle rule removes them. Such uploads are
// for this key and were initiated, by S3's clock, at most the resend window (plus a second
// of slack) before the one S3 answered with, or a second after it: those are aborted. The one risk
// is another writer starting an upload of the very same key in those seconds; its completion then
// fails with "the multipart upload no longer exists" (loudly, nothing is lost silently).
// Best effort: without s3:ListBucketMultipartUploads the write goes on as before.
void S3Client::AbortLostUploads(const std::string& bucket, const std::string& key,
                                const std::string& upload_id, double resend_window_s) {
  std::vector<S3Upload> uploads;
  try {
    uploads = ListMultipartUploads(bucket, key);
  } catch (const Error&) {
    return;
  }
  std::optional<int64_t> ours;
  for (const S3Upload& upload : uploads) {
    if (upload.upload_id == upload_id) ours = ParseIsoMillis(upload.initiated);
  }
  if (!ours) return;  // S3 does not list our own upload yet: nothing to compare with
  const int64_t window_ms = static_cast<int64_t>(resend_window_s * 1000) + 1000;
  for (const S3Upload& upload : uploads) {
    if (upload.key != key || upload.upload_id == upload_id) continue;
    const std::optional<int64_t> initiated = ParseIsoMillis(upload.initiated);
    // A send still in flight when we gave up on it may be processed just after ours.
    if (!initiated || *initiated - *ours > 1000 || *ours - *initiated > window_ms) continue;
    try {
      AbortMultipartUpload(bucket, key, upload.upload_id);
      counters_.lost_uploads_aborted.fetch_add(1);
    } catch (const Error&) {
    }
  }
}

std::vector<S3Upload> S3Client::ListMultipartUploads(const std::string& bucket,
                                                     const std::string& prefix) {
  std::vector<S3Upload> uploads;
  std::string key_marker;
  std::string upload_id_marker;
  for (;;) {
    Request request;
    request.kind = RequestKind::kList;
    request.bucket = bucket;
    request.query = {{"uploads", ""}};
    if (!prefix.empty()) request.query.emplace_back("prefix", prefix);
    if (!key_marker.empty()) request.query.emplace_back("key-marker", key_marker);
    if (!upload_id_marker.empty()) request.query.emplace_back("upload-id-marker", upload_id_marker);
    Response response = Send(request);
    const std::string_view body = response.body;
    if (body.find("<ListMultipartUploadsResult") == std::string_view::npos) {
      throw Error("s3://" + bucket + "/" + prefix +
                  ": ListMultipartUploads: the answer is not a ListMultipartUploadsResult");
    }
    for (std::string_view element : XmlElements(body, "Upload")) {
      S3Upload upload;
      upload.key = XmlText(XmlFirst(element, "Key").value_or(""));
      upload.upload_id = XmlText(XmlFirst(element, "UploadId").value_or(""));
      upload.initiated = XmlText(XmlFirst(element, "Initiated").value_or(""));
      uploads.push_back(std::move(upload));
    }
    if (XmlText(XmlFirst(body, "IsTruncated").value_or("false")) != "true") return uploads;
    key_marker = XmlText(XmlFirst(body, "NextKeyMarker").value_or(""));
    upload_id_marker = XmlText(XmlFirst(body, "NextUploadIdMarker").value_or(""));
    if (key_marker.empty() && upload_id_marker.empty()) return uploads;
  }
}

std::string S3Client::UploadPart(const std::string& bucket, const std::string& key,
                                 const std::string& upload_id, int part_number,
                                 std::string_view body) {
  Request request;
  request.kind = RequestKind::kPut;
  request.method = "PUT";
  request.bucket = bucket;
  request.key = key;
  request.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", upload_id}};
  request.body = body;
  request.sign_payload = true;
  Response response = Send(request);
  std::string etag = response.Header("etag");
  if (etag.empty()) {
    throw Error("s3://" + bucket + "/" + key + ": UploadPart " + std::to_string(part_number) +
                " answer has no ETag");
  }
  return etag;
}

void S3Client::CompleteMultipartUpload(const std::string& bucket, const std::string& key,
                                       const std::string& upload_id,
                                       const std::vector<std::string>& part_etags) {
  std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  for (size_t i = 0; i < part_etags.size(); ++i) {
    body += "<Part><PartNumber>" + std::to_string(i + 1) + "</PartNumber><ETag>" +
            XmlEscape(part_etags[i]) + "</ETag></Part>";
  }
  body += "</CompleteMultipartUpload>";
  Request request;
  request.kind = RequestKind::kMultipart;
  request.method = "POST";
  request.bucket = bucket;
  request.key = key;
  request.query = {{"uploadId", upload_id}};
  request.headers = {{"Content-Type", "application/xml"}};
  request.body = body;
  request.sign_payload = true;
  Response response = Send(request);
  // S3 can answer 200 and still fail: the error is in the body.
  if (response.body.find("<Error>") != std::string::npos) {
    throw Error("s3://" + bucket + "/" + key + ": CompleteMultipartUpload failed: " +
                ErrorField(response.body, "Code") + " " + ErrorField(response.body, "Message"));
  }
}

void S3Client::CreateBucket(const std::string& bucket) {
  std::string body;
  const std::string region = RegionOf(bucket);
  if (region != "us-east-1") {
    body =
        "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
        "<LocationConstraint>" +
        region + "</LocationConstraint></CreateBucketConfiguration>";
  }
  Request request;
  request.kind = RequestKind::kPut;
  request.method = "PUT";
  request.bucket = bucket;
  request.body = body;
  request.sign_payload = true;
  Send(request);
}

void S3Client::AbortMultipartUpload(const std::string& bucket, const std::string& key,
                                    const std::string& upload_id) {
  Request request;
  request.kind = RequestKind::kMultipart;
  request.method = "DELETE";
  request.bucket = bucket;
  request.key = key;
  request.query = {{"uploadId", upload_id}};
  request.accept = [](const HttpClientResponse& response) { return response.status == 404; };
  Send(request);
}

}  // namespace ipinsights
