#include "ipinsights/serve/sigv4_verifier.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/storage/sigv4.h"

namespace ipinsights {
namespace {

// The request's headers with lower-cased names, sorted by name (ties in the order received),
// built once per request: lookups are binary searches and the canonical headers one merge.
class HeaderIndex {
 public:
  explicit HeaderIndex(const SignedRequestView& request) {
    size_t total = 0;
    for (const auto& header : request.headers) total += header.first.size();
    names_.reserve(total);  // never reallocates below, so the views stay valid
    entries_.reserve(request.headers.size());
    for (size_t i = 0; i < request.headers.size(); ++i) {
      size_t at = names_.size();
      for (char c : request.headers[i].first)
        names_ += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      entries_.push_back({std::string_view(names_).substr(at, request.headers[i].first.size()),
                          request.headers[i].second, i});
    }
    std::sort(entries_.begin(), entries_.end(), [](const Entry& a, const Entry& b) {
      return a.name != b.name ? a.name < b.name : a.order < b.order;
    });
  }

  struct Entry {
    std::string_view name;  // lower-case
    std::string_view value;
    size_t order;
  };

  // The first entry named `name` (lower-case) or end(); equal names follow it.
  std::vector<Entry>::const_iterator Find(std::string_view name) const {
    auto it = std::lower_bound(entries_.begin(), entries_.end(), name,
                               [](const Entry& e, std::string_view n) { return e.name < n; });
    return it != entries_.end() && it->name == name ? it : entries_.end();
  }
  std::optional<std::string_view> First(std::string_view name) const {
    auto it = Find(name);
    if (it == entries_.end()) return std::nullopt;
    return it->value;
  }
  std::vector<Entry>::const_iterator begin() const { return entries_.begin(); }
  std::vector<Entry>::const_iterator end() const { return entries_.end(); }

 private:
  std::string names_;
  std::vector<Entry> entries_;
};

// A linear scan without allocation, for the one header needed before the index is built.
std::optional<std::string_view> FindHeader(const SignedRequestView& request,
                                           std::string_view name) {
  for (const auto& [key, value] : request.headers) {
    if (EqualsIgnoreCase(key, name)) return value;
  }
  return std::nullopt;
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// Canonical request over a prebuilt index; `signed_headers` sorted and unique.
std::string Canonicalize(const SignedRequestView& request, const HeaderIndex& index,
                         const std::vector<std::string_view>& signed_headers,
                         std::string_view payload_hash) {
  std::string_view target = request.target;
  size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  std::vector<std::pair<std::string_view, std::string_view>> parameters;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    size_t equals = pair.find('=');
    parameters.emplace_back(pair.substr(0, equals), equals == std::string_view::npos
                                                        ? std::string_view()
                                                        : pair.substr(equals + 1));
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
  // One merge: both lists are sorted by name.
  auto header = index.begin();
  for (std::string_view name : signed_headers) {
    while (header != index.end() && header->name < name) ++header;
    out += name;
    out += ':';
    bool first = true;
    for (; header != index.end() && header->name == name; ++header) {
      if (!first) out += ',';
      out += CollapseBlanks(header->value);
      first = false;
    }
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
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 ||
      minute < 0 || minute > 59 || second < 0 || second > 60)
    return std::nullopt;
  int64_t days = DaysFromCivil(Date{year, month, day});
  return static_cast<std::time_t>(days * 86400 + hour * 3600 + minute * 60 + second);
}

}  // namespace

std::map<std::string, std::string> SigV4Verifier::ReadKeysFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw Error(ErrnoMessage(path + ": cannot open", errno));
  std::map<std::string, std::string> secrets;
  std::string line;
  size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::string_view text = TrimBlanks(line);
    if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
    if (text.empty() || text.front() == '#') continue;
    size_t space = text.find_first_of(" \t");
    if (space == std::string_view::npos)
      throw Error(path + ":" + std::to_string(number) + ": expected \"ACCESS_KEY_ID SECRET\"");
    std::string_view key = text.substr(0, space);
    std::string_view secret = TrimBlanks(text.substr(space));
    if (secret.empty() || secret.find_first_of(" \t") != std::string_view::npos)
      throw Error(path + ":" + std::to_string(number) + ": expected \"ACCESS_KEY_ID SECRET\"");
    secrets[std::string(key)] = std::string(secret);
  }
  if (in.bad()) throw Error(ErrnoMessage(path + ": cannot read", errno));
  if (secrets.empty()) throw Error(path + ": no access keys");
  return secrets;
}

SigV4Verifier SigV4Verifier::FromKeysFile(const std::string& path, Options options) {
  SigV4Verifier verifier(ReadKeysFile(path), std::move(options));
  verifier.keys_path_ = path;
  return verifier;
}

SigV4Verifier::SigV4Verifier(std::map<std::string, std::string> secrets, Options options)
    : options_(std::move(options)), keys_(std::make_shared<const Keys>(std::move(secrets))) {}

SigV4Verifier::SigV4Verifier(SigV4Verifier&& other) noexcept
    : options_(std::move(other.options_)),
      keys_path_(std::move(other.keys_path_)),
      keys_(other.keys()) {}

void SigV4Verifier::ReloadKeysFile() {
  if (keys_path_.empty()) throw Error("SigV4 keys were not read from a file");
  auto keys = std::make_shared<const Keys>(ReadKeysFile(keys_path_));
  std::lock_guard<std::mutex> lock(keys_mutex_);
  keys_ = std::move(keys);
}

std::shared_ptr<const SigV4Verifier::Keys> SigV4Verifier::keys() const {
  std::lock_guard<std::mutex> lock(keys_mutex_);
  return keys_;
}

std::string SigV4Verifier::Sign(std::string_view secret, std::string_view date,
                                std::string_view region, std::string_view service,
                                std::string_view string_to_sign) {
  return SigV4Signature(secret, date, region, service, string_to_sign);
}

std::string SigV4Verifier::CanonicalRequest(const SignedRequestView& request,
                                            const std::vector<std::string>& signed_headers,
                                            const std::string& payload_hash) {
  std::vector<std::string_view> names(signed_headers.begin(), signed_headers.end());
  return Canonicalize(request, HeaderIndex(request), names, payload_hash);
}

std::optional<std::string> SigV4Verifier::Verify(const SignedRequestView& request,
                                                 std::time_t now) const {
  constexpr std::string_view kBadSignature = "signature does not match";
  std::optional<std::string_view> authorization = FindHeader(request, "authorization");

  // Prometheus cannot sign: a bearer token may open GET /metrics (and nothing else).
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view path = request.target.substr(0, request.target.find('?'));
  if (!options_.metrics_token.empty() && path == "/metrics" && authorization &&
      authorization->substr(0, kBearer.size()) == kBearer) {
    if (ConstantTimeEquals(TrimBlanks(authorization->substr(kBearer.size())),
                           options_.metrics_token))
      return std::nullopt;
    return std::string("wrong metrics token");
  }

  if (!authorization) return std::string("missing Authorization (AWS SigV4) header");
  std::string_view auth = TrimBlanks(*authorization);
  constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";
  if (auth.substr(0, kAlgorithm.size()) != kAlgorithm)
    return std::string("Authorization is not AWS4-HMAC-SHA256");
  auth.remove_prefix(kAlgorithm.size());
  std::string_view credential, signed_headers_text, signature;
  while (!auth.empty()) {
    size_t comma = auth.find(',');
    std::string_view part = TrimBlanks(auth.substr(0, comma));
    auth = comma == std::string_view::npos ? std::string_view() : auth.substr(comma + 1);
    size_t equals = part.find('=');
    if (equals == std::string_view::npos) continue;
    std::string_view name = part.substr(0, equals), value = part.substr(equals + 1);
    if (name == "Credential")
      credential = value;
    else if (name == "SignedHeaders")
      signed_headers_text = value;
    else if (name == "Signature")
      signature = value;
  }
  if (credential.empty() || signed_headers_text.empty() || signature.empty())
    return std::string("malformed Authorization header");

  // SignedHeaders as AWS SDKs send them: at most a few dozen names, lower-case, sorted, unique.
  // Checked before anything else, so a hostile list costs no more than reading it.
  if (static_cast<size_t>(std::count(signed_headers_text.begin(), signed_headers_text.end(),
                                     ';')) >= kMaxSignedHeaders)
    return "SignedHeaders must list at most " + std::to_string(kMaxSignedHeaders) + " header names";
  std::vector<std::string_view> signed_headers;
  for (std::string_view rest = signed_headers_text;;) {
    size_t semicolon = rest.find(';');
    std::string_view name = rest.substr(0, semicolon);
    bool lower = !name.empty() && std::none_of(name.begin(), name.end(), [](char c) {
      return std::isupper(static_cast<unsigned char>(c)) || c == ' ' || c == '\t';
    });
    if (!lower || (!signed_headers.empty() && !(signed_headers.back() < name)))
      return std::string("SignedHeaders must be lower-case, sorted and unique");
    signed_headers.push_back(name);
    if (semicolon == std::string_view::npos) break;
    rest.remove_prefix(semicolon + 1);
  }

  // Credential = AKID/DATE/REGION/SERVICE/aws4_request
  std::vector<std::string_view> scope;
  for (std::string_view rest = credential;;) {
    size_t slash = rest.find('/');
    scope.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos || scope.size() > 5) break;
    rest.remove_prefix(slash + 1);
  }
  if (scope.size() != 5 || scope[4] != "aws4_request")
    return std::string("malformed credential scope");
  if (scope[3] != "sagemaker")
    return std::string("credential scope is not for service \"sagemaker\"");
  if (!options_.region.empty() && scope[2] != options_.region)
    return std::string("the request was signed for another region");

  // Only now, with the names known to be few and ordered, is the request's header list indexed.
  HeaderIndex index(request);
  std::optional<std::string_view> amz_date = index.First("x-amz-date");
  if (!amz_date) return std::string("missing X-Amz-Date header");
  std::optional<std::time_t> signed_at = ParseAmzDate(TrimBlanks(*amz_date));
  if (!signed_at) return std::string("malformed X-Amz-Date header");
  if (std::llabs(static_cast<long long>(*signed_at - now)) > 15 * 60)
    return std::string("request time too skewed (X-Amz-Date)");
  if (TrimBlanks(*amz_date).substr(0, 8) != scope[1])
    return std::string("credential date does not match X-Amz-Date");

  if (!std::binary_search(signed_headers.begin(), signed_headers.end(), std::string_view("host")))
    return std::string("the Host header must be signed");
  for (std::string_view name : signed_headers) {
    if (index.Find(name) == index.end())
      return "signed header \"" + std::string(name) + "\" is missing";
  }
  if (!options_.host.empty()) {
    for (auto it = index.Find("host"); it != index.end() && it->name == "host"; ++it) {
      if (!EqualsIgnoreCase(TrimBlanks(it->value), options_.host))
        return std::string("the request was signed for another host");
    }
  }
  // An unsigned Accept could turn a captured request into verbose=True; "*/*" means no preference.
  if (!std::binary_search(signed_headers.begin(), signed_headers.end(),
                          std::string_view("accept"))) {
    for (auto it = index.Find("accept"); it != index.end() && it->name == "accept"; ++it) {
      std::string_view value = TrimBlanks(it->value);
      if (!value.empty() && value != "*/*") return std::string("the Accept header must be signed");
    }
  }

  std::string canonical = Canonicalize(request, index, signed_headers, Sha256Hex(request.body));
  std::string string_to_sign = std::string(kAlgorithm) + "\n" + std::string(TrimBlanks(*amz_date)) +
                               "\n" + std::string(scope[1]) + "/" + std::string(scope[2]) + "/" +
                               std::string(scope[3]) + "/aws4_request\n" + Sha256Hex(canonical);
  // An unknown key ID gets the same answer as a wrong signature, after the same work.
  std::shared_ptr<const Keys> current = keys();
  auto secret = current->find(std::string(scope[0]));
  std::string expected =
      Sign(secret == current->end() ? std::string_view("unknown-access-key") : secret->second,
           scope[1], scope[2], scope[3], string_to_sign);
  if (secret == current->end() || !ConstantTimeEquals(expected, signature))
    return std::string(kBadSignature);
  return std::nullopt;
}

}  // namespace ipinsights
