#include "ipinsights/detect/network_info.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../storage/s3_test_support.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/detect/aws_ip_ranges.h"
#include "ipinsights/storage/storage.h"
#include "mmdb_writer.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;
using testing::MmdbMap;
using testing::MmdbString;
using testing::MmdbUint32;
using testing::MmdbValue;
using testing::MmdbWriter;

IpAddress Ip(const char* text) {
  std::optional<IpAddress> ip = IpAddress::Parse(text);
  EXPECT_TRUE(ip.has_value()) << text;
  return ip.value_or(IpAddress());
}

MmdbValue AsRecord(uint32_t asn, const std::string& org) {
  return MmdbMap({{"autonomous_system_number", MmdbUint32(asn)},
                  {"autonomous_system_organization", MmdbString(org)}});
}

MmdbValue CityRecord(uint32_t asn, const std::string& org, const std::string& country) {
  return MmdbMap({{"autonomous_system_number", MmdbUint32(asn)},
                  {"autonomous_system_organization", MmdbString(org)},
                  {"country", MmdbMap({{"geoname_id", MmdbUint32(2635167)},
                                       {"iso_code", MmdbString(country)}})}});
}

// Three networks with ASN, organisation and country, one of them nested in another.
MmdbWriter ExampleDatabase(int record_size = 24) {
  MmdbWriter writer("Test-ASN-Country", record_size);
  writer.Insert("203.0.113.0/24", CityRecord(64500, "Example Transit", "GB"));
  writer.Insert("198.51.0.0/16", CityRecord(64501, "Example Hosting", "DE"));
  writer.Insert("198.51.100.0/24", CityRecord(64502, "Example Cloud", "FR"));
  writer.Insert("2001:db8::/32", CityRecord(64503, "Example IPv6", "JP"));
  return writer;
}

class NetworkInfoTest : public testing::ScratchTest {
 protected:
  NetworkInfoSource OpenAsnDb(const std::string& bytes) {
    return NetworkInfoSource::Open({.asn_db = Write("db.mmdb", bytes)});
  }
  NetworkInfoSource OpenRanges(const std::string& json) {
    return NetworkInfoSource::Open({.aws_ip_ranges = Write("ip-ranges.json", json)});
  }
  // The message of the Error that opening `files` throws ("" when it does not).
  std::string OpenError(const NetworkInfoFiles& files) {
    try {
      NetworkInfoSource::Open(files);
    } catch (const Error& error) {
      return error.what();
    }
    return "";
  }
};

std::string Entry(const std::string& prefix, const std::string& service, const std::string& region,
                  bool v6 = false) {
  return std::string("{\"") + (v6 ? "ipv6_prefix" : "ip_prefix") + "\": \"" + prefix +
         "\", \"region\": \"" + region + "\", \"service\": \"" + service +
         "\", \"network_border_group\": \"" + region + "\"}";
}

std::string RangesJson(const std::vector<std::string>& v4,
                       const std::vector<std::string>& v6 = {}) {
  auto join = [](const std::vector<std::string>& entries) {
    std::string out;
    for (const std::string& entry : entries) out += (out.empty() ? "" : ",\n    ") + entry;
    return out;
  };
  return "{\n  \"syncToken\": \"1709316188\",\n  \"createDate\": \"2024-03-01-18-03-08\",\n"
         "  \"prefixes\": [\n    " +
         join(v4) + "\n  ],\n  \"ipv6_prefixes\": [\n    " + join(v6) + "\n  ]\n}\n";
}

// ---- MaxMind databases ----

TEST_F(NetworkInfoTest, MmdbGivesAsnOrganisationAndCountryForIpv4) {
  NetworkInfoSource source = OpenAsnDb(ExampleDatabase().Build());
  EXPECT_TRUE(source.has_asn());
  EXPECT_TRUE(source.has_country());
  NetworkInfo info = source.Lookup(Ip("203.0.113.7"));
  EXPECT_EQ(info.asn, 64500u);
  EXPECT_EQ(info.as_org, "Example Transit");
  EXPECT_EQ(info.country, "GB");
  EXPECT_FALSE(info.in_aws);
}

TEST_F(NetworkInfoTest, MmdbGivesAsnOrganisationAndCountryForIpv6) {
  NetworkInfo info = OpenAsnDb(ExampleDatabase().Build()).Lookup(Ip("2001:db8:1234::5"));
  EXPECT_EQ(info.asn, 64503u);
  EXPECT_EQ(info.as_org, "Example IPv6");
  EXPECT_EQ(info.country, "JP");
}

TEST_F(NetworkInfoTest, MmdbMostSpecificNetworkWins) {
  NetworkInfoSource source = OpenAsnDb(ExampleDatabase().Build());
  EXPECT_EQ(source.Lookup(Ip("198.51.100.200")).asn, 64502u);
  EXPECT_EQ(source.Lookup(Ip("198.51.101.1")).asn, 64501u);
  EXPECT_EQ(source.Lookup(Ip("198.51.99.255")).asn, 64501u);
}

TEST_F(NetworkInfoTest, MmdbAddressOutsideEveryNetworkIsEmpty) {
  NetworkInfoSource source = OpenAsnDb(ExampleDatabase().Build());
  for (const char* text : {"192.0.2.1", "203.0.114.0", "2001:db9::1", "::1"}) {
    NetworkInfo info = source.Lookup(Ip(text));
    EXPECT_EQ(info.asn, 0u) << text;
    EXPECT_EQ(info.as_org, "") << text;
    EXPECT_EQ(info.country, "") << text;
  }
  EXPECT_EQ(source.lookup_errors(), 0u);
}

TEST_F(NetworkInfoTest, MmdbEveryRecordSizeReadsTheSame) {
  for (int record_size : {24, 28, 32}) {
    NetworkInfoSource source = OpenAsnDb(ExampleDatabase(record_size).Build());
    EXPECT_EQ(source.Lookup(Ip("198.51.100.1")).as_org, "Example Cloud") << record_size;
    EXPECT_EQ(source.Lookup(Ip("2001:db8::1")).country, "JP") << record_size;
  }
}

TEST_F(NetworkInfoTest, MmdbIpv4DatabaseAnswersIpv4AndNothingForIpv6) {
  MmdbWriter writer("Test-IPv4", 24, /*ip_version=*/4);
  writer.Insert("192.0.2.0/24", AsRecord(64510, "Documentation"));
  NetworkInfoSource source = OpenAsnDb(writer.Build());
  EXPECT_EQ(source.Lookup(Ip("192.0.2.99")).asn, 64510u);
  EXPECT_EQ(source.Lookup(Ip("2001:db8::1")).asn, 0u);
  EXPECT_EQ(source.lookup_errors(), 0u);
}

TEST_F(NetworkInfoTest, CountryFallsBackToRegisteredCountry) {
  MmdbWriter writer("GeoLite2-Country");
  writer.Insert("192.0.2.0/24",
                MmdbMap({{"registered_country", MmdbMap({{"iso_code", MmdbString("US")}})}}));
  writer.Insert("198.51.100.0/24",
                MmdbMap({{"country", MmdbMap({{"iso_code", MmdbString("CA")}})},
                         {"registered_country", MmdbMap({{"iso_code", MmdbString("US")}})}}));
  NetworkInfoSource source = OpenAsnDb(writer.Build());
  EXPECT_FALSE(source.has_asn());
  EXPECT_TRUE(source.has_country());
  EXPECT_EQ(source.Lookup(Ip("192.0.2.1")).country, "US");
  EXPECT_EQ(source.Lookup(Ip("198.51.100.1")).country, "CA");
}

TEST_F(NetworkInfoTest, AsnDatabaseAndCountryDatabaseCombine) {
  MmdbWriter asn("GeoLite2-ASN");
  asn.Insert("192.0.2.0/24", AsRecord(64496, "Example AS"));
  MmdbWriter country("GeoLite2-Country");
  country.build_epoch = 1709856000;  // 2024-03-08
  country.Insert("192.0.0.0/8", MmdbMap({{"country", MmdbMap({{"iso_code", MmdbString("NL")}})}}));
  std::string asn_path = Write("GeoLite2-ASN.mmdb", asn.Build());

  NetworkInfoSource asn_only = NetworkInfoSource::Open({.asn_db = asn_path});
  EXPECT_TRUE(asn_only.has_asn());
  EXPECT_FALSE(asn_only.has_country());

  NetworkInfoSource both = NetworkInfoSource::Open(
      {.asn_db = asn_path, .country_db = Write("GeoLite2-Country.mmdb", country.Build())});
  EXPECT_TRUE(both.has_country());
  NetworkInfo info = both.Lookup(Ip("192.0.2.55"));
  EXPECT_EQ(info.asn, 64496u);
  EXPECT_EQ(info.as_org, "Example AS");
  EXPECT_EQ(info.country, "NL");
  EXPECT_EQ(both.Description(), "GeoLite2-ASN 2024-03-01, GeoLite2-Country 2024-03-08");
}

TEST_F(NetworkInfoTest, CorruptDataSectionIsCountedNotThrown) {
  MmdbWriter writer("GeoLite2-ASN");
  writer.Insert("192.0.2.0/24", AsRecord(64496, "Example AS"));
  writer.Insert("198.51.100.0/24", AsRecord(64497, "Other AS"));
  size_t data_start = 0;
  std::string bytes = writer.Build(&data_start);
  // The first record is a map whose first key is a 24-byte string (control byte 0x58); a
  // control byte of 0x5f makes that string 65821 + 0x617574 ("aut") bytes long, past the end.
  ASSERT_EQ(bytes[data_start + 1], '\x58');
  bytes[data_start + 1] = '\x5f';
  NetworkInfoSource source = OpenAsnDb(bytes);
  NetworkInfo info = source.Lookup(Ip("192.0.2.1"));
  EXPECT_EQ(info.asn, 0u);
  EXPECT_EQ(info.as_org, "");
  EXPECT_EQ(source.lookup_errors(), 1u);
  EXPECT_EQ(source.Lookup(Ip("198.51.100.1")).asn, 64497u);
  EXPECT_EQ(source.lookup_errors(), 1u);
}

TEST_F(NetworkInfoTest, NotAnMmdbFileIsErrorNamingIt) {
  std::string path = Write("notes.mmdb", "just some text, not a database\n");
  std::string message = OpenError({.asn_db = path});
  EXPECT_THAT(message, HasSubstr(path + ": not a MaxMind DB file"));
  EXPECT_THAT(message, HasSubstr("invalid metadata"));
}

TEST_F(NetworkInfoTest, TruncatedMmdbIsErrorNamingIt) {
  std::string bytes = ExampleDatabase().Build();
  std::string path = Write("cut.mmdb", bytes.substr(0, bytes.size() / 2));
  EXPECT_THAT(OpenError({.asn_db = path}), HasSubstr(path + ": not a MaxMind DB file"));
}

TEST_F(NetworkInfoTest, MmdbWhoseTreeIsLargerThanTheFileIsError) {
  // Metadata intact, search tree cut away: the node count promises more than the file has.
  std::string bytes = ExampleDatabase().Build();
  size_t marker = bytes.find("\xAB\xCD\xEFMaxMind.com");
  ASSERT_NE(marker, std::string::npos);
  std::string path = Write("short.mmdb", bytes.substr(marker));
  std::string message = OpenError({.asn_db = path});
  EXPECT_THAT(message, HasSubstr(path + ": "));
  EXPECT_NE(message, path + ": ");
}

TEST_F(NetworkInfoTest, MissingMmdbIsErrorNamingIt) {
  std::string path = Path("absent.mmdb");
  std::string message = OpenError({.asn_db = path});
  EXPECT_THAT(message, HasSubstr(path + ": Error opening the specified MaxMind DB file"));
  EXPECT_THAT(message, HasSubstr("No such file or directory"));
}

TEST_F(NetworkInfoTest, MmdbWithoutAsnOrCountryKeysIsError) {
  MmdbWriter writer("GeoIP2-Domain");
  writer.Insert("192.0.2.0/24", MmdbMap({{"domain", MmdbString("example.com")}}));
  std::string path = Write("domain.mmdb", writer.Build());
  EXPECT_THAT(OpenError({.asn_db = path}), HasSubstr(path + ": no record has"));
}

TEST_F(NetworkInfoTest, CountryDbWithoutCountriesIsError) {
  MmdbWriter writer("GeoLite2-ASN");
  writer.Insert("192.0.2.0/24", AsRecord(64496, "Example AS"));
  std::string path = Write("asn.mmdb", writer.Build());
  EXPECT_THAT(OpenError({.country_db = path}), HasSubstr(path + ": no record has a country"));
}

TEST_F(NetworkInfoTest, NoFilesGivesEmptyAnswers) {
  NetworkInfoSource source;
  NetworkInfo info = source.Lookup(Ip("52.94.76.10"));
  EXPECT_EQ(info.asn, 0u);
  EXPECT_FALSE(info.in_aws);
  EXPECT_FALSE(source.has_asn());
  EXPECT_FALSE(source.has_country());
  EXPECT_FALSE(source.has_aws_ranges());
  EXPECT_EQ(source.Description(), "");
  NetworkInfoSource opened = NetworkInfoSource::Open({});
  EXPECT_FALSE(opened.has_aws_ranges());
}

// ---- ip-ranges.json ----

TEST_F(NetworkInfoTest, AwsMostSpecificPrefixWins) {
  NetworkInfoSource source = OpenRanges(RangesJson(
      {Entry("52.94.0.0/16", "EC2", "us-east-1"), Entry("52.94.76.0/22", "S3", "us-west-2"),
       Entry("52.94.76.8/29", "DYNAMODB", "us-west-2")}));
  EXPECT_TRUE(source.has_aws_ranges());
  NetworkInfo inner = source.Lookup(Ip("52.94.76.10"));
  EXPECT_TRUE(inner.in_aws);
  EXPECT_EQ(inner.aws_prefix, "52.94.76.8/29");
  EXPECT_EQ(inner.aws_service, "DYNAMODB");
  NetworkInfo middle = source.Lookup(Ip("52.94.76.16"));
  EXPECT_EQ(middle.aws_prefix, "52.94.76.0/22");
  EXPECT_EQ(middle.aws_service, "S3");
  EXPECT_EQ(middle.aws_region, "us-west-2");
  NetworkInfo outer = source.Lookup(Ip("52.94.80.0"));
  EXPECT_EQ(outer.aws_prefix, "52.94.0.0/16");
  EXPECT_EQ(outer.aws_region, "us-east-1");
}

TEST_F(NetworkInfoTest, AwsServiceOtherThanAmazonPreferred) {
  // AWS lists a range under AMAZON and again under its service, in either order.
  NetworkInfoSource source = OpenRanges(RangesJson(
      {Entry("3.5.140.0/22", "AMAZON", "ap-northeast-2"),
       Entry("13.32.0.0/15", "CLOUDFRONT", "GLOBAL"), Entry("3.5.140.0/22", "S3", "ap-northeast-2"),
       Entry("13.32.0.0/15", "AMAZON", "GLOBAL"), Entry("52.94.76.0/22", "AMAZON", "us-west-2")}));
  EXPECT_EQ(source.Lookup(Ip("3.5.141.1")).aws_service, "S3");
  EXPECT_EQ(source.Lookup(Ip("13.33.0.1")).aws_service, "CLOUDFRONT");
  NetworkInfo amazon_only = source.Lookup(Ip("52.94.76.10"));
  EXPECT_EQ(amazon_only.aws_service, "AMAZON");
  EXPECT_EQ(amazon_only.aws_region, "us-west-2");
}

TEST_F(NetworkInfoTest, AwsAmazonOnlyPrefixTakesEnclosingService) {
  NetworkInfoSource source = OpenRanges(RangesJson(
      {Entry("18.236.0.0/15", "EC2", "us-west-2"), Entry("18.236.4.0/24", "AMAZON", "us-west-2")}));
  NetworkInfo info = source.Lookup(Ip("18.236.4.1"));
  EXPECT_EQ(info.aws_prefix, "18.236.4.0/24");
  EXPECT_EQ(info.aws_service, "EC2");
}

TEST_F(NetworkInfoTest, AwsIpv6Prefixes) {
  NetworkInfoSource source = OpenRanges(
      RangesJson({Entry("52.94.76.0/22", "AMAZON", "us-west-2")},
                 {Entry("2600:1f14::/35", "AMAZON", "us-west-2", true),
                  Entry("2600:1F14::/35", "EC2", "us-west-2", true),
                  Entry("2600:1f14:fff:f800::/53", "ROUTE53_HEALTHCHECKS", "us-west-2", true)}));
  NetworkInfo ec2 = source.Lookup(Ip("2600:1f14:1234::1"));
  EXPECT_TRUE(ec2.in_aws);
  EXPECT_EQ(ec2.aws_prefix, "2600:1f14::/35");
  EXPECT_EQ(ec2.aws_service, "EC2");
  NetworkInfo health = source.Lookup(Ip("2600:1f14:fff:f8aa::1"));
  EXPECT_EQ(health.aws_prefix, "2600:1f14:fff:f800::/53");
  EXPECT_EQ(health.aws_service, "ROUTE53_HEALTHCHECKS");
  // ::ffff:52.94.76.1 is the IPv4 address; ::52.94.76.1 (IPv4-compatible) is an IPv6 one.
  EXPECT_EQ(source.Lookup(Ip("::ffff:52.94.76.1")).aws_prefix, "52.94.76.0/22");
  EXPECT_FALSE(source.Lookup(Ip("::52.94.76.1")).in_aws);
}

TEST_F(NetworkInfoTest, AwsAddressOutsideAwsIsNotInAws) {
  NetworkInfoSource source =
      OpenRanges(RangesJson({Entry("52.94.76.0/22", "AMAZON", "us-west-2")},
                            {Entry("2600:1f14::/35", "EC2", "us-west-2", true)}));
  for (const char* text : {"52.94.75.255", "52.94.80.0", "0.0.0.0", "255.255.255.255",
                           "2600:1f13::1", "2600:1f14:2000::", "::"}) {
    NetworkInfo info = source.Lookup(Ip(text));
    EXPECT_FALSE(info.in_aws) << text;
    EXPECT_EQ(info.aws_prefix, "") << text;
    EXPECT_EQ(info.aws_service, "") << text;
  }
}

TEST_F(NetworkInfoTest, AwsWholeSpaceAndSingleAddressPrefixes) {
  NetworkInfoSource source = OpenRanges(
      RangesJson({Entry("0.0.0.0/0", "AMAZON", "GLOBAL"), Entry("255.255.255.255/32", "EC2", "x")},
                 {Entry("::/0", "AMAZON", "GLOBAL", true),
                  Entry("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128", "EC2", "y", true)}));
  EXPECT_EQ(source.Lookup(Ip("255.255.255.255")).aws_prefix, "255.255.255.255/32");
  EXPECT_EQ(source.Lookup(Ip("255.255.255.254")).aws_prefix, "0.0.0.0/0");
  EXPECT_EQ(source.Lookup(Ip("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")).aws_region, "y");
  EXPECT_EQ(source.Lookup(Ip("::1")).aws_prefix, "::/0");
}

TEST_F(NetworkInfoTest, AwsBadJsonNamesFileAndByteOffset) {
  std::string json = RangesJson({Entry("52.94.76.0/22", "AMAZON", "us-west-2")});
  size_t comma = json.find("\"region\"");
  json.insert(comma, ",");  // a doubled comma inside the first entry
  std::string path = Write("ip-ranges.json", json);
  std::string message = OpenError({.aws_ip_ranges = path});
  EXPECT_THAT(message, HasSubstr(path + ": byte " + std::to_string(comma) + ": malformed JSON"));
}

TEST_F(NetworkInfoTest, AwsTruncatedJsonIsError) {
  std::string json = RangesJson({Entry("52.94.76.0/22", "AMAZON", "us-west-2")});
  std::string path = Write("ip-ranges.json", json.substr(0, json.size() / 2));
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr(path + ": byte "));
}

TEST_F(NetworkInfoTest, AwsPrefixWithHostBitsIsNamedByIndex) {
  std::string json = RangesJson(
      {Entry("52.94.76.0/22", "AMAZON", "us-west-2"), Entry("10.1.2.3/8", "EC2", "us-east-1")});
  std::string path = Write("ip-ranges.json", json);
  std::string message = OpenError({.aws_ip_ranges = path});
  size_t entry = json.find("{\"ip_prefix\": \"10.1.2.3/8\"");
  EXPECT_THAT(message, HasSubstr(path + ": byte " + std::to_string(entry) +
                                 ": prefixes[1]: ip_prefix \"10.1.2.3/8\" has host bits set"));
}

TEST_F(NetworkInfoTest, AwsBadPrefixLengthsAreNamedByIndex) {
  struct Case {
    std::string prefix;
    bool v6;
    std::string problem;
  };
  for (const Case& bad :
       std::vector<Case>{{"10.0.0.0/33", false, "has a prefix length over 32"},
                         {"10.0.0.0/08", false, "has a bad prefix length"},
                         {"10.0.0.0/", false, "has a bad prefix length"},
                         {"10.0.0.0", false, "has no prefix length"},
                         {"10.0.0/8", false, "is not an IPv4 prefix"},
                         {"2600::/129", true, "has a prefix length over 128"},
                         {"2600::/-1", true, "has a bad prefix length"},
                         {"10.0.0.0/8", true, "is not an IPv6 prefix"},
                         {"::ffff:10.0.0.0/104", true, "is an IPv4-mapped prefix"}}) {
    std::string json =
        bad.v6 ? RangesJson({}, {Entry("2600:1f14::/35", "EC2", "r", true),
                                 Entry(bad.prefix, "EC2", "r", true)})
               : RangesJson({Entry("52.94.76.0/22", "EC2", "r"), Entry(bad.prefix, "EC2", "r")});
    std::string message = OpenError({.aws_ip_ranges = Write("ip-ranges.json", json)});
    EXPECT_THAT(message, HasSubstr(std::string(bad.v6 ? "ipv6_prefixes[1]: ipv6_prefix \""
                                                      : "prefixes[1]: ip_prefix \"") +
                                   bad.prefix + "\" " + bad.problem))
        << bad.prefix;
  }
}

TEST_F(NetworkInfoTest, AwsEntryWithoutServiceOrWrongTypeIsError) {
  std::string path =
      Write("ip-ranges.json", R"({"prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r"}]})");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}),
              HasSubstr(path + ": byte 14: prefixes[0]: no service"));
  path = Write("ip-ranges.json",
               R"({"prefixes": [{"ip_prefix": "10.0.0.0/8", "region": 5, "service": "EC2"}]})");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr("prefixes[0]: region is not a string"));
  path = Write("ip-ranges.json",
               R"({"prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r", "service": ""}]})");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr("prefixes[0]: service is empty"));
  path = Write("ip-ranges.json", R"({"prefixes": {}})");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr("prefixes is not an array"));
}

TEST_F(NetworkInfoTest, AwsInvalidUtf8IsNamedByByteOffset) {
  std::string json = R"({"prefixes": [{"ip_prefix": "10.0.0.0/8", "region": "r)";
  size_t bad = json.size();
  json += "\xff\", \"service\": \"EC2\"}]}";
  std::string path = Write("ip-ranges.json", json);
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}),
              HasSubstr(path + ": byte " + std::to_string(bad) + ": not UTF-8"));
}

TEST_F(NetworkInfoTest, AwsJsonWithoutPrefixesIsNotIpRanges) {
  std::string path = Write("ip-ranges.json", R"({"syncToken": "1", "items": []})");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr(path + ": byte 0: not ip-ranges.json"));
  path = Write("ip-ranges.json", R"({"prefixes": []} [])");
  EXPECT_THAT(OpenError({.aws_ip_ranges = path}), HasSubstr(path + ": byte 17: "));
}

TEST_F(NetworkInfoTest, AwsPublishedShapeSample) {
  std::string sample =
      std::string(IPINSIGHTS_SOURCE_DIR) + "/tests/detect/data/ip-ranges-sample.json";
  NetworkInfoSource source = NetworkInfoSource::Open({.aws_ip_ranges = sample});
  EXPECT_EQ(source.Description(), "ip-ranges-sample.json 2024-03-01-18-03-08");
  NetworkInfo info = source.Lookup(Ip("52.94.76.10"));
  EXPECT_TRUE(info.in_aws);
  EXPECT_EQ(info.aws_prefix, "52.94.76.0/22");
  EXPECT_EQ(info.aws_service, "AMAZON");
  EXPECT_EQ(info.aws_region, "us-west-2");
  EXPECT_EQ(source.Lookup(Ip("3.5.143.255")).aws_service, "S3");
  EXPECT_EQ(source.Lookup(Ip("13.33.255.1")).aws_service, "CLOUDFRONT");
  EXPECT_EQ(source.Lookup(Ip("35.180.1.2")).aws_region, "eu-west-3");
  EXPECT_EQ(source.Lookup(Ip("52.93.178.234")).aws_prefix, "52.93.178.234/32");
  EXPECT_FALSE(source.Lookup(Ip("52.93.178.235")).in_aws);
  EXPECT_EQ(source.Lookup(Ip("2600:1f14:fff:f801::9")).aws_service, "ROUTE53_HEALTHCHECKS");
  EXPECT_EQ(source.Lookup(Ip("2600:1f14:10::9")).aws_service, "EC2");
  EXPECT_EQ(source.Lookup(Ip("2600:1f01:4875::1")).aws_prefix, "2600:1f01:4874::/47");
  EXPECT_FALSE(source.Lookup(Ip("8.8.8.8")).in_aws);
}

constexpr const char* kBucket = "ipinsights-network-info-test";
::testing::Environment* const kMotoEnvironment =
    ::testing::AddGlobalTestEnvironment(new s3test::StopProcessMoto(kBucket));

TEST_F(NetworkInfoTest, BothFilesFromS3) {
  if (!s3test::OnPath("moto_server"))
    GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]'): S3 test skipped";
  if (s3test::ProcessMoto(kBucket) == nullptr) GTEST_SKIP() << "moto_server did not start";
  try {  // ProcessMoto makes the bucket only when this test is the first to start moto
    DefaultS3Storage().client().CreateBucket(kBucket);
  } catch (const Error&) {
  }
  const std::string prefix = std::string("s3://") + kBucket + "/enrichment/";
  WriteWholeObject(prefix + "GeoLite2-ASN.mmdb", ExampleDatabase().Build());
  WriteWholeObject(prefix + "ip-ranges.json",
                   RangesJson({Entry("203.0.113.0/25", "AMAZON", "eu-west-2"),
                               Entry("203.0.113.0/25", "EC2", "eu-west-2")}));
  NetworkInfoSource source = NetworkInfoSource::Open(
      {.asn_db = prefix + "GeoLite2-ASN.mmdb", .aws_ip_ranges = prefix + "ip-ranges.json"});
  NetworkInfo info = source.Lookup(Ip("203.0.113.7"));
  EXPECT_EQ(info.asn, 64500u);
  EXPECT_EQ(info.country, "GB");
  EXPECT_EQ(info.aws_service, "EC2");
  EXPECT_EQ(source.Description(),
            "Test-ASN-Country 2024-03-01, ip-ranges.json 2024-03-01-18-03-08");
  // The downloaded copy is gone once mapped.
  for (const auto& entry :
       std::filesystem::directory_iterator(std::filesystem::temp_directory_path()))
    EXPECT_EQ(entry.path().filename().string().find(".GeoLite2-ASN.mmdb.ipinsights-tmp"),
              std::string::npos);
  std::string missing = prefix + "absent.mmdb";
  EXPECT_THAT(OpenError({.asn_db = missing}), HasSubstr(missing));
}

// The interval tables against a linear scan, over random nested prefixes.
TEST(AwsIpRanges, FindAgreesWithLinearScan) {
  std::mt19937 random(7);
  std::vector<std::string> entries;
  for (int i = 0; i < 300; ++i) {
    int length = 8 + static_cast<int>(random() % 25);
    uint32_t network =
        (0x34000000u | (random() & 0x00ffffffu)) & ~(length == 32 ? 0u : 0xffffffffu >> length);
    IpAddress ip = IpAddress::FromV4(network);
    const char* service = random() % 2 ? "AMAZON" : "EC2";
    entries.push_back(Entry(ip.ToString() + "/" + std::to_string(length), service, "r"));
  }
  AwsIpRanges ranges = AwsIpRanges::Parse("x.json", RangesJson(entries));
  auto contains = [](const AwsRange& range, uint32_t address) {
    uint32_t mask = range.length == 0 ? 0 : 0xffffffffu << (32 - range.length);
    return (address & mask) == range.network.v4();
  };
  for (int i = 0; i < 20000; ++i) {
    uint32_t address = 0x34000000u | (random() & 0x00ffffffu);
    const AwsRange* expected = nullptr;
    for (const AwsRange& range : ranges.ranges()) {
      if (contains(range, address) && (expected == nullptr || range.length > expected->length))
        expected = &range;
    }
    const AwsRange* found = ranges.Find(IpAddress::FromV4(address));
    ASSERT_EQ(found, expected) << IpAddress::FromV4(address).ToString();
  }
}

// By hand: build/release/detect_test --gtest_also_run_disabled_tests \
//   --gtest_filter='*LookupCost*'   (prints ns per Lookup with both files loaded)
TEST_F(NetworkInfoTest, DISABLED_LookupCost) {
  std::mt19937 random(1);
  MmdbWriter writer("GeoLite2-City-like");
  std::vector<uint32_t> mmdb_networks, aws_networks;
  for (int i = 0; i < 100000; ++i) {
    mmdb_networks.push_back(static_cast<uint32_t>(random()) & 0xffffff00u);
    writer.Insert(IpAddress::FromV4(mmdb_networks.back()).ToString() + "/24",
                  CityRecord(64500 + i % 1000, "Org " + std::to_string(i % 1000), "GB"));
  }
  std::vector<std::string> entries;
  for (int i = 0; i < 8000; ++i) {
    aws_networks.push_back(static_cast<uint32_t>(random()) & 0xfffff000u);
    entries.push_back(Entry(IpAddress::FromV4(aws_networks.back()).ToString() + "/20",
                            i % 2 ? "AMAZON" : "EC2", "us-east-1"));
  }
  NetworkInfoSource source =
      NetworkInfoSource::Open({.asn_db = Write("city.mmdb", writer.Build()),
                               .aws_ip_ranges = Write("ip-ranges.json", RangesJson(entries))});
  auto time = [&](const char* what, const std::vector<IpAddress>& addresses) {
    size_t answers = 0;
    const int rounds = 20;
    auto start = std::chrono::steady_clock::now();
    for (int round = 0; round < rounds; ++round) {
      for (const IpAddress& ip : addresses) {
        NetworkInfo info = source.Lookup(ip);
        answers += (info.asn != 0 ? 1 : 0) + (info.in_aws ? 1 : 0);
      }
    }
    double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: %.0f ns per Lookup (%zu answers)\n", what,
                seconds * 1e9 / (rounds * addresses.size()), answers);
    return answers;
  };
  std::vector<IpAddress> any, inside;
  for (int i = 0; i < 1 << 16; ++i) {
    any.push_back(IpAddress::FromV4(static_cast<uint32_t>(random())));
    uint32_t low = static_cast<uint32_t>(random());
    inside.push_back(
        IpAddress::FromV4(i % 2 ? mmdb_networks[low % mmdb_networks.size()] | (low & 0xff)
                                : aws_networks[low % aws_networks.size()] | (low & 0xfff)));
  }
  EXPECT_GT(time("random IPv4 addresses (mostly in neither file)", any), 0u);
  EXPECT_GE(time("addresses inside a network of one file", inside), 20u * any.size() / 2);
  EXPECT_EQ(source.lookup_errors(), 0u);
}

}  // namespace
}  // namespace ipinsights
