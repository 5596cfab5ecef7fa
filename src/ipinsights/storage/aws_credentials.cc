#include "ipinsights/storage/aws_credentials.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <simdjson.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>
#include <utility>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/strings.h"
#include "ipinsights/storage/http_client.h"

namespace ipinsights {
namespace {

std::string TrimSpace(std::string_view text) { return std::string(TrimWhitespace(text)); }

int64_t NowSeconds() { return static_cast<int64_t>(std::time(nullptr)); }

// The key = value pairs of one [section] of an AWS INI file; nullopt when the file or the
// section is absent. Indented lines continue a nested block ("s3 =\n  addressing_style =
// path") and are skipped.
std::optional<std::map<std::string, std::string>> ReadIniSection(const std::string& path,
                                                                 const std::string& section,
                                                                 bool* file_found) {
  std::ifstream in(path);
  *file_found = static_cast<bool>(in);
  if (!in) return std::nullopt;
  std::optional<std::map<std::string, std::string>> values;
  bool in_section = false;
  std::string line;
  while (std::getline(in, line)) {
    std::string trimmed = TrimSpace(line);
    if (trimmed.empty() || trimmed[0] == '#' || trimmed[0] == ';') continue;
    if (trimmed.front() == '[' && trimmed.back() == ']') {
      in_section = TrimSpace(std::string_view(trimmed).substr(1, trimmed.size() - 2)) == section;
      if (in_section && !values) values.emplace();
      continue;
    }
    if (!in_section) continue;
    if (std::isspace(static_cast<unsigned char>(line[0]))) continue;  // nested block
    size_t equals = trimmed.find('=');
    if (equals == std::string::npos) continue;
    (*values)[TrimSpace(std::string_view(trimmed).substr(0, equals))] =
        TrimSpace(std::string_view(trimmed).substr(equals + 1));
  }
  return values;
}

std::string ConfigSectionName(const std::string& profile) {
  return profile == "default" ? "default" : "profile " + profile;
}

// The string fields of a credential endpoint's JSON answer (a flat object). An answer that
// is not a JSON object, or a field that is not a string, reads as absent.
class CredentialsDocument {
 public:
  explicit CredentialsDocument(std::string_view json) {
    simdjson::padded_string padded(json);
    simdjson::dom::object object;
    if (parser_.parse(padded).get_object().get(object) != simdjson::SUCCESS) return;
    for (auto field : object) {
      std::string_view value;
      if (field.value.get_string().get(value) == simdjson::SUCCESS) {
        fields_.emplace_back(std::string(field.key), std::string(value));
      }
    }
  }

  std::optional<std::string> Field(std::string_view name) const {
    for (const auto& [key, value] : fields_) {
      if (key == name) return value;
    }
    return std::nullopt;
  }

 private:
  simdjson::dom::parser parser_;
  std::vector<std::pair<std::string, std::string>> fields_;
};

// Credentials from a container or instance-metadata JSON document. `where` names the
// endpoint for messages (never the document: it holds the secret).
AwsCredentials ParseCredentialsDocument(std::string_view json, const std::string& where,
                                        const std::string& source) {
  AwsCredentials credentials;
  credentials.source = source;
  const CredentialsDocument document(json);
  auto key = document.Field("AccessKeyId");
  auto secret = document.Field("SecretAccessKey");
  if (!key || !secret || key->empty() || secret->empty()) {
    auto code = document.Field("Code");
    throw Error(where + ": answer has no AccessKeyId/SecretAccessKey" +
                (code ? " (Code \"" + *code + "\")" : std::string()));
  }
  credentials.access_key_id = *key;
  credentials.secret_access_key = *secret;
  credentials.session_token = document.Field("Token").value_or("");
  if (auto expiration = document.Field("Expiration")) {
    credentials.expiration = ParseTimestamp(*expiration);
    if (!credentials.expiration) {
      throw Error(where + ": bad Expiration \"" + *expiration + "\"");
    }
  }
  return credentials;
}

bool IsTrue(const std::optional<std::string>& value) {
  if (!value) return false;
  std::string lower = TrimSpace(*value);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "true" || lower == "1";
}

// The host of an http(s) URL, without port or brackets.
std::string UrlHost(const std::string& url) {
  size_t start = url.find("://");
  start = start == std::string::npos ? 0 : start + 3;
  size_t end = url.find_first_of("/?#", start);
  std::string authority =
      url.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = authority.rfind('@');
  if (at != std::string::npos) authority = authority.substr(at + 1);
  if (!authority.empty() && authority[0] == '[') {
    return authority.substr(1, authority.find(']') - 1);
  }
  return authority.substr(0, authority.find(':'));
}

// The hosts the SDKs accept for a plain-http AWS_CONTAINER_CREDENTIALS_FULL_URI: the name
// "localhost", or an address (parsed, never a name that merely starts like one, such as
// "127.0.0.1.nip.io") that is loopback (127.0.0.0/8, ::1) or the ECS / EKS agent's.
bool IsAllowedContainerHost(const std::string& host) {
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
    const uint32_t address = ntohl(v4.s_addr);
    return (address >> 24) == 127 || address == 0xA9FEAA02u /* 169.254.170.2 */ ||
           address == 0xA9FEAA17u /* 169.254.170.23 */;
  }
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
    in6_addr eks_agent{};
    inet_pton(AF_INET6, "fd00:ec2::23", &eks_agent);
    return IN6_IS_ADDR_LOOPBACK(&v6) || std::memcmp(&v6, &eks_agent, sizeof(v6)) == 0;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------------------
// Environment

AwsEnvironment AwsEnvironment::Process() {
  return AwsEnvironment([](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  });
}

AwsEnvironment AwsEnvironment::FromMap(std::map<std::string, std::string> variables) {
  return AwsEnvironment(
      [variables = std::move(variables)](const std::string& name) -> std::optional<std::string> {
        auto it = variables.find(name);
        if (it == variables.end()) return std::nullopt;
        return it->second;
      });
}

std::optional<std::string> AwsEnvironment::Get(const std::string& name) const {
  auto value = lookup_(name);
  if (value && value->empty()) return std::nullopt;
  return value;
}

std::string AwsEnvironment::Profile() const {
  if (auto profile = Get("AWS_PROFILE")) return *profile;
  if (auto profile = Get("AWS_DEFAULT_PROFILE")) return *profile;
  return "default";
}

std::string AwsEnvironment::CredentialsFilePath() const {
  if (auto path = Get("AWS_SHARED_CREDENTIALS_FILE")) return *path;
  return Get("HOME").value_or("") + "/.aws/credentials";
}

std::string AwsEnvironment::ConfigFilePath() const {
  if (auto path = Get("AWS_CONFIG_FILE")) return *path;
  return Get("HOME").value_or("") + "/.aws/config";
}

std::optional<std::string> AwsConfigValue(const AwsEnvironment& environment,
                                          const std::string& key) {
  bool found = false;
  auto section = ReadIniSection(environment.ConfigFilePath(),
                                ConfigSectionName(environment.Profile()), &found);
  if (!section) return std::nullopt;
  auto it = section->find(key);
  if (it == section->end() || it->second.empty()) return std::nullopt;
  return it->second;
}

std::string ResolveAwsRegion(const AwsEnvironment& environment) {
  if (auto region = environment.Get("AWS_REGION")) return *region;
  if (auto region = environment.Get("AWS_DEFAULT_REGION")) return *region;
  if (auto region = AwsConfigValue(environment, "region")) return *region;
  return "us-east-1";
}

// ---------------------------------------------------------------------------------------
// Sources

std::optional<AwsCredentials> CredentialsFromEnvironment(const AwsEnvironment& environment,
                                                         std::string* tried) {
  auto key = environment.Get("AWS_ACCESS_KEY_ID");
  auto secret = environment.Get("AWS_SECRET_ACCESS_KEY");
  if (!key && !secret) {
    *tried += "environment (AWS_ACCESS_KEY_ID not set); ";
    return std::nullopt;
  }
  if (!key) throw Error("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (!secret) throw Error("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  AwsCredentials credentials;
  credentials.access_key_id = *key;
  credentials.secret_access_key = *secret;
  credentials.session_token = environment.Get("AWS_SESSION_TOKEN").value_or("");
  credentials.source = "environment";
  return credentials;
}

std::optional<AwsCredentials> CredentialsFromSharedFiles(const AwsEnvironment& environment,
                                                         std::string* tried) {
  const std::string profile = environment.Profile();
  const std::string credentials_path = environment.CredentialsFilePath();
  const std::string config_path = environment.ConfigFilePath();
  bool credentials_file = false;
  bool config_file = false;
  auto from_credentials = ReadIniSection(credentials_path, profile, &credentials_file);
  auto from_config = ReadIniSection(config_path, ConfigSectionName(profile), &config_file);

  for (const auto* section : {&from_credentials, &from_config}) {
    if (!*section) continue;
    const auto& values = **section;
    auto key = values.find("aws_access_key_id");
    auto secret = values.find("aws_secret_access_key");
    if (key == values.end() || secret == values.end() || key->second.empty() ||
        secret->second.empty()) {
      continue;
    }
    const std::string& path = section == &from_credentials ? credentials_path : config_path;
    AwsCredentials credentials;
    credentials.access_key_id = key->second;
    credentials.secret_access_key = secret->second;
    auto token = values.find("aws_session_token");
    if (token != values.end()) credentials.session_token = token->second;
    credentials.source = "profile \"" + profile + "\" in " + path;
    return credentials;
  }

  // A profile that exists but gets its credentials some other way.
  if (from_config) {
    for (const char* unsupported : {"role_arn", "credential_process", "sso_start_url",
                                    "sso_session", "web_identity_token_file"}) {
      if (from_config->count(unsupported)) {
        throw Error("AWS profile \"" + profile + "\" in " + config_path + " uses " + unsupported +
                    ", which ipinsights does not support; export plain credentials (for example "
                    "`aws configure export-credentials --format env`) or use another profile");
      }
    }
  }
  if (profile != "default" && !from_credentials && !from_config) {
    throw Error("AWS profile \"" + profile + "\" (AWS_PROFILE) not found in " + credentials_path +
                " or " + config_path);
  }
  *tried += "shared files (" + credentials_path + (credentials_file ? "" : " absent") + ", " +
            config_path + (config_file ? "" : " absent") + ": no keys for profile \"" + profile +
            "\"); ";
  return std::nullopt;
}

std::optional<AwsCredentials> CredentialsFromContainer(const AwsEnvironment& environment,
                                                       std::string* tried) {
  std::string url;
  if (auto relative = environment.Get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")) {
    url = "http://169.254.170.2" + *relative;
  } else if (auto full = environment.Get("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
    url = *full;
    bool https = url.rfind("https://", 0) == 0;
    if (!https && !IsAllowedContainerHost(UrlHost(url))) {
      throw Error("AWS_CONTAINER_CREDENTIALS_FULL_URI: host \"" + UrlHost(url) +
                  "\" is not allowed over plain http (only loopback and the ECS/EKS agent "
                  "addresses)");
    }
  } else {
    *tried += "container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/_FULL_URI not set); ";
    return std::nullopt;
  }

  HttpRequest request;
  request.url = url;
  request.connect_timeout_ms = 1000;
  request.timeout_ms = 2000;
  request.bypass_proxy = true;
  std::string token;
  if (auto token_file = environment.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")) {
    std::ifstream in(*token_file);
    if (!in) throw Error(*token_file + ": cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    std::stringstream buffer;
    buffer << in.rdbuf();
    token = TrimSpace(buffer.str());
  } else if (auto value = environment.Get("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
    token = *value;
  }
  if (!token.empty()) request.headers.emplace_back("Authorization", token);

  const std::string where = "container credentials endpoint " + url;
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      HttpClientResponse response = HttpPerform(request);
      if (response.status == 200) {
        return ParseCredentialsDocument(response.body, where, "container endpoint");
      }
      last_error = "HTTP " + std::to_string(response.status);
      if (response.status < 500) break;  // 4xx: a wrong token or URI; retrying will not help
    } catch (const HttpTransportError& error) {
      last_error = error.what();
    }
  }
  throw Error(where + ": no credentials: " + last_error);
}

std::optional<AwsCredentials> CredentialsFromInstanceMetadata(const AwsEnvironment& environment,
                                                              std::string* tried) {
  if (IsTrue(environment.Get("AWS_EC2_METADATA_DISABLED"))) {
    *tried += "EC2 instance metadata (AWS_EC2_METADATA_DISABLED); ";
    return std::nullopt;
  }
  std::string endpoint =
      environment.Get("AWS_EC2_METADATA_SERVICE_ENDPOINT").value_or("http://169.254.169.254");
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();

  auto make_request = [&](const std::string& method, const std::string& path) {
    HttpRequest request;
    request.method = method;
    request.url = endpoint + path;
    request.connect_timeout_ms = 1000;
    request.timeout_ms = 1000;
    request.bypass_proxy = true;
    return request;
  };

  // IMDSv2: a session token first (PUT), then the role name, then the role's credentials.
  HttpRequest token_request = make_request("PUT", "/latest/api/token");
  token_request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  HttpClientResponse token_response;
  try {
    token_response = HttpPerform(token_request);
  } catch (const HttpTransportError& error) {
    // No metadata service: an ordinary machine, not a failure.
    *tried += "EC2 instance metadata (" + endpoint + " not reachable); ";
    return std::nullopt;
  }
  if (token_response.status != 200 || token_response.body.empty()) {
    *tried += "EC2 instance metadata (" + endpoint + " token request: HTTP " +
              std::to_string(token_response.status) + "); ";
    return std::nullopt;
  }
  const std::string token = TrimSpace(token_response.body);
  const std::string where = "EC2 instance metadata " + endpoint;
  try {
    HttpRequest role_request = make_request("GET", "/latest/meta-data/iam/security-credentials/");
    role_request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    HttpClientResponse role_response = HttpPerform(role_request);
    if (role_response.status == 404) {
      *tried += "EC2 instance metadata (" + endpoint + ": the instance has no IAM role); ";
      return std::nullopt;
    }
    if (role_response.status != 200) {
      throw Error(where + ": role name request: HTTP " + std::to_string(role_response.status));
    }
    std::string role = TrimSpace(role_response.body);
    role = role.substr(0, role.find('\n'));
    if (role.empty()) {
      *tried += "EC2 instance metadata (" + endpoint + ": the instance has no IAM role); ";
      return std::nullopt;
    }
    HttpRequest credentials_request =
        make_request("GET", "/latest/meta-data/iam/security-credentials/" + role);
    credentials_request.headers.emplace_back("X-aws-ec2-metadata-token", token);
    HttpClientResponse response = HttpPerform(credentials_request);
    if (response.status != 200) {
      throw Error(where + ": credentials of role \"" + role + "\": HTTP " +
                  std::to_string(response.status));
    }
    return ParseCredentialsDocument(response.body, where + " (role \"" + role + "\")",
                                    "EC2 instance metadata");
  } catch (const HttpTransportError& error) {
    throw Error(where + ": " + error.what());
  }
}

// ---------------------------------------------------------------------------------------
// Chain

AwsCredentialsChain::AwsCredentialsChain(AwsEnvironment environment)
    : environment_(std::move(environment)) {}

AwsCredentials AwsCredentialsChain::Resolve() {
  std::string tried;
  using Source = std::optional<AwsCredentials> (*)(const AwsEnvironment&, std::string*);
  for (Source source : {&CredentialsFromEnvironment, &CredentialsFromSharedFiles,
                        &CredentialsFromContainer, &CredentialsFromInstanceMetadata}) {
    if (auto credentials = source(environment_, &tried)) {
      ++fetch_count_;
      return *credentials;
    }
  }
  if (tried.size() >= 2) tried.resize(tried.size() - 2);
  throw Error("no AWS credentials found; tried: " + tried);
}

AwsCredentials AwsCredentialsChain::Get() {
  std::lock_guard<std::mutex> lock(mutex_);
  const int64_t now = NowSeconds();
  if (cached_ && (!cached_->expiration || *cached_->expiration - now > kRefreshWindowSeconds)) {
    return *cached_;
  }
  try {
    cached_ = Resolve();
  } catch (const Error&) {
    // A failed early refresh keeps the old credentials while they are still valid.
    if (cached_ && cached_->expiration && *cached_->expiration > now + 10) return *cached_;
    throw;
  }
  if (cached_->expiration && *cached_->expiration <= now) {
    throw Error("AWS credentials from " + cached_->source + " expired at " +
                FormatTimestamp(*cached_->expiration));
  }
  return *cached_;
}

void AwsCredentialsChain::Invalidate() {
  std::lock_guard<std::mutex> lock(mutex_);
  cached_.reset();
}

uint64_t AwsCredentialsChain::fetch_count() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return fetch_count_;
}

}  // namespace ipinsights
