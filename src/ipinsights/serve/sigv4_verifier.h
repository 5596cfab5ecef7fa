// SigV4Verifier: checks that a request carries a valid AWS Signature Version 4 made with one
// of a known set of access keys, so that boto3 and the AWS CLI (which sign every
// sagemaker-runtime call) authenticate to `serve --auth-keys FILE` unchanged.
//
// Verified as AWS documents it (and botocore signs): the Authorization header
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
// Signature=HEX", the canonical request (method, the path URI-encoded once more, the query as
// sent and sorted, the signed headers lower-cased with blanks collapsed, the SHA-256 of the
// body), the string to sign with X-Amz-Date, and the HMAC-SHA256 key chain. The service must
// be "sagemaker"; any region is accepted; X-Amz-Date must be within 15 minutes of now;
// "host" must be among the signed headers.
//
// Thread-safety: immutable after construction; Verify may be called from any thread.
//
//   SigV4Verifier verifier = SigV4Verifier::FromKeysFile("keys.txt");  // "AKID SECRET" lines
//   if (auto error = verifier.Verify(request_view, time(nullptr))) Forbidden(*error);
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ipinsights {

// What the verifier needs of a request; the strings point into the caller's request.
struct SignedRequestView {
  std::string_view method;
  std::string_view target;  // path?query as received
  std::vector<std::pair<std::string_view, std::string_view>> headers;
  std::string_view body;
};

class SigV4Verifier {
 public:
  // Reads lines "ACCESS_KEY_ID SECRET" (blank lines and # comments skipped). Throws Error
  // naming the file and line when a line is malformed or the file has no keys.
  static SigV4Verifier FromKeysFile(const std::string& path);
  explicit SigV4Verifier(std::map<std::string, std::string> secrets) : secrets_(std::move(secrets)) {}

  // nullopt when the signature is valid; otherwise why not (for the 403 body).
  std::optional<std::string> Verify(const SignedRequestView& request, std::time_t now) const;

  // The signature a client with `secret` would send (exposed for tests and the fuzzer).
  static std::string Sign(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service, std::string_view string_to_sign);
  static std::string CanonicalRequest(const SignedRequestView& request, const std::vector<std::string>& signed_headers,
                                      const std::string& payload_hash);

 private:
  std::map<std::string, std::string> secrets_;
};

}  // namespace ipinsights
