// AWS Signature Version 4 for HTTP requests (S3 and the other services we call).
//
// SignV4() computes the headers that authenticate one request: x-amz-date,
// x-amz-content-sha256, x-amz-security-token (session credentials) and Authorization. The
// canonical request follows the S3 rules: the path is used as sent (already URI-encoded by
// the caller with UriEncodePath, never normalised or encoded twice), query parameters are
// encoded with the RFC 3986 unreserved set and sorted, and every header in the request is
// signed. Verified against botocore's S3SigV4Auth in tests/storage/sigv4_test.cc.
//
// Thread-safety: pure functions.
//
//   SignableRequest request{"GET", "bucket.s3.us-east-1.amazonaws.com", "/key", {}, {},
//                           kUnsignedPayload};
//   for (auto& [name, value] : SignV4(request, credentials, "us-east-1", "s3", time(nullptr)))
//     headers.push_back(name + ": " + value);
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ipinsights/storage/aws_credentials.h"

namespace ipinsights {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

struct SignableRequest {
  std::string method;          // "GET", "PUT", ...
  std::string host;            // Host header value, with ":port" when not the default
  std::string path;            // URI-encoded path, e.g. "/my%20key"
  HeaderList query;            // decoded name/value pairs ("uploads", "") in any order
  HeaderList headers;          // extra headers to send and sign (Range, Content-Type, ...)
  std::string payload_sha256;  // hex SHA-256 of the body, or kUnsignedPayload
};

// Returns the headers to add to the request: "host" is not among them (curl sets it from
// the URL; it is signed all the same). `unix_seconds` is the signing time.
HeaderList SignV4(const SignableRequest& request, const AwsCredentials& credentials,
                  std::string_view region, std::string_view service, int64_t unix_seconds);

// The query string exactly as signed ("a=1&b=x%2Fy"), for building the URL.
std::string CanonicalQueryString(const HeaderList& query);

// RFC 3986 percent-encoding: unreserved characters kept, '/' kept only in paths.
std::string UriEncode(std::string_view text, bool keep_slash);
inline std::string UriEncodePath(std::string_view path) { return UriEncode(path, true); }
// Inverse of UriEncode (also used for keys listed with encoding-type=url; '+' stays '+').
std::string UriDecode(std::string_view text);

std::string Sha256Hex(std::string_view data);

// The hex signature of `string_to_sign` with the SigV4 key derived from the secret and the
// scope (date "YYYYMMDD", region, service). Shared by the signer and by serve's verifier.
std::string SigV4Signature(std::string_view secret_access_key, std::string_view date,
                           std::string_view region, std::string_view service,
                           std::string_view string_to_sign);
// "20240501T120000Z"
std::string AmzDate(int64_t unix_seconds);

}  // namespace ipinsights
