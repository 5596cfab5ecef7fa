#include "ipinsights/storage/s3_client.h"

#include <gtest/gtest.h>

#include "ipinsights/base/error.h"

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
  EXPECT_EQ(S3Config::FromEnvironment(AwsEnvironment::FromMap(variables)).endpoint, "http://flag:3");
  SetS3EndpointOverride("");
  variables["AWS_S3_FORCE_PATH_STYLE"] = "true";
  EXPECT_TRUE(S3Config::FromEnvironment(AwsEnvironment::FromMap(variables)).force_path_style);
}

}  // namespace
}  // namespace ipinsights
