// AWS credentials and the standard provider chain (what the AWS SDKs and CLI do).
//
// Sources, in order: environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN); the shared credentials file and config file for AWS_PROFILE
// (~/.aws/credentials, ~/.aws/config, or AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE);
// the ECS/Fargate container endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI via
// 169.254.170.2, or AWS_CONTAINER_CREDENTIALS_FULL_URI with AWS_CONTAINER_AUTHORIZATION_TOKEN
// or AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE); EC2 instance metadata, IMDSv2 (endpoint from
// AWS_EC2_METADATA_SERVICE_ENDPOINT, off with AWS_EC2_METADATA_DISABLED=true). Metadata
// endpoints get short timeouts so a machine without them fails in about a second.
//
// Temporary credentials are cached and fetched again before they expire (kRefreshWindowSeconds
// ahead). Secrets never appear in error messages: errors name the source, the file or the
// endpoint and, at most, the access key id.
//
// Thread-safety: AwsCredentialsChain::Get() may be called from any thread.
//
//   AwsCredentialsChain chain(AwsEnvironment::Process());
//   AwsCredentials credentials = chain.Get();  // throws Error listing the sources tried
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace ipinsights {

struct AwsCredentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;          // empty for long-term keys
  std::optional<int64_t> expiration;  // Unix seconds, for temporary credentials
  std::string source;                 // where they came from, for messages ("environment", ...)
};

// Where the chain looks up variables and the home folder: the process environment, or a
// fixed map (tests).
class AwsEnvironment {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string&)>;
  explicit AwsEnvironment(Lookup lookup) : lookup_(std::move(lookup)) {}
  static AwsEnvironment Process();
  static AwsEnvironment FromMap(std::map<std::string, std::string> variables);

  // The variable's value; unset and empty are the same.
  std::optional<std::string> Get(const std::string& name) const;
  std::string Profile() const;  // AWS_PROFILE, else "default"
  std::string CredentialsFilePath() const;
  std::string ConfigFilePath() const;

 private:
  Lookup lookup_;
};

// The region for S3 requests: AWS_REGION, AWS_DEFAULT_REGION, the profile's "region" in the
// config file, else "us-east-1".
std::string ResolveAwsRegion(const AwsEnvironment& environment);

// A value from the shared config file for the current profile ("[default]" or
// "[profile name]"), if set.
std::optional<std::string> AwsConfigValue(const AwsEnvironment& environment,
                                          const std::string& key);

class AwsCredentialsProvider {
 public:
  virtual ~AwsCredentialsProvider() = default;
  // Valid credentials, fetched again when they are about to expire. Throws Error.
  virtual AwsCredentials Get() = 0;
  // The cached credentials were refused as expired: the next Get() fetches again.
  virtual void Invalidate() {}
};

// Fixed credentials (tests, or a caller that resolved them itself).
class StaticCredentialsProvider : public AwsCredentialsProvider {
 public:
  explicit StaticCredentialsProvider(AwsCredentials credentials)
      : credentials_(std::move(credentials)) {}
  AwsCredentials Get() override { return credentials_; }

 private:
  AwsCredentials credentials_;
};

class AwsCredentialsChain : public AwsCredentialsProvider {
 public:
  // Temporary credentials are fetched again this long before they expire.
  static constexpr int64_t kRefreshWindowSeconds = 5 * 60;

  explicit AwsCredentialsChain(AwsEnvironment environment);
  AwsCredentials Get() override;
  void Invalidate() override;

  // How many times credentials were fetched from a source (for tests of the refresh).
  uint64_t fetch_count() const;

 private:
  AwsCredentials Resolve();

  AwsEnvironment environment_;
  mutable std::mutex mutex_;
  std::optional<AwsCredentials> cached_;
  uint64_t fetch_count_ = 0;
};

// The individual sources; each returns nullopt when it is not configured (with the reason
// appended to *tried), and throws Error when it is configured but fails.
std::optional<AwsCredentials> CredentialsFromEnvironment(const AwsEnvironment& environment,
                                                         std::string* tried);
std::optional<AwsCredentials> CredentialsFromSharedFiles(const AwsEnvironment& environment,
                                                         std::string* tried);
std::optional<AwsCredentials> CredentialsFromContainer(const AwsEnvironment& environment,
                                                       std::string* tried);
std::optional<AwsCredentials> CredentialsFromInstanceMetadata(const AwsEnvironment& environment,
                                                              std::string* tried);

}  // namespace ipinsights
