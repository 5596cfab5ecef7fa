#include "ipinsights/storage/aws_credentials.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/http_client.h"
#include "s3_test_support.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

// Every test gets an empty HOME and IMDS disabled unless it says otherwise, so the
// machine's own ~/.aws or metadata service never leaks in.
class AwsCredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    home_ = fs::path(::testing::TempDir()) /
            ("ipi_aws_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(home_);
    fs::create_directories(home_ / ".aws");
    variables_ = {{"HOME", home_.string()}, {"AWS_EC2_METADATA_DISABLED", "true"}};
  }
  void TearDown() override { fs::remove_all(home_); }
  void WriteFile(const std::string& relative, const std::string& text) {
    std::ofstream(home_ / relative) << text;
  }
  AwsEnvironment Environment() const { return AwsEnvironment::FromMap(variables_); }

  // Starts tests/storage/credentials_server.py; skips the test when python3 is missing.
  std::optional<s3test::LocalServer> StartCredentialsServer(std::vector<std::string> extra = {}) {
    if (!s3test::OnPath("python3")) return std::nullopt;
    std::vector<std::string> argv{"python3", s3test::HelperScript("credentials_server.py")};
    for (auto& arg : extra) argv.push_back(arg);
    return s3test::StartServer(argv);
  }
  std::string Stats(const s3test::LocalServer& server) {
    HttpRequest request;
    request.url = server.url() + "/__stats";
    return HttpPerform(request).body;
  }

  fs::path home_;
  std::map<std::string, std::string> variables_;
};

TEST_F(AwsCredentialsTest, EnvironmentComesFirst) {
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT";
  variables_["AWS_SECRET_ACCESS_KEY"] = "env-secret";
  variables_["AWS_SESSION_TOKEN"] = "env-token";
  WriteFile(".aws/credentials",
            "[default]\naws_access_key_id = AKIAFILE\naws_secret_access_key = s\n");
  AwsCredentialsChain chain(Environment());
  AwsCredentials credentials = chain.Get();
  EXPECT_EQ(credentials.access_key_id, "AKIAENVIRONMENT");
  EXPECT_EQ(credentials.secret_access_key, "env-secret");
  EXPECT_EQ(credentials.session_token, "env-token");
  EXPECT_EQ(credentials.source, "environment");
}

TEST_F(AwsCredentialsTest, HalfSetEnvironmentIsAnError) {
  variables_["AWS_ACCESS_KEY_ID"] = "AKIAENVIRONMENT";
  AwsCredentialsChain chain(Environment());
  try {
    chain.Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
}

TEST_F(AwsCredentialsTest, ProfileFromCredentialsFile) {
  WriteFile(".aws/credentials",
            "# comment\n[default]\naws_access_key_id=AKIADEFAULT\naws_secret_access_key=d\n\n"
            "[work]\naws_access_key_id = AKIAWORK\naws_secret_access_key = work-secret\n"
            "aws_session_token = work-token\n");
  variables_["AWS_PROFILE"] = "work";
  AwsCredentials credentials = AwsCredentialsChain(Environment()).Get();
  EXPECT_EQ(credentials.access_key_id, "AKIAWORK");
  EXPECT_EQ(credentials.secret_access_key, "work-secret");
  EXPECT_EQ(credentials.session_token, "work-token");
  EXPECT_NE(credentials.source.find("profile \"work\""), std::string::npos);
}

TEST_F(AwsCredentialsTest, ProfileFromConfigFileAndExplicitPaths) {
  WriteFile("elsewhere.ini",
            "[profile ops]\nregion = eu-west-3\naws_access_key_id = AKIACONFIG\n"
            "aws_secret_access_key = config-secret\ns3 =\n  addressing_style = path\n");
  variables_["AWS_CONFIG_FILE"] = (home_ / "elsewhere.ini").string();
  variables_["AWS_SHARED_CREDENTIALS_FILE"] = (home_ / "missing").string();
  variables_["AWS_PROFILE"] = "ops";
  AwsCredentials credentials = AwsCredentialsChain(Environment()).Get();
  EXPECT_EQ(credentials.access_key_id, "AKIACONFIG");
  EXPECT_EQ(ResolveAwsRegion(Environment()), "eu-west-3");
}

TEST_F(AwsCredentialsTest, MissingNamedProfileIsAnError) {
  variables_["AWS_PROFILE"] = "nope";
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("AWS profile \"nope\" (AWS_PROFILE) not found"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(AwsCredentialsTest, RoleProfilesAreRefusedClearly) {
  WriteFile(".aws/config", "[default]\nrole_arn = arn:aws:iam::1:role/x\nsource_profile = base\n");
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("uses role_arn"), std::string::npos) << error.what();
  }
}

TEST_F(AwsCredentialsTest, NoCredentialsErrorListsEverySourceTried) {
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_EQ(message.rfind("no AWS credentials found; tried: environment", 0), 0u) << message;
    EXPECT_NE(message.find("shared files"), std::string::npos) << message;
    EXPECT_NE(message.find("container endpoint"), std::string::npos) << message;
    EXPECT_NE(message.find("EC2 instance metadata (AWS_EC2_METADATA_DISABLED)"), std::string::npos)
        << message;
  }
}

TEST_F(AwsCredentialsTest, UnreachableMetadataServiceFailsFast) {
  variables_.erase("AWS_EC2_METADATA_DISABLED");
  // A port nobody listens on: connection refused at once.
  variables_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] =
      "http://127.0.0.1:" + std::to_string(s3test::FreePort());
  auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(AwsCredentialsChain(Environment()).Get(), Error);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
}

TEST_F(AwsCredentialsTest, RegionOrder) {
  WriteFile(".aws/config", "[default]\nregion = ca-central-1\n");
  EXPECT_EQ(ResolveAwsRegion(Environment()), "ca-central-1");
  variables_["AWS_DEFAULT_REGION"] = "eu-north-1";
  EXPECT_EQ(ResolveAwsRegion(Environment()), "eu-north-1");
  variables_["AWS_REGION"] = "sa-east-1";
  EXPECT_EQ(ResolveAwsRegion(Environment()), "sa-east-1");
  fs::remove(home_ / ".aws/config");
  variables_.erase("AWS_REGION");
  variables_.erase("AWS_DEFAULT_REGION");
  EXPECT_EQ(ResolveAwsRegion(Environment()), "us-east-1");
}

TEST_F(AwsCredentialsTest, ContainerEndpointWithAuthorizationTokenFile) {
  auto server =
      StartCredentialsServer({"--ecs-path", "/v2/creds/abc", "--ecs-token", "Bearer xyz"});
  if (!server) GTEST_SKIP() << "python3 is not available to serve container credentials";
  WriteFile("token", "Bearer xyz\n");
  variables_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server->url() + "/v2/creds/abc";
  variables_["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"] = (home_ / "token").string();
  AwsCredentials credentials = AwsCredentialsChain(Environment()).Get();
  EXPECT_EQ(credentials.access_key_id, "ASIATEST000001");
  EXPECT_EQ(credentials.secret_access_key, "test-secret-1");
  EXPECT_EQ(credentials.session_token, "test-session-token-1");
  EXPECT_EQ(credentials.source, "container endpoint");
  ASSERT_TRUE(credentials.expiration.has_value());
  EXPECT_GT(*credentials.expiration, std::time(nullptr) + 3000);
}

TEST_F(AwsCredentialsTest, ContainerEndpointWrongTokenNamesEndpointNotSecret) {
  auto server = StartCredentialsServer({"--ecs-path", "/creds", "--ecs-token", "right"});
  if (!server) GTEST_SKIP() << "python3 is not available to serve container credentials";
  variables_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = server->url() + "/creds";
  variables_["AWS_CONTAINER_AUTHORIZATION_TOKEN"] = "wrong-token-value";
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("container credentials endpoint " + server->url() + "/creds"),
              std::string::npos)
        << message;
    EXPECT_NE(message.find("HTTP 401"), std::string::npos) << message;
    EXPECT_EQ(message.find("wrong-token-value"), std::string::npos) << message;
  }
}

TEST_F(AwsCredentialsTest, ContainerFullUriMustBeLoopbackOrHttps) {
  variables_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://example.com/creds";
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("host \"example.com\" is not allowed"),
              std::string::npos)
        << error.what();
  }
}

// Review L6: any host that began with "127." passed as loopback.
TEST_F(AwsCredentialsTest, ContainerFullUriHostMustBeALoopbackAddressNotAName) {
  for (const char* uri : {"http://127.0.0.1.nip.example/creds", "http://127.evil.example/creds",
                          "http://127.0.0.1@evil.example/creds", "http://169.254.170.2.evil/creds",
                          "http://[::2]/creds", "http://0x7f000001/creds"}) {
    variables_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = uri;
    try {
      AwsCredentialsChain(Environment()).Get();
      ADD_FAILURE() << "expected an error for " << uri;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("is not allowed"), std::string::npos)
          << uri << ": " << error.what();
    }
  }
}

TEST_F(AwsCredentialsTest, ContainerFullUriLoopbackAddressesAreAllowed) {
  // Nothing listens on port 9 (discard): the request is tried, so the host passed the check.
  for (const char* uri : {"http://127.0.0.1:9/creds", "http://127.3.2.1:9/creds",
                          "http://[::1]:9/creds", "http://localhost:9/creds"}) {
    variables_["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = uri;
    try {
      AwsCredentialsChain(Environment()).Get();
      ADD_FAILURE() << "expected a connection error for " << uri;
    } catch (const Error& error) {
      EXPECT_EQ(std::string(error.what()).find("is not allowed"), std::string::npos)
          << uri << ": " << error.what();
    }
  }
}

TEST_F(AwsCredentialsTest, InstanceMetadataV2) {
  auto server = StartCredentialsServer();
  if (!server) GTEST_SKIP() << "python3 is not available to serve instance metadata";
  variables_.erase("AWS_EC2_METADATA_DISABLED");
  variables_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server->url() + "/";
  AwsCredentials credentials = AwsCredentialsChain(Environment()).Get();
  EXPECT_EQ(credentials.access_key_id, "ASIATEST000001");
  EXPECT_EQ(credentials.source, "EC2 instance metadata");
  // One session token, and no request went without it.
  EXPECT_EQ(Stats(*server), "{\"fetches\": 1, \"tokens\": 1, \"rejected\": 0}");
}

TEST_F(AwsCredentialsTest, TemporaryCredentialsAreRefreshedBeforeExpiry) {
  // Expiring in 2 minutes: inside the refresh window, so every Get() fetches again.
  auto server = StartCredentialsServer({"--expires-in", "120"});
  if (!server) GTEST_SKIP() << "python3 is not available to serve instance metadata";
  variables_.erase("AWS_EC2_METADATA_DISABLED");
  variables_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server->url();
  AwsCredentialsChain chain(Environment());
  EXPECT_EQ(chain.Get().access_key_id, "ASIATEST000001");
  EXPECT_EQ(chain.Get().access_key_id, "ASIATEST000002");
  EXPECT_EQ(chain.fetch_count(), 2u);
}

TEST_F(AwsCredentialsTest, LongLivedTemporaryCredentialsAreCached) {
  auto server = StartCredentialsServer({"--expires-in", "3600"});
  if (!server) GTEST_SKIP() << "python3 is not available to serve instance metadata";
  variables_.erase("AWS_EC2_METADATA_DISABLED");
  variables_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server->url();
  AwsCredentialsChain chain(Environment());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(chain.Get().access_key_id, "ASIATEST000001");
  EXPECT_EQ(chain.fetch_count(), 1u);
  chain.Invalidate();  // S3 said ExpiredToken
  EXPECT_EQ(chain.Get().access_key_id, "ASIATEST000002");
}

TEST_F(AwsCredentialsTest, AlreadyExpiredCredentialsAreAnError) {
  auto server = StartCredentialsServer({"--expires-in", "-60"});
  if (!server) GTEST_SKIP() << "python3 is not available to serve instance metadata";
  variables_.erase("AWS_EC2_METADATA_DISABLED");
  variables_["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = server->url();
  try {
    AwsCredentialsChain(Environment()).Get();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    std::string message = error.what();
    EXPECT_NE(message.find("AWS credentials from EC2 instance metadata expired at"),
              std::string::npos)
        << message;
    EXPECT_EQ(message.find("test-secret"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace ipinsights
