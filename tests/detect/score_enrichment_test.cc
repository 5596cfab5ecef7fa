// `score --findings --asn-db FILE --aws-ip-ranges FILE`: reasons name the AS, the country
// and AWS ownership, and "new AS for this entity" is a reason of its own. The database is
// built by the test (tests/detect/mmdb_writer.h) with one AS per /16 the simulated day uses
// (the simulator gives every network its own /16, so an AS per /16 is an AS per network);
// one /16 of them is listed in an ip-ranges.json as EC2 in eu-west-1.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <sstream>
#include <string>

#include "../testing/command.h"
#include "mmdb_writer.h"

namespace ipinsights {
namespace {

using testing::CommandResult;
using testing::RunIpinsights;

class ScoreEnrichment : public testing::ScratchTest {
 protected:
  void Run(const std::string& args) {
    CommandResult run = RunIpinsights(dir_, args + " --quiet");
    ASSERT_EQ(run.exit_code, 0) << args << "\n" << run.err;
  }
};

TEST_F(ScoreEnrichment, ReasonsNameTheOwnerAndANewAs) {
  Run("simulate cloudtrail --out sim --users 300 --days 4 --attacks 150 --seed 4");
  Run("prepare cloudtrail --input sim/AWSLogs --to 2024-03-03 --split-at 2024-03-03 "
      "--output train.csv --validation-output val.csv");
  Run("train --train train.csv --validation val.csv --model-dir model --num-entity-vectors 1200 "
      "--vector-dim 32 --epochs 4 --seed 1");
  // Every IPv4 /16 of every day: training days too, so the entity's known networks resolve.
  Run("prepare cloudtrail --input sim/AWSLogs --output all.csv");
  std::set<std::string> slash16s;
  std::istringstream rows(Read("all.csv"));
  for (std::string row; std::getline(rows, row);) {
    const std::string ip = row.substr(row.rfind(',') + 1);
    if (ip.find(':') != std::string::npos) continue;
    const size_t second_dot = ip.find('.', ip.find('.') + 1);
    slash16s.insert(ip.substr(0, second_dot));
  }
  ASSERT_GT(slash16s.size(), 10u);
  testing::MmdbWriter writer("GeoLite2-ASN");
  uint32_t asn = 64512;
  std::map<std::string, uint32_t> asn_of;
  for (const std::string& prefix : slash16s) {
    asn_of[prefix] = asn;
    writer.Insert(prefix + ".0.0/16",
                  testing::MmdbMap(
                      {{"autonomous_system_number", testing::MmdbUint32(asn)},
                       {"autonomous_system_organization",
                        testing::MmdbString("Example Net " + std::to_string(asn))},
                       {"country", testing::MmdbMap({{"iso_code", testing::MmdbString("NL")}})}}));
    ++asn;
  }
  Write("asn.mmdb", writer.Build());
  const std::string aws16 = *slash16s.begin();
  Write("ip-ranges.json",
        "{\"syncToken\":\"1\",\"createDate\":\"2024-03-01-00-00-00\",\"prefixes\":["
        "{\"ip_prefix\":\"" +
            aws16 +
            ".0.0/16\",\"region\":\"eu-west-1\",\"service\":\"EC2\","
            "\"network_border_group\":\"eu-west-1\"}],\"ipv6_prefixes\":[]}");

  CommandResult run =
      RunIpinsights(dir_,
                    "score cloudtrail --model model/model.ipinsights --input sim/AWSLogs --from "
                    "2024-03-04 --to 2024-03-04 --findings --asn-db asn.mmdb --aws-ip-ranges "
                    "ip-ranges.json --output findings.ndjson --quiet");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  simdjson::dom::parser parser;
  std::istringstream lines(Read("findings.ndjson"));
  int findings = 0, owners = 0, new_as = 0, in_aws = 0;
  for (std::string line; std::getline(lines, line);) {
    simdjson::dom::element finding = parser.parse(line);
    ++findings;
    const std::string ip{std::string_view(finding["ip"])};
    if (ip.find(':') != std::string::npos) continue;
    const std::string prefix = ip.substr(0, ip.find('.', ip.find('.') + 1));
    for (simdjson::dom::element reason : finding["reasons"].get_array()) {
      const std::string_view code = reason["code"];
      const std::string message{std::string_view(reason["message"])};
      if (code == "address_owner") {
        ++owners;
        EXPECT_NE(message.find("AS" + std::to_string(asn_of[prefix])), std::string::npos)
            << message;
        EXPECT_NE(message.find(" in NL"), std::string::npos) << message;
        if (prefix == aws16) {
          ++in_aws;
          EXPECT_NE(message.find("inside AWS (EC2 eu-west-1)"), std::string::npos) << message;
        } else {
          EXPECT_NE(message.find("outside AWS"), std::string::npos) << message;
        }
      }
      if (code == "asn_new_for_entity") {
        ++new_as;
        EXPECT_NE(message.find("AS" + std::to_string(asn_of[prefix])), std::string::npos)
            << message;
      }
    }
  }
  EXPECT_GT(findings, 20);
  EXPECT_GT(owners, findings / 2);  // every IPv4 finding
  EXPECT_GT(new_as, 10);            // the attacks come from networks the entities never used
  std::printf("%d findings, %d with the owner, %d with a new AS, %d inside AWS\n", findings, owners,
              new_as, in_aws);
}

}  // namespace
}  // namespace ipinsights
