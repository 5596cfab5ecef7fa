#include "ipinsights/serve/sigv4_verifier.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/storage/sigv4.h"

namespace ipinsights {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Header value as botocore canonicalises it: blanks collapsed to one space, trimmed.
std::string CollapseBlanks(std::string_view value) {
  std::string out;
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out += ' ';
    pending_space = false;
    out += c;
  }
  return out;
}

std::optional<std::string_view> FindHeader(const SignedRequestView& request, std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (key.size() == name.size() && Lower(key) == name) return value;
  }
  return std::nullopt;
}

// Parses "20261128T052659Z" into Unix seconds.
std::optional<std::time_t> ParseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t pos, size_t n) -> int {
    int v = 0;
    for (size_t i = pos; i < pos + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(text[i]))) return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  int64_t days = DaysFromCivil(Date{year, month, day});
  return static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
}

}  // namespace

SigV4Verifier SigV4Verifier::FromKeysFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrnoMessage(path + ": cannot open", errno));
  std::map<std::string, std::string> secrets;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = Trim(line);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty() || text.front() == '#') continue;
    size_t space = text.find_first_of(" \t");
    if (space == std::string_view::npos) throw Error(path + ":" + std::to_string(number) + ": expected \"ACCESS_KEY_ID SECRET\"");
    std::string_view key = text.substr(0, space);
    std::string_view secret = Trim(text.substr(space));
    if (secret.empty() || secret.find_first_of(" \t") != std::string_view::npos)
      throw Error(path + ":" + std::to_string(number) + ": expected \"ACCESS_KEY_ID SECRET\"");
    secrets[std::string(key)] = std::string(secret);
  }
  if (secrets.empty()) throw Error(path + ": no access keys");
  return SigV4Verifier(std::move(secrets));
}

std::string SigV4Verifier::Sign(std::string_view secret, std::string_view date, std::string_view region,
                                std::string_view service, std::string_view string_to_sign) {
  return SigV4Signature(secret, date, region, service, string_to_sign);
}

std::string SigV4Verifier::CanonicalRequest(const SignedRequestView& request,
                                            const std::vector<std::string>& signed_headers,
                                            const std::string& payload_hash) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query = question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  std::vector<std::pair<std::string_view, std::string_view>> parameters;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t equals = pair.find('=');
    parameters.emplace_back(pair.substr(0, equals),
                            equals == std::string_view::npos ? std::string_view() : pair.substr(equals + 1));
  }
  std::sort(parameters.begin(), parameters.end());

  std::string out(request.method);
  out += '\n';
  out += UriEncodePath(path.empty() ? std::string_view("/") : path);
  out += '\n';
  for (size_t i = 0; i < parameters.size(); ++i) {
    if (i > 0) out += '&';
    out += parameters[i].first;
    out += '=';
    out += parameters[i].second;
  }
  out += '\n';
  for (const std::string& name : signed_headers) {
    std::string value;
    bool first = true;
    for (const auto& [key, header_value] : request.headers) {
      if (Lower(key) != name) continue;
      if (!first) value += ',';
      value += CollapseBlanks(header_value);
      first = false;
    }
    out += name;
    out += ':';
    out += value;
    out += '\n';
  }
  out += '\n';
  for (size_t i = 0; i < signed_headers.size(); ++i) {
    if (i > 0) out += ';';
    out += signed_headers[i];
  }
  out += '\n';
  out += payload_hash;
  return out;
}

std::optional<std::string> SigV4Verifier::Verify(const SignedRequestView& request, std::time_t now) const {
  std::optional<std::string_view> authorization = FindHeader(request, "authorization");
  if (!authorization) return std::string("missing Authorization (AWS SigV4) header");
  std::string_view auth = Trim(*authorization);
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm) return std::string("Authorization is not AWS4-HMAC-SHA256");
  auth.remove_prefix(kAlgorithm.size());
  std::string_view credential, signed_headers_text, signature;
  while (!auth.empty()) {
    size_t comma = auth.find(',');
    std::string_view part = Trim(auth.substr(0, comma));
    auth = comma == std::string_view::npos ? std::string_view() : auth.substr(comma + 1);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = part.substr(0, equals), value = part.substr(equals + 1);
    if (name == "Credential") credential = value;
    else if (name == "SignedHeaders") signed_headers_text = value;
    else if (name == "Signature") signature = value;
  }
  if (credential.empty() || signed_headers_text.empty() || signature.empty())
    return std::string("malformed Authorization header");

  // Credential = AKID/DATE/REGION/SERVICE/aws4_request
  std::vector<std::string_view> scope;
  for (std::string_view rest = credential;;) {
    size_t slash = rest.find('/');
    scope.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  if (scope.size() != 5 || scope[4] != "aws4_request") return std::string("malformed credential scope");
  auto secret = secrets_.find(std::string(scope[0]));
  if (secret == secrets_.end()) return std::string("unknown access key");
  if (scope[3] != "sagemaker") return std::string("credential scope is not for service \"sagemaker\"");

  std::optional<std::string_view> amz_date = FindHeader(request, "x-amz-date");
  if (!amz_date) return std::string("missing X-Amz-Date header");
  std::optional<std::time_t> signed_at = ParseAmzDate(Trim(*amz_date));
  if (!signed_at) return std::string("malformed X-Amz-Date header");
  if (std::llabs(static_cast<long long>(*signed_at - now)) > 15 * 60)
    return std::string("request time too skewed (X-Amz-Date)");
  if (Trim(*amz_date).substr(0, 8) != scope[1]) return std::string("credential date does not match X-Amz-Date");

  std::vector<std::string> signed_headers;
  for (std::string_view rest = signed_headers_text;;) {
    size_t semicolon = rest.find(';');
    signed_headers.push_back(Lower(rest.substr(0, semicolon)));
    if (semicolon == std::string_view::npos) break;
    rest.remove_prefix(semicolon + 1);
  }
  if (std::find(signed_headers.begin(), signed_headers.end(), "host") == signed_headers.end())
    return std::string("the Host header must be signed");
  for (const std::string& name : signed_headers) {
    if (!FindHeader(request, name)) return "signed header \"" + name + "\" is missing";
  }

  std::string canonical = CanonicalRequest(request, signed_headers, Sha256Hex(request.body));
  std::string string_to_sign = std::string(kAlgorithm) + "\n" + std::string(Trim(*amz_date)) + "\n" +
                               std::string(scope[1]) + "/" + std::string(scope[2]) + "/" + std::string(scope[3]) +
                               "/aws4_request\n" + Sha256Hex(canonical);
  std::string expected = Sign(secret->second, scope[1], scope[2], scope[3], string_to_sign);
  if (expected.size() != signature.size() || CRYPTO_memcmp(expected.data(), signature.data(), expected.size()) != 0)
    return std::string("signature does not match");
  return std::nullopt;
}

}  // namespace ipinsights
