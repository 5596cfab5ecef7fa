#include "ipinsights/storage/s3_client.h"

#include <gtest/gtest.h>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/http_client.h"

namespace ipinsights {
namespace {

TEST(S3Address, AwsIsVirtualHosted) {
  S3Config config;
  S3Address address = S3AddressOf(config, "eu-west-1", "trail-bucket", "AWSLogs/1/a b.json.gz");
  EXPECT_EQ(address.scheme, "https");
  EXPECT_EQ(address.host, "trail-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(address.path, "/AWSLogs/1/a%20b.json.gz");
}

TEST(S3Address, BucketNamesWithDotsArePathStyle) {
  S3Config config;
  S3Address address = S3AddressOf(config, "us-east-1", "logs.example.com", "k");
  EXPECT_EQ(address.host, "s3.us-east-1.amazonaws.com");
  EXPECT_EQ(address.path, "/logs.example.com/k");
}

TEST(S3Address, ForcedPathStyleAndChinaRegions) {
  S3Config config;
  config.force_path_style = true;
  S3Address address = S3AddressOf(config, "cn-north-1", "bucket", "");
  EXPECT_EQ(address.host, "s3.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(address.path, "/bucket");
}

TEST(S3Address, CustomEndpointIsPathStyleUnderItsPath) {
  S3Config config;
  config.endpoint = "http://127.0.0.1:9000/storage/";
  S3Address address = S3AddressOf(config, "us-east-1", "bucket", "dir/k+1");
  EXPECT_EQ(address.scheme, "http");
  EXPECT_EQ(address.host, "127.0.0.1:9000");
  EXPECT_EQ(address.path, "/storage/bucket/dir/k%2B1");
}

// Review L6: the bucket and the region went into the host name unchecked.
TEST(S3Address, BucketOutsideTheBucketAlphabetIsRefused) {
  S3Config config;
  for (const char* bucket : {"evil.example#", "a@evil", "b/c", "b:80", "b?x", "", "b c"}) {
    try {
      S3AddressOf(config, "us-east-1", bucket, "k");
      ADD_FAILURE() << "accepted bucket \"" << bucket << "\"";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("not a valid S3 bucket name"), std::string::npos)
          << error.what();
    }
  }
  // Legacy us-east-1 names (upper case, underscores) are still read, path-style.
  EXPECT_EQ(S3AddressOf(config, "us-east-1", "Old_Bucket", "k").path, "/Old_Bucket/k");
}

TEST(S3Address, RegionOutsideTheRegionAlphabetIsRefused) {
  S3Config config;
  for (const char* region : {"us-east-1.evil.example", "eu-west-1/x", "x#", "", "EU-WEST-1"}) {
    try {
      S3AddressOf(config, region, "bucket", "k");
      ADD_FAILURE() << "accepted region \"" << region << "\"";
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find("not a valid AWS region name"), std::string::npos)
          << error.what();
    }
  }
}

TEST(S3Location, BucketOutsideTheBucketAlphabetIsAUsageError) {
  EXPECT_THROW(ParseS3Location("s3://user@evil.example/k"), UsageError);
  EXPECT_THROW(ParseS3Location("s3://evil.example:443/k"), UsageError);
  EXPECT_EQ(ParseS3Location("s3://my-bucket.v2/a/../b").key, "a/../b");
}

// Review L6: curl spoke every protocol it was built with (file://, ftp://, ...) to a URL
// from the environment (an endpoint, a credentials URI).
TEST(HttpPerform, SpeaksOnlyHttpAndHttps) {
  HttpRequest request;
  request.url = "file:///etc/hostname";
  EXPECT_THROW(HttpPerform(request), HttpTransportError);
}

TEST(S3Client, EndpointWithoutSchemeIsAUsageError) {
  S3Config config;
  config.endpoint = "localhost:9000";
  config.credentials = std::make_shared<StaticCredentialsProvider>(AwsCredentials{});
  EXPECT_THROW(S3Client client(config), UsageError);
}

TEST(S3Location, ParsesBucketAndKey) {
  S3Location location = ParseS3Location("s3://bucket/a/b/");
  EXPECT_EQ(location.bucket, "bucket");
  EXPECT_EQ(location.key, "a/b/");
  EXPECT_EQ(ParseS3Location("s3://bucket").key, "");
  EXPECT_THROW(ParseS3Location("s3:///key"), UsageError);
  EXPECT_THROW(ParseS3Location("/local/path"), UsageError);
}

TEST(S3Config, EndpointPrecedence) {
  std::map<std::string, std::string> variables{{"AWS_ENDPOINT_URL", "http://generic:1"},
                                               {"AWS_REGION", "eu-central-1"}};
  EXPECT_EQ(S3Config::FromEnvironment(AwsEnvironment::FromMap(variables)).endpoint,
            "http://generic:1");
  variables["AWS_ENDPOINT_URL_S3"] = "http://s3-only:2/";
  S3Config config = S3Config::FromEnvironment(AwsEnvironment::FromMap(variables));
  EXPECT_EQ(config.endpoint, "http://s3-only:2");
  EXPECT_EQ(config.region, "eu-central-1");
  EXPECT_FALSE(config.force_path_style);
  SetS3EndpointOverride("http://flag:3");
  EXPECT_EQ(S3Config::FromEnvironment(AwsEnvironment::FromMap(variables)).endpoint,
            "http://flag:3");
  SetS3EndpointOverride("");
  variables["AWS_S3_FORCE_PATH_STYLE"] = "true";
  EXPECT_TRUE(S3Config::FromEnvironment(AwsEnvironment::FromMap(variables)).force_path_style);
}

}  // namespace
}  // namespace ipinsights
