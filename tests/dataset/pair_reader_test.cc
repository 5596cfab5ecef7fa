#include "ipinsights/dataset/pair_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class PairReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("ipinsights_pair_reader_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = (dir_ / name).string();
    WriteWholeObject(path, text);
    return path;
  }

  // "entity|ip" per good row.
  std::vector<std::string> ReadAll(const std::string& location, PairReadStats* stats = nullptr) {
    PairReader reader(location);
    std::vector<std::string> out;
    std::string_view entity;
    IpAddress ip;
    while (reader.Next(&entity, &ip)) out.push_back(std::string(entity) + "|" + ip.ToString());
    if (stats) *stats = reader.stats();
    return out;
  }

  std::filesystem::path dir_;
};

TEST_F(PairReaderTest, ReadsPlainRowsWithOptionalSpaceAndCrlf) {
  const std::string path =
      Write("a.csv", "user_1,192.168.1.2\nentity_id_1, 10.10.1.2\r\nu3,2001:db8::1\n\nu4,1.2.3.4");
  EXPECT_THAT(ReadAll(path), ElementsAre("user_1|192.168.1.2", "entity_id_1|10.10.1.2",
                                         "u3|2001:db8::1", "u4|1.2.3.4"));
}

TEST_F(PairReaderTest, ReadsQuotedEntitiesPerRfc4180) {
  const std::string path = Write(
      "q.csv",
      "\"Mozilla/5.0 (X11, Linux)\",1.1.1.1\n\"say \"\"hi\"\"\",2.2.2.2\n\"two\nlines\",3.3.3.3\n"
      "after,\"4.4.4.4\"\n");
  PairReadStats stats;
  EXPECT_THAT(ReadAll(path, &stats),
              ElementsAre("Mozilla/5.0 (X11, Linux)|1.1.1.1", "say \"hi\"|2.2.2.2",
                          "two\nlines|3.3.3.3", "after|4.4.4.4"));
  EXPECT_EQ(stats.bad_rows, 0u);
}

TEST_F(PairReaderTest, SkipsAndReportsBadRowsWithLineNumbers) {
  const std::string path = Write(
      "bad.csv",
      "ok,1.2.3.4\nnoip\nx,10.0.0.256\n,5.5.5.5\na,1.2.3.4,extra\n\"open,6.6.6.6\n");
  PairReadStats stats;
  EXPECT_THAT(ReadAll(path, &stats), ElementsAre("ok|1.2.3.4"));
  EXPECT_EQ(stats.rows, 1u);
  EXPECT_EQ(stats.bad_rows, 5u);
  ASSERT_EQ(stats.errors.size(), 5u);
  EXPECT_EQ(stats.errors[0], path + ":2: expected 2 fields (entity,ip), found 1");
  EXPECT_EQ(stats.errors[1], path + ":3: bad IP \"10.0.0.256\"");
  EXPECT_EQ(stats.errors[2], path + ":4: empty entity");
  EXPECT_EQ(stats.errors[3], path + ":5: expected 2 fields (entity,ip), found 3");
  EXPECT_EQ(stats.errors[4], path + ":6: unterminated quoted field");
}

TEST_F(PairReaderTest, LineNumbersCountLineBreaksInsideQuotes) {
  const std::string path = Write("n.csv", "\"a\nb\",1.1.1.1\nc,bad\n");
  PairReadStats stats;
  ReadAll(path, &stats);
  ASSERT_EQ(stats.errors.size(), 1u);
  EXPECT_EQ(stats.errors[0], path + ":3: bad IP \"bad\"");
}

TEST_F(PairReaderTest, ReadsEveryFileOfAFolderInOrder) {
  std::filesystem::create_directories(dir_ / "folder");
  Write("folder/part-2.csv", "b,2.2.2.2\n");
  Write("folder/part-1.csv", "a,1.1.1.1\n");
  EXPECT_THAT(ReadAll((dir_ / "folder").string()), ElementsAre("a|1.1.1.1", "b|2.2.2.2"));
}

TEST_F(PairReaderTest, ReadsRecordsAcrossChunkBoundaries) {
  std::string text;
  std::vector<std::string> expected;
  for (int i = 0; i < 120000; ++i) {
    const std::string entity = (i % 7 == 0) ? "\"quoted, " + std::to_string(i) + "\"" : "e" + std::to_string(i);
    const std::string ip = "10." + std::to_string(i % 256) + "." + std::to_string((i / 256) % 256) + ".1";
    text += entity + "," + ip + "\n";
    expected.push_back((i % 7 == 0 ? "quoted, " + std::to_string(i) : "e" + std::to_string(i)) + "|" + ip);
  }
  PairReadStats stats;
  EXPECT_EQ(ReadAll(Write("big.csv", text), &stats), expected);
  EXPECT_EQ(stats.bytes, text.size());
}

TEST_F(PairReaderTest, MissingLocationIsAnError) {
  EXPECT_THROW(PairReader((dir_ / "missing.csv").string()), Error);
}

}  // namespace
}  // namespace ipinsights
