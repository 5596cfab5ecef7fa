// SecurityHubClient: sends ASFF findings to AWS Security Hub's BatchImportFindings
// (POST /findings/import, SigV4 service "securityhub") with the storage component's
// credentials chain, signer and HTTP client. Batches of at most 100 (the API's limit);
// throttling (429, 5xx, transport errors) retried with jittered exponential backoff; a
// partial failure (FailedFindings) is reported per finding id, never hidden; a 4xx other
// than throttling fails that batch and the rest are still sent.
//
// Endpoint: https://securityhub.<region>.amazonaws.com, or an override (tests, VPC
// endpoints): SecurityHubOptions::endpoint, else AWS_ENDPOINT_URL_SECURITYHUB, else
// AWS_ENDPOINT_URL.
//
// Thread-safety: one call at a time per client.
//
//   SecurityHubClient client({.region = "us-east-1"});
//   SecurityHubResult result = client.Import(AsffBatches(findings, context));
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ipinsights {

struct SecurityHubOptions {
  std::string region;    // required ("" = AWS_REGION / AWS_DEFAULT_REGION)
  std::string endpoint;  // "" = the environment's override or the public endpoint
  int max_attempts = 5;  // per batch
};

struct SecurityHubResult {
  uint64_t batches = 0;    // calls that got an answer
  uint64_t sent = 0;       // findings sent
  uint64_t succeeded = 0;  // SuccessCount summed
  uint64_t failed = 0;     // FailedCount summed, plus the findings of failed batches
  // "<finding id>: <ErrorCode>: <ErrorMessage>", or "batch 3: HTTP 403: <message>".
  std::vector<std::string> failures;
};

class SecurityHubClient {
 public:
  // Throws UsageError when no region can be found, Error when no credentials can be found.
  explicit SecurityHubClient(const SecurityHubOptions& options);
  // `batches`: {"Findings":[...]} bodies (AsffBatches). Never throws for a rejected batch or
  // finding: see SecurityHubResult.
  SecurityHubResult Import(const std::vector<std::string>& batches);

 private:
  SecurityHubOptions options_;
  std::string endpoint_;
};

}  // namespace ipinsights
