// Bad input never crashes the reader and never loses count of a record: every truncation
// and corruption of valid logs keeps records == pairs + skipped, in every container and on
// both the in-memory and the streaming path.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../testing/scratch_test.h"
#include "ipinsights/logs/log_reader.h"
#include "log_test_util.h"

namespace ipinsights {
namespace {

using testing::CollectingSink;
using testing::Gzip;
using testing::IamUserRecord;

std::vector<std::string> Corpus() {
  std::string records;
  for (int i = 0; i < 6; ++i) {
    if (i) records += ",";
    records += IamUserRecord("P" + std::to_string(i), "192.0.2." + std::to_string(i));
  }
  std::string ndjson;
  for (int i = 0; i < 6; ++i)
    ndjson += IamUserRecord("N" + std::to_string(i), "198.51.100.1") + "\n";
  return {"{\"Records\":[" + records + "]}", "[" + records + "]", ndjson};
}

void CheckInvariant(const LogReaderOptions& options, const std::string& bytes) {
  LogFileReader reader(options);
  CollectingSink sink;
  BadRecordLog bad_records(1000);
  FileReport report = reader.ReadBytes("fuzz.json", bytes, sink, &bad_records);
  ASSERT_EQ(report.records,
            report.pairs + report.skipped.Total() - report.skipped[SkipReason::kDigest]);
  ASSERT_EQ(report.pairs, sink.pairs.size());
  ASSERT_EQ(bad_records.count(), report.skipped[SkipReason::kMalformed]);
  for (const std::string& problem : bad_records.messages()) {
    ASSERT_EQ(problem.rfind("fuzz.json: ", 0), 0u) << problem;
  }
}

class LogFileReaderRobustness : public testing::ScratchTest {};

TEST_F(LogFileReaderRobustness, EveryTruncationIsCountedNotCrashed) {
  LogReaderOptions whole;
  LogReaderOptions streaming;
  streaming.memory_budget = 1;
  streaming.stream_chunk = 61;
  for (const std::string& text : Corpus()) {
    for (size_t cut = 0; cut < text.size(); cut += 7) {
      std::string prefix = text.substr(0, cut);
      CheckInvariant(whole, prefix);
      CheckInvariant(streaming, prefix);
    }
    std::string gz = Gzip(text);
    for (size_t cut = 0; cut < gz.size(); cut += 5) {
      CheckInvariant(whole, gz.substr(0, cut));
      CheckInvariant(streaming, gz.substr(0, cut));
    }
  }
}

TEST_F(LogFileReaderRobustness, CorruptedBytesAreCountedNotCrashed) {
  LogReaderOptions whole;
  LogReaderOptions streaming;
  streaming.memory_budget = 1;
  streaming.stream_chunk = 61;
  const char replacements[] = {'{', '}', '[', ']', '"', ',', ':', '\\', '\n', '\0', 'x', '\xff'};
  for (const std::string& text : Corpus()) {
    for (size_t at = 0; at < text.size(); at += 13) {
      for (char c : replacements) {
        std::string bad = text;
        bad[at] = c;
        CheckInvariant(whole, bad);
        CheckInvariant(streaming, bad);
      }
    }
    std::string gz = Gzip(text);
    for (size_t at = 10; at < gz.size(); at += 9) {
      std::string bad = gz;
      bad[at] = static_cast<char>(bad[at] ^ 0x5a);
      CheckInvariant(whole, bad);
    }
  }
}

TEST_F(LogFileReaderRobustness, ObjectsOverTheMemoryBudgetAreStreamedFromStorage) {
  std::string text = "{\"Records\":[";
  for (int i = 0; i < 3000; ++i) {
    if (i) text += ",";
    text += IamUserRecord("B" + std::to_string(i), "203.0.113." + std::to_string(i % 250));
  }
  text += "]}";
  const std::string path = Write("big.json.gz", Gzip(text));
  Storage& storage = OpenStorage(path);
  ObjectInfo object = storage.List(path).at(0);

  LogReaderOptions whole;
  LogReaderOptions bounded;
  bounded.memory_budget = 64 << 10;  // far below the 3000-record object
  CollectingSink a;
  CollectingSink b;
  FileReport ra = LogFileReader(whole).Read(storage, object, a);
  BadRecordLog bounded_problems;
  FileReport rb = LogFileReader(bounded).Read(storage, object, b, &bounded_problems);
  EXPECT_EQ(ra.pairs, 3000u);
  EXPECT_EQ(a.Rows(), b.Rows());
  EXPECT_EQ(ra.json_bytes, text.size());
  EXPECT_EQ(rb.json_bytes, text.size());
  EXPECT_EQ(rb.stored_bytes, object.size);
  EXPECT_EQ(bounded_problems.count(), 0u);
}

}  // namespace
}  // namespace ipinsights
