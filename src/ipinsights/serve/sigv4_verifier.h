// SigV4Verifier: checks that a request carries a valid AWS Signature Version 4 made with one
// of a known set of access keys, so that boto3 and the AWS CLI (which sign every
// sagemaker-runtime call) authenticate to `serve --auth-keys FILE` unchanged.
//
// Verified as AWS documents it (and botocore signs): the Authorization header
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=...,
// Signature=HEX", the canonical request (method, the path URI-encoded once more, the query as
// sent and sorted, the signed headers lower-cased with blanks collapsed, the SHA-256 of the
// body), the string to sign with X-Amz-Date, and the HMAC-SHA256 key chain. The service must
// be "sagemaker"; X-Amz-Date must be within 15 minutes of now; "host" must be among the signed
// headers. SignedHeaders must name at most 64 headers, lower-case, sorted and unique, as every
// AWS SDK sends them; the canonical request is then built in one merge of the signed names
// with the request's headers (sorted once), so a hostile header costs linear time.
//
// Hardening (see docs/serve.md):
// - Options::host / Options::region pin the signed Host value and the credential scope's
//   region; empty: any.
// - An Accept header that is present but not signed is refused, unless it is "*/*" (curl's
//   default, which means the same as no Accept), so a captured request cannot be switched to
//   verbose=True.
// - An unknown access key and a wrong signature get the same message.
// - Options::metrics_token: GET /metrics with "Authorization: Bearer TOKEN" passes without a
//   signature (Prometheus scrapes cannot sign). It opens no other route.
//
// Thread-safety: Verify may be called from any thread, also while ReloadKeysFile swaps the keys.
//
//   SigV4Verifier verifier = SigV4Verifier::FromKeysFile("keys.txt");  // "AKID SECRET" lines
//   if (auto error = verifier.Verify(request_view, time(nullptr))) Forbidden(*error);
#pragma once

#include <cstdint>
#include <ctime>
#include <map>
#include <memory>
#include <mutex>
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
  struct Options {
    std::string host;    // the signed Host must equal this (ASCII case-insensitive); empty: any
    std::string region;  // the credential scope's region must equal this; empty: any
    std::string metrics_token;  // Bearer token that opens GET /metrics; empty: /metrics needs SigV4
  };
  static constexpr size_t kMaxSignedHeaders = 64;

  // Reads lines "ACCESS_KEY_ID SECRET" (blank lines and # comments skipped). Throws Error
  // naming the file and line when a line is malformed or the file has no keys.
  static SigV4Verifier FromKeysFile(const std::string& path, Options options = {});
  static std::map<std::string, std::string> ReadKeysFile(const std::string& path);
  explicit SigV4Verifier(std::map<std::string, std::string> secrets, Options options = {});
  SigV4Verifier(SigV4Verifier&& other) noexcept;

  // Re-reads the keys file given to FromKeysFile and swaps the keys in; requests being
  // verified finish with the keys they started with. Throws Error (the current keys stay)
  // when the file cannot be read or is malformed.
  void ReloadKeysFile();

  // nullopt when the signature is valid; otherwise why not (for the 403 body).
  std::optional<std::string> Verify(const SignedRequestView& request, std::time_t now) const;

  // The signature a client with `secret` would send (exposed for tests and the fuzzer).
  static std::string Sign(std::string_view secret, std::string_view date, std::string_view region,
                          std::string_view service, std::string_view string_to_sign);
  // `signed_headers` must be lower-case, sorted and unique (Verify checks that first); each
  // one's value is every request header of that name, in order, joined by commas.
  static std::string CanonicalRequest(const SignedRequestView& request,
                                      const std::vector<std::string>& signed_headers,
                                      const std::string& payload_hash);

 private:
  using Keys = std::map<std::string, std::string>;
  std::shared_ptr<const Keys> keys() const;

  Options options_;
  std::string keys_path_;
  mutable std::mutex keys_mutex_;
  std::shared_ptr<const Keys> keys_;  // guarded by keys_mutex_ (the pointer, not the map)
};

}  // namespace ipinsights
