#include "ipinsights/logs/log_scan.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "log_test_util.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

// Buffers "entity,ip" lines and appends them to a shared string on WriteOut.
class StringOutput : public FileOutput {
 public:
  explicit StringOutput(std::string* destination) : destination_(destination) {}
  void Add(const LogEvent& event) override {
    buffer_.append(event.entity).append(",").append(event.ip.ToString()).append("\n");
  }
  size_t BufferedBytes() const override { return buffer_.size(); }
  void WriteOut() override {
    destination_->append(buffer_);
    buffer_.clear();
  }
  void Discard() override { buffer_.clear(); }

 private:
  std::string* destination_;
  std::string buffer_;
};

class LogScanTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    // 40 objects of varied sizes, some gzip'd, one broken, one digest.
    for (int f = 0; f < 40; ++f) {
      std::string text = "{\"Records\":[";
      int records = (f * 37) % 300 + 1;
      for (int r = 0; r < records; ++r) {
        if (r) text += ",";
        text += testing::IamUserRecord("F" + std::to_string(f) + "R" + std::to_string(r),
                                       "10.0." + std::to_string(f) + "." + std::to_string(r % 250));
      }
      text += "]}";
      if (f == 17) text = text.substr(0, text.size() / 2);  // truncated JSON
      char name[64];
      std::snprintf(name, sizeof(name), "f%02d.json%s", f, f % 3 == 0 ? ".gz" : "");
      std::ofstream(dir_ / name, std::ios::binary) << (f % 3 == 0 ? testing::Gzip(text) : text);
    }
    fs::create_directories(dir_ / "CloudTrail-Digest");
    std::ofstream(dir_ / "CloudTrail-Digest" / "d.json") << "{}";
    objects_ = OpenStorage(dir_.string()).List(dir_.string());
  }
  ScanSummary Scan(size_t threads, size_t flush_bytes, std::string* out,
                   BadRecordReporter* bad_records = nullptr) {
    ScanOptions options;
    options.threads = threads;
    options.flush_bytes = flush_bytes;
    options.bad_records = bad_records;
    return ScanLogs(objects_, nullptr, LogReaderOptions(), options,
                    [&] { return std::make_unique<StringOutput>(out); });
  }

  std::vector<ObjectInfo> objects_;
};

TEST_F(LogScanTest, OutputIsIdenticalForAnyThreadCount) {
  std::string one, two, four;
  BadRecordLog p1, p4;
  ScanSummary s1 = Scan(1, 16 << 20, &one, &p1);
  ScanSummary s2 = Scan(2, 16 << 20, &two);
  ScanSummary s4 = Scan(4, 1024, &four, &p4);  // tiny flush threshold: early writes interleave
  EXPECT_EQ(one, two);
  EXPECT_EQ(one, four);
  EXPECT_EQ(s1.pairs, s2.pairs);
  EXPECT_EQ(p1.messages(), p4.messages());
  EXPECT_EQ(s1.files, 41u);
  EXPECT_EQ(s1.digest_files, 1u);
  // Listing order: f00 rows first, in record order.
  EXPECT_EQ(one.substr(0, one.find('\n')), "F0R0,10.0.0.0");
}

TEST_F(LogScanTest, ABrokenObjectIsReportedAndTheOthersAreRead) {
  std::string out;
  BadRecordLog bad_records;
  ScanSummary summary = Scan(2, 16 << 20, &out, &bad_records);
  ASSERT_EQ(bad_records.count(), 1u);
  EXPECT_NE(bad_records.messages()[0].find("f17.json: byte "), std::string::npos)
      << bad_records.messages()[0];
  EXPECT_NE(out.find("F39R0,10.0.39.0\n"), std::string::npos);
  EXPECT_EQ(summary.records, summary.pairs + summary.skipped.Total() - summary.digest_files);
}

TEST_F(LogScanTest, StrictStopsAtTheFirstProblem) {
  std::string out;
  BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
  ScanOptions options;
  options.threads = 2;
  options.bad_records = &strict;
  try {
    ScanLogs(objects_, nullptr, LogReaderOptions(), options,
             [&] { return std::make_unique<StringOutput>(&out); });
    FAIL() << "no Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("f17.json: byte "), std::string::npos) << e.what();
  }
}

// Strict reporting is in listing order: with many broken objects the error names the first
// one listed, whatever the thread count, and nothing after it is written.
TEST_F(LogScanTest, StrictNamesTheFirstBrokenObjectInListingOrder) {
  std::ofstream(dir_ / "f05.json", std::ios::binary) << "{\"Records\":[{\"a\":1}";
  std::ofstream(dir_ / "f30.json", std::ios::binary) << "{\"Records\":[{\"a\":1}";
  objects_ = OpenStorage(dir_.string()).List(dir_.string());
  for (size_t threads : {1, 4}) {
    std::string out;
    BadRecordLog strict(BadRecordLog::kDefaultCap, /*strict=*/true);
    try {
      Scan(threads, 16 << 20, &out, &strict);
      FAIL() << "no Error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("f05.json: byte 19: malformed JSON"), std::string::npos)
          << e.what();
    }
    EXPECT_EQ(out.find("F5R"), std::string::npos);
    EXPECT_EQ(out.find("F6R"), std::string::npos);
  }
}

}  // namespace
}  // namespace ipinsights
