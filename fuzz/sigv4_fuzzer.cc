// Fuzzes SigV4Verifier::Verify (serve/sigv4_verifier.h), which parses the client's
// Authorization and X-Amz-Date headers before any key is known to be good.
//
// Input: a request in HTTP-like text, "METHOD TARGET\n" then "Name: value\n" header lines,
// a blank line, then the body. Verify must answer (nullopt or a reason) without crashing.
// Invariant: the same request signed the way botocore signs it, with every header
// present signed, is accepted, and a one-byte change of the body is then rejected.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <ctime>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ipinsights/base/error.h"
#include "ipinsights/serve/sigv4_verifier.h"
#include "ipinsights/storage/sigv4.h"

using namespace ipinsights;

namespace {

constexpr std::time_t kNow = 1795843620;  // 2026-11-28T05:27:00Z
constexpr std::string_view kAmzDate = "20261128T052700Z";

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A header name botocore could sign: a token that survives the ";"- and ","-separated lists.
bool IsSignableName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  }
  return true;
}

SignedRequestView ParseRequest(std::string_view text) {
  SignedRequestView request;
  size_t end_of_line = text.find('\n');
  std::string_view first = text.substr(0, end_of_line);
  text = end_of_line == std::string_view::npos ? std::string_view() : text.substr(end_of_line + 1);
  size_t space = first.find(' ');
  request.method = first.substr(0, space);
  request.target = space == std::string_view::npos ? std::string_view() : first.substr(space + 1);
  while (!text.empty()) {
    end_of_line = text.find('\n');
    std::string_view line = text.substr(0, end_of_line);
    text =
        end_of_line == std::string_view::npos ? std::string_view() : text.substr(end_of_line + 1);
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(name, value);
  }
  request.body = text;
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const SigV4Verifier verifier(
      std::map<std::string, std::string>{{"AKIDTEST", "secret-one"}});
  try {
    SignedRequestView request = ParseRequest(fuzz::AsText(data, size));
    std::optional<std::string> verdict = verifier.Verify(request, kNow);
    if (verdict) FUZZ_CHECK(!verdict->empty(), "a rejection says why");

    // Sign it properly: keep the headers that can be signed, add Host and X-Amz-Date.
    SignedRequestView good;
    good.method = request.method;
    good.target = request.target;
    good.body = request.body;
    std::vector<std::string> names = {"host", "x-amz-date"};
    good.headers.emplace_back("Host", "localhost:8080");
    good.headers.emplace_back("X-Amz-Date", kAmzDate);
    for (const auto& [name, value] : request.headers) {
      std::string lower = Lower(name);
      if (!IsSignableName(name) || lower == "authorization" || lower == "host" ||
          lower == "x-amz-date")
        continue;
      good.headers.emplace_back(name, value);
      names.push_back(lower);
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    // The verifier refuses longer SignedHeaders lists, as AWS does (review M1).
    if (names.size() > SigV4Verifier::kMaxSignedHeaders) return 0;
    std::string signed_headers;
    for (const std::string& name : names)
      signed_headers += (signed_headers.empty() ? "" : ";") + name;
    std::string canonical = SigV4Verifier::CanonicalRequest(good, names, Sha256Hex(good.body));
    std::string string_to_sign = "AWS4-HMAC-SHA256\n" + std::string(kAmzDate) +
                                 "\n20261128/eu-west-1/sagemaker/aws4_request\n" +
                                 Sha256Hex(canonical);
    std::string authorization =
        "AWS4-HMAC-SHA256 Credential=AKIDTEST/20261128/eu-west-1/sagemaker/aws4_request, "
        "SignedHeaders=" +
        signed_headers + ", Signature=" +
        SigV4Verifier::Sign("secret-one", "20261128", "eu-west-1", "sagemaker", string_to_sign);
    good.headers.emplace_back("Authorization", authorization);
    std::optional<std::string> accepted = verifier.Verify(good, kNow);
    if (accepted) std::fprintf(stderr, "rejected: %s\n", accepted->c_str());
    FUZZ_CHECK(!accepted, "a correctly signed request is accepted");

    std::string altered(good.body);
    altered += 'x';
    good.body = altered;
    FUZZ_CHECK(verifier.Verify(good, kNow).has_value(), "a changed body is rejected");
  } catch (const Error&) {
  }
  return 0;
}
