#include "ipinsights/detect/security_hub.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <chrono>
#include <ctime>
#include <random>
#include <thread>

#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/storage/aws_credentials.h"
#include "ipinsights/storage/http_client.h"
#include "ipinsights/storage/sigv4.h"

namespace ipinsights {
namespace {

constexpr std::string_view kImportPath = "/findings/import";
constexpr int64_t kRetryBaseMs = 200;
constexpr int64_t kRetryMaxMs = 10'000;

// Full jitter: a random wait in [0, min(max, base * 2^(attempt-1))], so that many clients
// throttled together do not come back together.
void SleepBackoff(int attempt) {
  thread_local std::mt19937_64 random(std::random_device{}());
  int64_t cap = kRetryBaseMs;
  for (int i = 1; i < attempt && cap < kRetryMaxMs; ++i) cap *= 2;
  std::uniform_int_distribution<int64_t> pick(0, std::min(cap, kRetryMaxMs));
  std::this_thread::sleep_for(std::chrono::milliseconds(pick(random)));
}

bool IsRegionName(std::string_view region) {
  return !region.empty() &&
         region.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == std::string::npos;
}

struct Endpoint {
  std::string scheme;
  std::string host;  // the Host header
  std::string base_path;
};

Endpoint ParseEndpoint(const std::string& url) {
  const size_t colon = url.find("://");
  if (colon == std::string::npos) {
    throw UsageError(fmt::format("Security Hub endpoint URL {} has no scheme (http:// or https://)",
                                 QuoteForMessage(url)));
  }
  Endpoint endpoint;
  endpoint.scheme = url.substr(0, colon);
  std::string rest = url.substr(colon + 3);
  const size_t slash = rest.find('/');
  endpoint.host = rest.substr(0, slash);
  if (slash != std::string::npos) endpoint.base_path = rest.substr(slash);
  while (!endpoint.base_path.empty() && endpoint.base_path.back() == '/') {
    endpoint.base_path.pop_back();
  }
  if (endpoint.host.empty()) {
    throw UsageError(fmt::format("Security Hub endpoint URL {} has no host", QuoteForMessage(url)));
  }
  return endpoint;
}

// The finding ids of a {"Findings":[...]} body, for messages about a whole batch; nullopt
// when the body is not one.
std::optional<std::vector<std::string>> BatchIds(simdjson::dom::parser& parser,
                                                 const std::string& body) {
  simdjson::dom::element document;
  if (parser.parse(body).get(document) != simdjson::SUCCESS) return std::nullopt;
  simdjson::dom::array findings;
  if (document["Findings"].get(findings) != simdjson::SUCCESS) return std::nullopt;
  std::vector<std::string> ids;
  for (simdjson::dom::element finding : findings) {
    std::string_view id;
    ids.emplace_back(finding["Id"].get(id) == simdjson::SUCCESS ? id : "(no Id)");
  }
  return ids;
}

// The service's error message: rest-json errors carry {"message": ...} or {"Message": ...},
// and the error's name in the x-amzn-ErrorType header ("InvalidInputException:http://...").
std::string ErrorMessage(simdjson::dom::parser& parser, const HttpClientResponse& response) {
  std::string type = response.Header("x-amzn-errortype");
  type = type.substr(0, type.find(':'));
  std::string message;
  simdjson::dom::element document;
  if (parser.parse(response.body).get(document) == simdjson::SUCCESS) {
    std::string_view text;
    if (document["message"].get(text) == simdjson::SUCCESS ||
        document["Message"].get(text) == simdjson::SUCCESS) {
      message = std::string(text);
    }
    if (type.empty() && (document["__type"].get(text) == simdjson::SUCCESS ||
                         document["code"].get(text) == simdjson::SUCCESS ||
                         document["Code"].get(text) == simdjson::SUCCESS)) {
      type = std::string(text.substr(0, text.find(':')));
    }
  }
  if (message.empty()) message = QuoteForMessage(response.body, 200);
  return type.empty() ? message : type + ": " + message;
}

bool IsExpiredToken(const std::string& message) {
  return message.rfind("ExpiredToken", 0) == 0 || message.rfind("ExpiredTokenException", 0) == 0;
}

}  // namespace

SecurityHubClient::SecurityHubClient(const SecurityHubOptions& options) : options_(options) {
  const AwsEnvironment environment = AwsEnvironment::Process();
  if (options_.region.empty()) {
    options_.region =
        environment.Get("AWS_REGION").value_or(environment.Get("AWS_DEFAULT_REGION").value_or(""));
  }
  if (options_.region.empty()) {
    throw UsageError(
        "Security Hub needs a region: give --region or set AWS_REGION (findings are imported "
        "into the region's Security Hub)");
  }
  if (!IsRegionName(options_.region)) {
    throw UsageError(fmt::format("Security Hub region {} is not a region name (us-east-1)",
                                 QuoteForMessage(options_.region)));
  }
  if (options_.max_attempts < 1) options_.max_attempts = 1;
  endpoint_ = options_.endpoint;
  if (endpoint_.empty()) {
    endpoint_ = environment.Get("AWS_ENDPOINT_URL_SECURITYHUB")
                    .value_or(environment.Get("AWS_ENDPOINT_URL").value_or(""));
  }
  if (endpoint_.empty()) {
    const std::string domain =
        options_.region.rfind("cn-", 0) == 0 ? "amazonaws.com.cn" : "amazonaws.com";
    endpoint_ = "https://securityhub." + options_.region + "." + domain;
  }
  while (!endpoint_.empty() && endpoint_.back() == '/') endpoint_.pop_back();
  ParseEndpoint(endpoint_);  // a bad override is a usage error now, not at the first send
  // Fails here, before any work, when there are no credentials (the error lists the sources).
  AwsCredentialsChain(environment).Get();
}

SecurityHubResult SecurityHubClient::Import(const std::vector<std::string>& batches) {
  SecurityHubResult result;
  const Endpoint endpoint = ParseEndpoint(endpoint_);
  const std::string path = endpoint.base_path + std::string(kImportPath);
  const std::string url = endpoint.scheme + "://" + endpoint.host + path;
  AwsCredentialsChain credentials_chain(AwsEnvironment::Process());
  simdjson::dom::parser parser;

  for (size_t index = 0; index < batches.size(); ++index) {
    const std::string& body = batches[index];
    const std::string batch_name = fmt::format("batch {}", index + 1);
    std::optional<std::vector<std::string>> ids = BatchIds(parser, body);
    if (!ids) {
      // Counted as failed (at least one finding) so the run fails and no state records it.
      result.failures.push_back(batch_name + ": not a {\"Findings\":[...]} request body");
      result.failed += 1;
      continue;
    }
    const uint64_t count = ids->size();
    result.sent += count;
    const std::string payload_hash = Sha256Hex(body);
    bool credentials_refreshed = false;
    std::string problem;
    bool answered = false;
    HttpClientResponse response;
    for (int attempt = 1;; ++attempt) {
      if (attempt > 1) SleepBackoff(attempt - 1);
      AwsCredentials credentials;
      try {
        credentials = credentials_chain.Get();
      } catch (const Error& error) {
        problem = error.what();
        answered = false;
        break;
      }
      SignableRequest signable{
          "POST", endpoint.host, path, {}, {{"content-type", "application/json"}}, payload_hash};
      HttpRequest http;
      http.method = "POST";
      http.url = url;
      http.headers = signable.headers;
      for (auto& header : SignV4(signable, credentials, options_.region, "securityhub",
                                 static_cast<int64_t>(std::time(nullptr)))) {
        http.headers.push_back(std::move(header));
      }
      http.body = body;
      http.timeout_ms = 120'000;
      try {
        response = HttpPerform(http);
      } catch (const HttpTransportError& error) {
        answered = false;
        problem = std::string("connection failed: ") + error.what();
        if (attempt < options_.max_attempts) continue;
        problem += fmt::format(" (gave up after {} attempts)", attempt);
        break;
      }
      answered = true;
      if (response.status >= 200 && response.status < 300) break;
      problem = fmt::format("HTTP {}: {}", response.status, ErrorMessage(parser, response));
      if (IsExpiredToken(ErrorMessage(parser, response)) && !credentials_refreshed) {
        credentials_refreshed = true;
        credentials_chain.Invalidate();
        continue;
      }
      const bool retryable = response.status == 429 || response.status >= 500;
      if (retryable && attempt < options_.max_attempts) continue;
      if (retryable) problem += fmt::format(" (gave up after {} attempts)", attempt);
      break;
    }
    if (answered) ++result.batches;
    if (!answered || response.status < 200 || response.status >= 300) {
      result.failed += count;
      result.failures.push_back(batch_name + ": " + problem);
      continue;
    }
    // A 2xx answer: SuccessCount, FailedCount and FailedFindings for the partial failures.
    simdjson::dom::element document;
    uint64_t succeeded = 0, failed = 0;
    if (parser.parse(response.body).get(document) != simdjson::SUCCESS ||
        document["SuccessCount"].get(succeeded) != simdjson::SUCCESS ||
        document["FailedCount"].get(failed) != simdjson::SUCCESS) {
      result.failed += count;
      result.failures.push_back(
          fmt::format("{}: HTTP {}: the answer has no SuccessCount and FailedCount: {}", batch_name,
                      response.status, QuoteForMessage(response.body, 200)));
      continue;
    }
    result.succeeded += succeeded;
    result.failed += failed;
    simdjson::dom::array failed_findings;
    if (document["FailedFindings"].get(failed_findings) == simdjson::SUCCESS) {
      for (simdjson::dom::element item : failed_findings) {
        auto field = [&](const char* name, std::string_view fallback) {
          std::string_view value;
          return item[name].get(value) == simdjson::SUCCESS ? value : fallback;
        };
        result.failures.push_back(fmt::format("{}: {}: {}", field("Id", "(no Id)"),
                                              field("ErrorCode", "(no ErrorCode)"),
                                              field("ErrorMessage", "")));
      }
    }
  }
  return result;
}

}  // namespace ipinsights
