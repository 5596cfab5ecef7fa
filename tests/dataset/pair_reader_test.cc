#include "ipinsights/dataset/pair_reader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../testing/large_file.h"
#include "../testing/peak_rss.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::PeakRssBytes;
using testing::ResetPeakRss;

class PairReaderTest : public testing::ScratchTest {
 protected:
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = Path(name);
    WriteWholeObject(path, text);
    return path;
  }

  // "entity|ip" per good row.
  // "entity|ip" per good row; the reader's counts and the bad-row messages (BadRecordLog).
  std::vector<std::string> ReadAll(const std::string& location, PairReadStats* stats = nullptr,
                                   std::vector<std::string>* errors = nullptr) {
    BadRecordLog bad_rows;
    PairReader reader(location, &bad_rows);
    std::vector<std::string> out;
    std::string_view entity;
    IpAddress ip;
    while (reader.Next(&entity, &ip)) out.push_back(std::string(entity) + "|" + ip.ToString());
    if (stats) *stats = reader.stats();
    if (errors) *errors = bad_rows.messages();
    EXPECT_EQ(bad_rows.count(), reader.stats().bad_rows);
    return out;
  }

  // Writes `head`, then `filler_bytes` copies of `filler`, then `tail`, without holding
  // the whole file in memory.
  std::string WriteLarge(const std::string& name, const std::string& head, char filler,
                         size_t filler_bytes, const std::string& tail) {
    const std::string path = Path(name);
    testing::WriteLargeFile(path, head, filler, filler_bytes, tail);
    return path;
  }
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
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll(path, &stats, &errors),
              ElementsAre("Mozilla/5.0 (X11, Linux)|1.1.1.1", "say \"hi\"|2.2.2.2",
                          "two\nlines|3.3.3.3", "after|4.4.4.4"));
  EXPECT_EQ(stats.bad_rows, 0u);
}

TEST_F(PairReaderTest, SkipsAndReportsBadRowsWithLineNumbers) {
  const std::string path = Write(
      "bad.csv", "ok,1.2.3.4\nnoip\nx,10.0.0.256\n,5.5.5.5\na,1.2.3.4,extra\n\"open,6.6.6.6\n");
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll(path, &stats, &errors), ElementsAre("ok|1.2.3.4"));
  EXPECT_EQ(stats.rows, 1u);
  EXPECT_EQ(stats.bad_rows, 5u);
  ASSERT_EQ(errors.size(), 5u);
  EXPECT_EQ(errors[0], path + ":2: expected 2 fields (entity,ip), got 1");
  EXPECT_EQ(errors[1], path + ":3: bad IP \"10.0.0.256\"");
  EXPECT_EQ(errors[2], path + ":4: empty entity");
  EXPECT_EQ(errors[3], path + ":5: expected 2 fields (entity,ip), got 3");
  EXPECT_EQ(errors[4], path + ":6: unterminated quoted field");
}

TEST_F(PairReaderTest, LineNumbersCountLineBreaksInsideQuotes) {
  const std::string path = Write("n.csv", "\"a\nb\",1.1.1.1\nc,bad\n");
  PairReadStats stats;
  std::vector<std::string> errors;
  ReadAll(path, &stats, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], path + ":3: bad IP \"bad\"");
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
    const std::string entity =
        (i % 7 == 0) ? "\"quoted, " + std::to_string(i) + "\"" : "e" + std::to_string(i);
    const std::string ip =
        "10." + std::to_string(i % 256) + "." + std::to_string((i / 256) % 256) + ".1";
    text += entity + "," + ip + "\n";
    expected.push_back((i % 7 == 0 ? "quoted, " + std::to_string(i) : "e" + std::to_string(i)) +
                       "|" + ip);
  }
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_EQ(ReadAll(Write("big.csv", text), &stats), expected);
  EXPECT_EQ(stats.bytes, text.size());
}

// Review M4: a runaway quote was re-parsed from its start on every 1 MiB read (quadratic
// time) and copied whole (3x the file in memory); the 1 MiB cap never fired.
TEST_F(PairReaderTest, UnterminatedQuoteIsCutAtTheRecordCapInBoundedMemory) {
  const size_t filler = 64 << 20;
  const std::string path =
      WriteLarge("quote.csv", "\"", 'x', filler, "\ngood,1.2.3.4\nlast,5.6.7.8\n");
  ResetPeakRss();
  const size_t before = PeakRssBytes();
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll(path, &stats, &errors), ElementsAre("good|1.2.3.4", "last|5.6.7.8"));
  EXPECT_LT(PeakRssBytes() - before, size_t{16} << 20);
  EXPECT_EQ(stats.bad_rows, 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], path + ":1: unterminated quoted field (record longer than 1048576 bytes)");
  EXPECT_EQ(stats.bytes, filler + 1 + 27);
}

TEST_F(PairReaderTest, OverlongUnquotedLineIsSkippedToTheNextLineBreak) {
  const std::string path =
      WriteLarge("long.csv", "ok,1.1.1.1\n", 'a', 3 << 20, ",2.2.2.2\ngood,1.2.3.4\n");
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll(path, &stats, &errors), ElementsAre("ok|1.1.1.1", "good|1.2.3.4"));
  EXPECT_EQ(stats.bad_rows, 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], path + ":2: record longer than 1048576 bytes");
}

TEST_F(PairReaderTest, LineWithoutNewlineIsOneBadRowInBoundedMemory) {
  const std::string path = WriteLarge("nonl.csv", "ok,1.1.1.1\n", 'a', 64 << 20, "");
  ResetPeakRss();
  const size_t before = PeakRssBytes();
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll(path, &stats, &errors), ElementsAre("ok|1.1.1.1"));
  EXPECT_LT(PeakRssBytes() - before, size_t{16} << 20);
  EXPECT_EQ(stats.bad_rows, 1u);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], path + ":2: record longer than 1048576 bytes");
}

TEST_F(PairReaderTest, QuotedRecordJustUnderTheCapIsRead) {
  const std::string path =
      WriteLarge("under.csv", "\"", 'q', (1 << 20) - 100, "\",1.2.3.4\nb,5.6.7.8\n");
  PairReadStats stats;
  std::vector<std::string> errors;
  const std::vector<std::string> rows = ReadAll(path, &stats, &errors);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].size(), (1u << 20) - 100 + 8);
  EXPECT_EQ(rows[1], "b|5.6.7.8");
  EXPECT_EQ(stats.bad_rows, 0u);
}

TEST_F(PairReaderTest, SkipsAHeaderOnTheFirstLineOfEachObjectOnly) {
  std::filesystem::create_directories(dir_ / "folder");
  Write("folder/part-1.csv", "entity,ip\na,1.1.1.1\n");
  Write("folder/part-2.csv", "entity, ip\r\nb,2.2.2.2\nentity,ip\n");
  PairReadStats stats;
  std::vector<std::string> errors;
  EXPECT_THAT(ReadAll((dir_ / "folder").string(), &stats, &errors),
              ElementsAre("a|1.1.1.1", "b|2.2.2.2"));
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], (dir_ / "folder/part-2.csv").string() + ":3: bad IP \"ip\"");
}

TEST_F(PairReaderTest, KeepsAQuoteInsideAnUnquotedEntity) {
  EXPECT_THAT(ReadAll(Write("q.csv", "a\"b,1.2.3.4\n")), ElementsAre("a\"b|1.2.3.4"));
}

TEST_F(PairReaderTest, StrictReporterStopsAtTheFirstBadRowNamingFileAndLine) {
  const std::string path = Write("s.csv", "ok,1.2.3.4\nx,10.0.0.256\ny,300.0.0.1\n");
  BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
  PairReader reader(path, &strict);
  std::string_view entity;
  IpAddress ip;
  ASSERT_TRUE(reader.Next(&entity, &ip));
  try {
    reader.Next(&entity, &ip);
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: bad IP \"10.0.0.256\"");
  }
}

TEST_F(PairReaderTest, MissingLocationIsAnError) {
  EXPECT_THROW(PairReader((dir_ / "missing.csv").string()), Error);
}

}  // namespace
}  // namespace ipinsights
