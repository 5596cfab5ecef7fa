#include "ipinsights/storage/local_storage.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

using LocalStorageTest = testing::ScratchTest;

TEST_F(LocalStorageTest, ListsFolderRecursivelyInOrder) {
  Write("b/2.json", "bb");
  Write("a/1.json", "a");
  Write("c.json", "ccc");
  LocalStorage storage;
  auto objects = storage.List(dir_.string());
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0].location, (dir_ / "a/1.json").string());
  EXPECT_EQ(objects[1].location, (dir_ / "b/2.json").string());
  EXPECT_EQ(objects[2].location, (dir_ / "c.json").string());
  EXPECT_EQ(objects[2].size, 3u);
}

TEST_F(LocalStorageTest, ListUnderOneLevelGivesObjectsAndFolders) {
  Write("AWSLogs/1/CloudTrail/us-east-1/2024/05/01/x.json.gz", "1");
  Write("AWSLogs/1/CloudTrail-Digest/us-east-1/2024/05/01/d.json.gz", "2");
  Write("undated.json", "u");
  Write(".hidden/x.json", "h");
  LocalStorage storage;
  Listing level = storage.ListUnder(dir_.string(), ListDepth::kOneLevel);
  ASSERT_EQ(level.objects.size(), 1u);
  EXPECT_EQ(level.objects[0].location, (dir_ / "undated.json").string());
  EXPECT_EQ(level.folders, std::vector<std::string>{(dir_ / "AWSLogs").string() + "/"});
  // Keys mean nothing to storage: the digest folder is a folder like the others.
  level = storage.ListUnder(level.folders[0] + "1/", ListDepth::kOneLevel);
  EXPECT_EQ(level.folders.size(), 2u);
  Listing all = storage.ListUnder(dir_.string(), ListDepth::kRecursive);
  EXPECT_EQ(all.objects.size(), 3u);
  EXPECT_TRUE(all.folders.empty());
}

TEST_F(LocalStorageTest, ListUnderAMissingFolderIsEmpty) {
  LocalStorage storage;
  Listing listing = storage.ListUnder((dir_ / "2024/05/01/").string(), ListDepth::kRecursive);
  EXPECT_TRUE(listing.objects.empty());
  EXPECT_TRUE(listing.folders.empty());
}

TEST_F(LocalStorageTest, MissingLocationNamesIt) {
  LocalStorage storage;
  try {
    storage.List((dir_ / "nope").string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nope: no such file or folder"), std::string::npos);
  }
}

TEST_F(LocalStorageTest, WriterIsAtomic) {
  LocalStorage storage;
  const std::string path = (dir_ / "out/model.bin").string();
  {
    auto writer = storage.OpenWritable(path);
    writer->Append("partial");
    // Destroyed without Close(): nothing appears.
  }
  EXPECT_FALSE(fs::exists(path));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_ / "out"), fs::directory_iterator()), 0);
  auto writer = storage.OpenWritable(path);
  writer->Append("whole");
  EXPECT_FALSE(fs::exists(path));
  writer->Close();
  std::string data;
  storage.ReadAll(path, &data);
  EXPECT_EQ(data, "whole");
}

TEST_F(LocalStorageTest, ListSkipsTempFilesAndDotFiles) {
  Write("train.csv", "a,1.2.3.4\n");
  Write(".train.csv.ipinsights-tmp-Ab12Cd", "orphan\n");  // left by a killed writer
  Write("train.csv.tmp.4242.0", "orphan of an older version\n");
  Write(".hidden", "x");
  Write(".git/objects/x", "x");
  LocalStorage storage;
  auto objects = storage.List(dir_.string());
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].location, (dir_ / "train.csv").string());
}

TEST_F(LocalStorageTest, TempFileIsHiddenBesideTheDestination) {
  LocalStorage storage;
  auto writer = storage.OpenWritable((dir_ / "model.bin").string());
  writer->Append("x");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_)) names.push_back(entry.path().filename());
  ASSERT_EQ(names.size(), 1u);
  EXPECT_EQ(names[0].rfind(".model.bin.ipinsights-tmp-", 0), 0u) << names[0];
  EXPECT_EQ(names[0].size(), std::string(".model.bin.ipinsights-tmp-").size() + 6) << names[0];
  EXPECT_TRUE(storage.List(dir_.string()).empty());
}

TEST_F(LocalStorageTest, ReplacingKeepsTheDestinationMode) {
  const std::string path = (dir_ / "secret.csv").string();
  Write("secret.csv", "old");
  fs::permissions(path, fs::perms::owner_read | fs::perms::owner_write);
  LocalStorage storage;
  auto writer = storage.OpenWritable(path);
  writer->Append("new");
  writer->Close();
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  std::string data;
  storage.ReadAll(path, &data);
  EXPECT_EQ(data, "new");
}

TEST_F(LocalStorageTest, ReadAllKeepsReservedCapacity) {
  Write("f", std::string(100000, 'x'));
  LocalStorage storage;
  std::string data;
  data.reserve(200000);
  storage.ReadAll((dir_ / "f").string(), &data);
  EXPECT_EQ(data.size(), 100000u);
  EXPECT_GE(data.capacity(), 100064u);
}

}  // namespace
}  // namespace ipinsights
