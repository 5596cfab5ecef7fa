#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <xxhash.h>

#include <cmath>
#include <cstring>
#include <string>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/history/entity_history.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

IpAddress Ip(const char* text) { return *IpAddress::Parse(text); }

class HistoryFileTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    path_ = (dir_ / "train.csv.history").string();
  }

  static EntityHistory Sample() {
    HistoryBuilder builder;
    builder.Add("AIDAEXAMPLE", Ip("203.0.113.7"), 19800);
    builder.Add("AIDAEXAMPLE", Ip("203.0.113.7"), 19801);
    builder.Add("AIDAEXAMPLE", Ip("2001:db8:1:2::7"), 19802);
    builder.Add("ASIAOTHER", Ip("198.51.100.1"), kUnknownDay);
    EntityHistory history = std::move(builder).Finish();
    history.mutable_records()[0].score_min = -3.5f;
    history.mutable_records()[0].score_p05 = -1.25f;
    history.mutable_records()[0].score_p50 = 2.0f;
    return history;
  }

  std::string ParseError(const std::string& bytes) {
    try {
      ParseHistoryFile(bytes, path_);
    } catch (const Error& e) {
      return e.what();
    }
    return "no error";
  }

  // Rewrites the checksum so that the bytes reach the structural checks.
  static std::string Resealed(std::string bytes) {
    const uint64_t length = bytes.size();
    std::memcpy(bytes.data() + 16, &length, 8);
    const uint64_t checksum = XXH3_64bits(bytes.data(), bytes.size() - 8);
    std::memcpy(bytes.data() + bytes.size() - 8, &checksum, 8);
    return bytes;
  }

  std::string path_;
};

TEST_F(HistoryFileTest, RoundTrips) {
  const EntityHistory history = Sample();
  EXPECT_EQ(history.checksum(), 0u);  // built in memory
  WriteHistoryFile(history, path_);
  const EntityHistory again = ReadHistoryFile(path_);
  // The checksum read back is the one the writer reports: train records it in the model.
  {
    std::unique_ptr<WritableFile> file = OpenStorage(path_ + "3").OpenWritable(path_ + "3");
    uint64_t written = 0;
    EXPECT_EQ(WriteHistoryFile(history, file.get(), &written), ReadWholeObject(path_).size());
    file->Close();
    EXPECT_EQ(written, again.checksum());
    EXPECT_NE(written, 0u);
  }
  EXPECT_EQ(again.entities(), 2u);
  EXPECT_EQ(again.events(), 4u);
  EXPECT_EQ(again.first_day(), 19800);
  EXPECT_EQ(again.last_day(), 19802);
  EXPECT_EQ(again.limits().addresses_per_entity, history.limits().addresses_per_entity);
  const EntityRecord* record = again.Find("AIDAEXAMPLE");
  ASSERT_NE(record, nullptr);
  EXPECT_EQ(record->events, 3u);
  EXPECT_EQ(record->addresses[0].ip, Ip("203.0.113.7"));
  EXPECT_EQ(record->addresses[0].events, 2u);
  EXPECT_EQ(record->addresses[1].ip, Ip("2001:db8:1:2::7"));
  ASSERT_EQ(record->fine.size(), 2u);
  EXPECT_EQ(record->fine[1].network.ToString(), "2001:db8:1::/48");
  EXPECT_EQ(record->fine[1].first_day, 19802);
  EXPECT_EQ(record->coarse[1].network.ToString(), "2001:db8::/32");
  EXPECT_FLOAT_EQ(record->score_min, -3.5f);
  EXPECT_FLOAT_EQ(record->score_p05, -1.25f);
  EXPECT_FLOAT_EQ(record->score_p50, 2.0f);
  EXPECT_TRUE(record->has_scores());
  const EntityRecord* other = again.Find("ASIAOTHER");
  ASSERT_NE(other, nullptr);
  EXPECT_FALSE(other->has_scores());
  EXPECT_EQ(other->first_day, kUnknownDay);
  EXPECT_EQ(again.EntitiesOnNetwork(Ip("198.51.100.200"), NetworkLevel::kFine), 1u);
  EXPECT_EQ(again.EntitiesOnNetwork(Ip("2001:db8:ffff::1"), NetworkLevel::kCoarse), 1u);
  EXPECT_EQ(again.EntitiesOnNetwork(Ip("2001:db9::1"), NetworkLevel::kCoarse), 0u);
  // The same bytes again: the format has one spelling of a history.
  WriteHistoryFile(again, path_ + "2");
  EXPECT_EQ(ReadWholeObject(path_ + "2"), ReadWholeObject(path_));
}

TEST_F(HistoryFileTest, EmptyHistoryRoundTrips) {
  WriteHistoryFile(HistoryBuilder().Finish(), path_);
  const EntityHistory again = ReadHistoryFile(path_);
  EXPECT_EQ(again.entities(), 0u);
  EXPECT_EQ(again.first_day(), kUnknownDay);
}

TEST_F(HistoryFileTest, RejectsOtherFiles) {
  EXPECT_THAT(ParseError("entity,ip\nalice,10.0.0.1\n"),
              HasSubstr("train.csv.history: not an ipinsights history file"));
}

TEST_F(HistoryFileTest, RejectsTruncatedFile) {
  WriteHistoryFile(Sample(), path_);
  const std::string bytes = ReadWholeObject(path_);
  EXPECT_THAT(ParseError(bytes.substr(0, bytes.size() - 30)),
              HasSubstr("train.csv.history: truncated history file"));
  EXPECT_THAT(ParseError(bytes.substr(0, 40)), HasSubstr("truncated history file (40 bytes"));
}

TEST_F(HistoryFileTest, RejectsFlippedByte) {
  WriteHistoryFile(Sample(), path_);
  std::string bytes = ReadWholeObject(path_);
  bytes[100] ^= 0x20;
  EXPECT_THAT(ParseError(bytes), HasSubstr("corrupted history file (checksum mismatch)"));
}

TEST_F(HistoryFileTest, RejectsOtherVersion) {
  WriteHistoryFile(Sample(), path_);
  std::string bytes = ReadWholeObject(path_);
  bytes[8] = 2;
  EXPECT_THAT(ParseError(bytes), HasSubstr("unsupported history file version 2"));
}

TEST_F(HistoryFileTest, RejectsInconsistentCounts) {
  WriteHistoryFile(Sample(), path_);
  std::string bytes = ReadWholeObject(path_);
  // Entity count (byte 24) far beyond what the file holds.
  std::string more = bytes;
  const uint64_t huge = uint64_t{1} << 40;
  std::memcpy(more.data() + 24, &huge, 8);
  EXPECT_THAT(ParseError(Resealed(more)),
              HasSubstr("corrupted history file (byte 80: entities (1099511627776 of at least"));
  // One entity fewer than written: the rest is left over.
  std::string fewer = bytes;
  const uint64_t one = 1;
  std::memcpy(fewer.data() + 24, &one, 8);
  EXPECT_THAT(ParseError(Resealed(fewer)), HasSubstr("corrupted history file"));
  // Total events (byte 48) that the records do not add up to.
  std::string events = bytes;
  const uint64_t five = 5;
  std::memcpy(events.data() + 48, &five, 8);
  EXPECT_THAT(ParseError(Resealed(events)),
              HasSubstr("the header's events or days disagree with the records"));
}

TEST_F(HistoryFileTest, RejectsHostBitsInANetwork) {
  HistoryBuilder builder;
  builder.Add("a", Ip("10.0.0.1"), 1);
  WriteHistoryFile(std::move(builder).Finish(), path_);
  std::string bytes = ReadWholeObject(path_);
  // Record: 80 header + 4 + 1 name + 48 fixed - 4 (name length counted) ... find the /24 base
  // 10.0.0.0 after the address 10.0.0.1 (24 bytes): it starts 80 + 49 + 24.
  const size_t fine = 80 + 4 + 1 + 44 + 24;
  ASSERT_EQ(static_cast<uint8_t>(bytes[fine + 12]), 10);
  ASSERT_EQ(static_cast<uint8_t>(bytes[fine + 15]), 0);
  bytes[fine + 15] = 5;
  EXPECT_THAT(ParseError(Resealed(bytes)), HasSubstr("network 10.0.0.5 has host bits set"));
}

TEST_F(HistoryFileTest, MissingFileNamesIt) {
  try {
    ReadHistoryFile(path_ + ".nope");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("train.csv.history.nope"));
  }
}

// Every prefix and every single-byte change of a valid file is rejected with an Error (or,
// for a change the checksum cannot see, parsed): never a crash. Resealed, so that the
// structural checks see the change.
TEST_F(HistoryFileTest, HostileBytesNeverCrash) {
  WriteHistoryFile(Sample(), path_);
  const std::string bytes = ReadWholeObject(path_);
  for (size_t n = 0; n < bytes.size(); ++n) {
    EXPECT_NE(ParseError(bytes.substr(0, n)), "no error");
  }
  for (size_t i = 16; i + 8 < bytes.size(); ++i) {
    for (uint8_t value : {uint8_t{0}, uint8_t{1}, uint8_t{0x7f}, uint8_t{0xff}}) {
      std::string changed = bytes;
      changed[i] = static_cast<char>(value);
      ParseError(Resealed(changed));
    }
  }
}

}  // namespace
}  // namespace ipinsights
