// S3Storage against a real S3-compatible server on loopback: moto_server, started by the
// test, behind tests/storage/fault_proxy.py which checks every request's SigV4 signature
// the way S3 does (moto's own check is off: it decodes %2F in query strings before
// verifying and so refuses correct delimiter listings, botocore's included).
#include "ipinsights/storage/s3_storage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/storage/http_client.h"
#include "ipinsights/storage/local_storage.h"
#include "s3_test_support.h"

namespace ipinsights {
namespace {

namespace fs = std::filesystem;

struct Moto {
  s3test::LocalServer server;   // moto_server
  s3test::LocalServer checker;  // fault_proxy.py --verify in front of it
  std::string access_key_id = "AKIAIPINSIGHTSTEST01";
  std::string secret_access_key = "ipinsights/test+secret/Key0123456789abcdef";
};

// One moto_server per test process (ctest runs S3StorageTest's cases in one process, see
// CMakeLists.txt, and S3DefaultStorageTest's in one each).
Moto* SharedMoto(std::string* why_not) {
  static std::optional<Moto> moto;
  static std::string failure;
  static bool tried = false;
  if (!tried) {
    tried = true;
    Moto m;
    if (!s3test::OnPath("moto_server")) {
      failure = "moto_server is not on PATH (pip install 'moto[server]')";
    } else if (!s3test::PythonHas("botocore")) {
      failure = "python3 has no botocore (fault_proxy.py checks signatures with it)";
    } else if (auto server = s3test::StartServer({"moto_server", "-H", "127.0.0.1"}, {}, "-p")) {
      m.server = std::move(*server);
      if (auto checker = s3test::StartServer({"python3", s3test::HelperScript("fault_proxy.py"),
                                              "--upstream", m.server.url(), "--verify",
                                              m.access_key_id + "=" + m.secret_access_key})) {
        m.checker = std::move(*checker);
        moto = std::move(m);
      } else {
        failure = "fault_proxy.py did not start";
      }
    } else {
      failure = "moto_server did not start";
    }
  }
  *why_not = failure;
  return moto ? &*moto : nullptr;
}

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 random(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    uint64_t value = random();
    std::memcpy(out.data() + i, &value, std::min<size_t>(8, n - i));
  }
  return out;
}

class S3StorageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why_not;
    moto_ = SharedMoto(&why_not);
    if (moto_ == nullptr) GTEST_SKIP() << "S3 tests skipped: " << why_not;
    // A bucket per test: lower-case test name, dashes.
    bucket_ = "ipi-";
    for (char c : std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())) {
      bucket_.push_back(std::isalnum(static_cast<unsigned char>(c))
                            ? static_cast<char>(std::tolower(static_cast<unsigned char>(c)))
                            : '-');
    }
    bucket_ = bucket_.substr(0, 63);
    storage_ = MakeStorage(moto_->checker.url());
    storage_->client().CreateBucket(bucket_);
  }

  S3Config Config(const std::string& endpoint) const {
    S3Config config;
    config.endpoint = endpoint;
    config.region = "us-east-1";
    config.retry_base_ms = 5;  // the fault tests retry often; keep them fast
    config.credentials = std::make_shared<StaticCredentialsProvider>(AwsCredentials{
        moto_->access_key_id, moto_->secret_access_key, "", std::nullopt, "test keys"});
    return config;
  }
  std::unique_ptr<S3Storage> MakeStorage(const std::string& endpoint) const {
    return std::make_unique<S3Storage>(Config(endpoint));
  }
  std::string At(const std::string& key) const { return "s3://" + bucket_ + "/" + key; }
  void Put(const std::string& key, std::string_view data) {
    auto writer = storage_->OpenWritable(At(key));
    writer->Append(data);
    writer->Close();
  }
  // Setup uploads that need no checking: straight to moto, past the signature checker.
  void PutDirect(const std::string& key, std::string_view data) {
    static std::unique_ptr<S3Storage> direct = MakeStorage(moto_->server.url());
    auto writer = direct->OpenWritable(At(key));
    writer->Append(data);
    writer->Close();
  }
  std::string ReadSequentially(Storage& storage, const std::string& location, size_t read_size) {
    auto reader = storage.OpenSequential(location);
    std::string out;
    std::string buffer(read_size, '\0');
    while (size_t n = reader->Read(buffer.data(), buffer.size())) out.append(buffer.data(), n);
    return out;
  }
  // Starts tests/storage/fault_proxy.py in front of moto.
  std::optional<s3test::LocalServer> StartProxy(std::vector<std::string> flags) {
    std::vector<std::string> argv{
        "python3",    s3test::HelperScript("fault_proxy.py"),
        "--upstream", moto_->server.url(),
        "--verify",   moto_->access_key_id + "=" + moto_->secret_access_key};
    for (auto& flag : flags) argv.push_back(flag);
    return s3test::StartServer(argv);
  }
  std::string ProxyStats(const s3test::LocalServer& proxy) {
    HttpRequest request;
    request.url = proxy.url() + "/__stats";
    return HttpPerform(request).body;
  }
  static int StatValue(const std::string& json, const std::string& name) {
    size_t at = json.find("\"" + name + "\": ");
    return at == std::string::npos ? -1 : std::atoi(json.c_str() + at + name.size() + 4);
  }
  std::string ErrorOf(const std::function<void()>& action) {
    try {
      action();
    } catch (const Error& error) {
      return error.what();
    }
    return "(no error)";
  }

  Moto* moto_ = nullptr;
  std::string bucket_;
  std::unique_ptr<S3Storage> storage_;
};

// The day-pruned walk of logs/log_listing.h over S3Storage::ListUnder: the request count
// S3 bills, against a real server.
TEST_F(S3StorageTest, CloudTrailLayoutListsOnlyTheDaysAskedFor) {
  std::vector<std::string> keys;
  for (std::string account : {"111111111111", "222222222222"}) {
    for (std::string region : {"us-east-1", "eu-west-1"}) {
      for (int day = 1; day <= 5; ++day) {
        std::string date = "2024/05/0" + std::to_string(day) + "/";
        keys.push_back("AWSLogs/" + account + "/CloudTrail/" + region + "/" + date + account +
                       "_CloudTrail_" + region + "_2024050" + std::to_string(day) +
                       "T1200Z_x.json.gz");
        keys.push_back("AWSLogs/" + account + "/CloudTrail-Digest/" + region + "/" + date +
                       "d.json.gz");
      }
    }
  }
  keys.push_back("AWSLogs/o-org1234567/333333333333/CloudTrail/us-east-1/2024/05/03/org.json.gz");
  ParallelFor(keys.size(), 8, [&](size_t i, size_t) { PutDirect(keys[i], "{\"Records\":[]}"); });

  DayRange days{ParseDate("2024-05-02"), ParseDate("2024-05-03")};
  S3RequestCounts before = storage_->client().counts();
  std::vector<ObjectInfo> objects = ListLogObjects(*storage_, At("AWSLogs/"), days);
  S3RequestCounts after = storage_->client().counts();

  std::vector<std::string> expected;
  for (const auto& key : keys) {
    if (key.find("Digest") == std::string::npos &&
        (key.find("/2024/05/02/") != std::string::npos ||
         key.find("/2024/05/03/") != std::string::npos)) {
      expected.push_back(At(key));
    }
  }
  std::sort(expected.begin(), expected.end());
  std::vector<std::string> got;
  for (const auto& object : objects) got.push_back(object.location);
  EXPECT_EQ(got, expected);
  // Delimiter walk: AWSLogs/ (1), the 2 accounts and the org id (3), the org's account (1),
  // 3 CloudTrail/ folders (3; the digest folders are never opened), 5 regions (5) = 13;
  // then 5 regions x 2 days = 10 day prefixes. Never a listing of the whole bucket.
  EXPECT_EQ(after.list - before.list, 23u);
  std::cout << "pruned listing: " << (after.list - before.list) << " list requests for "
            << objects.size() << " objects\n";
}

TEST_F(S3StorageTest, ListingReturnsEveryObjectDigestsIncluded) {
  Put("logs/a.json", "1");
  Put("logs/sub/b.json", "22");
  Put("logs/AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz", "3");
  Put("logsX/c.json", "4");  // shares the text prefix, not the folder
  auto objects = storage_->List(At("logs"));
  // Storage never decides what a key means: the digest is listed as LocalStorage lists it
  // (logs/ counts it as a digest).
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[0].location,
            At("logs/AWSLogs/1/CloudTrail-Digest/us-east-1/2024/01/01/d.json.gz"));
  EXPECT_EQ(objects[1].location, At("logs/a.json"));
  EXPECT_EQ(objects[2].location, At("logs/sub/b.json"));
  EXPECT_EQ(objects[2].size, 2u);
  // One level: the objects in the folder and its sub-folders.
  Listing level = storage_->ListUnder(At("logs"), ListDepth::kOneLevel);
  ASSERT_EQ(level.objects.size(), 1u);
  EXPECT_EQ(level.objects[0].location, At("logs/a.json"));
  EXPECT_EQ(level.folders, (std::vector<std::string>{At("logs/AWSLogs/"), At("logs/sub/")}));
  EXPECT_TRUE(storage_->ListUnder(At("nothing/here/"), ListDepth::kRecursive).objects.empty());
  // A key names that one object.
  objects = storage_->List(At("logs/sub/b.json"));
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].location, At("logs/sub/b.json"));
}

TEST_F(S3StorageTest, PaginationPastOneThousandKeys) {
  const int n = 1010;
  ParallelFor(n, 8, [&](size_t i, size_t) {
    char key[64];
    std::snprintf(key, sizeof(key), "many/%05zu.json", i);
    PutDirect(key, std::to_string(i));
  });
  S3RequestCounts before = storage_->client().counts();
  auto objects = storage_->List(At("many/"));
  S3RequestCounts after = storage_->client().counts();
  ASSERT_EQ(objects.size(), static_cast<size_t>(n));
  EXPECT_EQ(objects.front().location, At("many/00000.json"));
  EXPECT_EQ(objects.back().location, At("many/01009.json"));
  EXPECT_EQ(after.list - before.list, 2u);  // 1,000 + 10
}

TEST_F(S3StorageTest, ReadsTheSameBytesAsTheLocalFiles) {
  const std::string data_dir = s3test::SourceDir() + "/../shared/data";
  if (!fs::exists(data_dir)) GTEST_SKIP() << "shared sample data not found at " << data_dir;
  LocalStorage local;
  auto files = local.List(data_dir);
  ASSERT_FALSE(files.empty());
  std::map<std::string, std::string> local_bytes;
  for (const auto& file : files) {
    std::string relative = file.location.substr(data_dir.size() + 1);
    local.ReadAll(file.location, &local_bytes["data/" + relative]);
    Put("data/" + relative, local_bytes["data/" + relative]);
  }
  auto objects = storage_->List(At("data/"));
  ASSERT_EQ(objects.size(), files.size());
  for (const auto& object : objects) {
    const std::string& expected = local_bytes.at(object.location.substr(At("").size()));
    std::string bytes;
    storage_->ReadAll(object.location, &bytes);
    EXPECT_EQ(bytes, expected) << object.location;
    EXPECT_EQ(object.size, expected.size()) << object.location;
    EXPECT_EQ(ReadSequentially(*storage_, object.location, 777), expected) << object.location;
  }
}

TEST_F(S3StorageTest, KeysWithSpecialCharactersRoundTrip) {
  const std::string key = "odd keys/a b+c=d&e%f~g'h(i)é日本.json";
  Put(key, "special");
  auto objects = storage_->List(At("odd keys/"));
  ASSERT_EQ(objects.size(), 1u);
  EXPECT_EQ(objects[0].location, At(key));
  std::string bytes;
  storage_->ReadAll(objects[0].location, &bytes);
  EXPECT_EQ(bytes, "special");
}

// Review L6: curl resolved "/../" and "/./" before sending, so the signature (over the
// key as written) did not match, and a store that checks none served another object.
TEST_F(S3StorageTest, KeysWithDotSegmentsReachS3AsWritten) {
  Put("weird/b.csv", "the other object");
  Put("weird/a/../b.csv", "dot-dot segment");
  Put("weird/./c.csv", "dot segment");
  std::string bytes;
  storage_->ReadAll(At("weird/a/../b.csv"), &bytes);
  EXPECT_EQ(bytes, "dot-dot segment");
  EXPECT_EQ(ReadSequentially(*storage_, At("weird/a/../b.csv"), 7), "dot-dot segment");
  storage_->ReadAll(At("weird/b.csv"), &bytes);
  EXPECT_EQ(bytes, "the other object");
  storage_->ReadAll(At("weird/./c.csv"), &bytes);
  EXPECT_EQ(bytes, "dot segment");
  std::vector<std::string> keys;
  for (const ObjectInfo& object : storage_->List(At("weird/"))) keys.push_back(object.location);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{At("weird/./c.csv"), At("weird/a/../b.csv"),
                                            At("weird/b.csv")}));
}

// Review L6: a 206 for another range than the one asked for was spliced in: a silent gap.
TEST_F(S3StorageTest, RangeAnswerFromAnotherOffsetIsAnError) {
  const std::string data = RandomBytes(300'000, 21);
  PutDirect("range/x.bin", data);
  auto proxy = StartProxy({"--shift-range", "7"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto faulty = MakeStorage(proxy->url());
  std::string read;
  const std::string message =
      ErrorOf([&] { read = ReadSequentially(*faulty, At("range/x.bin"), 4096); });
  EXPECT_NE(read.size(), data.size() - 7) << "bytes 7.. delivered as if they were 0..";
  EXPECT_NE(message.find("Content-Range"), std::string::npos) << message;
  EXPECT_GT(StatValue(ProxyStats(*proxy), "shifted_ranges"), 0);
}

// Review L6: a CreateMultipartUpload whose answer was lost was sent again, and the upload
// S3 had created first was left behind (billed until a lifecycle rule removes it).
TEST_F(S3StorageTest, LostCreateMultipartUploadAnswerLeavesNoOrphanUpload) {
  auto proxy = StartProxy({"--drop-create-response", "1"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto faulty = MakeStorage(proxy->url());
  const std::string data = RandomBytes((17u << 20) + 5, 31);
  {
    auto writer = faulty->OpenWritable(At("lost/train.csv"));
    writer->Append(data);
    writer->Close();
  }
  EXPECT_EQ(StatValue(ProxyStats(*proxy), "dropped_creates"), 1);
  EXPECT_EQ(faulty->client().counts().lost_uploads_aborted, 1u);
  std::string bytes;
  storage_->ReadAll(At("lost/train.csv"), &bytes);
  EXPECT_TRUE(bytes == data) << bytes.size() << " of " << data.size() << " bytes";
  // What S3 still holds in progress for the bucket (moto answers unsigned requests).
  HttpRequest list;
  list.url = moto_->server.url() + "/" + bucket_ + "?uploads";
  const std::string uploads = HttpPerform(list).body;
  EXPECT_EQ(uploads.find("<UploadId>"), std::string::npos) << uploads;
}

// Review L6: a region named by the server went into the host name unchecked.
TEST_F(S3StorageTest, RegionNamedByTheServerMustBeARegionName) {
  Put("region/y.json", "x");
  auto proxy = StartProxy({"--region", "us-east-1.evil.example"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto storage = MakeStorage(proxy->url());
  std::string bytes;
  const std::string message = ErrorOf([&] { storage->ReadAll(At("region/y.json"), &bytes); });
  EXPECT_NE(message.find("not a valid AWS region name"), std::string::npos) << message;
  EXPECT_EQ(storage->client().counts().region_redirects, 0u);
}

TEST_F(S3StorageTest, MultipartUploadOfATrainingSetLargerThanOnePart) {
  const std::string data = RandomBytes((20u << 20) + 12345, 7);  // 3 parts of 8 MiB
  S3RequestCounts before = storage_->client().counts();
  {
    auto writer = storage_->OpenWritable(At("training/train.csv"));
    for (size_t at = 0; at < data.size(); at += 1'000'003) {
      writer->Append(std::string_view(data).substr(at, 1'000'003));
    }
    EXPECT_FALSE(storage_->Exists(At("training/train.csv")));  // nothing before Close()
    writer->Close();
  }
  S3RequestCounts after = storage_->client().counts();
  EXPECT_EQ(after.put - before.put, 3u);
  EXPECT_EQ(after.multipart - before.multipart, 2u);  // create + complete
  std::string bytes;
  storage_->ReadAll(At("training/train.csv"), &bytes);
  EXPECT_TRUE(bytes == data) << "read back " << bytes.size() << " of " << data.size() << " bytes";
  // Sequential reads span the 8 MiB chunks.
  EXPECT_TRUE(ReadSequentially(*storage_, At("training/train.csv"), 100'003) == data);
}

TEST_F(S3StorageTest, ModelSizedObjectIsOnePut) {
  const std::string model = RandomBytes(3u << 20, 11);
  S3RequestCounts before = storage_->client().counts();
  WriteWholeObject("/dev/null", "");  // the local path still works beside S3
  Put("models/model.ipim", model);
  S3RequestCounts after = storage_->client().counts();
  EXPECT_EQ(after.put - before.put, 1u);
  EXPECT_EQ(after.multipart - before.multipart, 0u);
  std::string bytes;
  storage_->ReadAll(At("models/model.ipim"), &bytes);
  EXPECT_TRUE(bytes == model);
}

TEST_F(S3StorageTest, WriterDestroyedWithoutCloseLeavesNothing) {
  S3RequestCounts before = storage_->client().counts();
  {
    auto writer = storage_->OpenWritable(At("partial/train.csv"));
    writer->Append(RandomBytes((9u << 20), 3));  // one part uploaded, the rest buffered
  }
  S3RequestCounts after = storage_->client().counts();
  EXPECT_EQ(after.multipart - before.multipart, 2u);  // create + abort
  EXPECT_FALSE(storage_->Exists(At("partial/train.csv")));
  int status = 0;
  std::string uploads = s3test::RunCommand(
      "python3 -c \"import boto3,sys; s=boto3.client('s3', endpoint_url='" + moto_->server.url() +
          "', region_name='us-east-1', aws_access_key_id='" + moto_->access_key_id +
          "', aws_secret_access_key='" + moto_->secret_access_key +
          "'); print(len(s.list_multipart_uploads(Bucket='" + bucket_ + "').get('Uploads', [])))\"",
      &status);
  EXPECT_EQ(status, 0);
  EXPECT_EQ(uploads, "0\n");
}

TEST_F(S3StorageTest, EmptyObjectReadsAsEmpty) {
  Put("empty.json", "");
  std::string bytes = "stale";
  storage_->ReadAll(At("empty.json"), &bytes);
  EXPECT_EQ(bytes, "");
  EXPECT_EQ(ReadSequentially(*storage_, At("empty.json"), 10), "");
}

TEST_F(S3StorageTest, ExistsForObjectsFoldersAndMissingKeys) {
  Put("dir/file.json", "x");
  EXPECT_TRUE(storage_->Exists(At("dir/file.json")));
  EXPECT_TRUE(storage_->Exists(At("dir")));
  EXPECT_TRUE(storage_->Exists(At("dir/")));
  EXPECT_FALSE(storage_->Exists(At("dir/missing.json")));
  EXPECT_FALSE(storage_->Exists(At("di")));
  EXPECT_FALSE(storage_->Exists("s3://ipi-no-such-bucket-here/x"));
}

TEST_F(S3StorageTest, NoSuchKeyAndNoSuchBucketAreNamed) {
  EXPECT_EQ(ErrorOf([&] {
              std::string bytes;
              storage_->ReadAll(At("missing.json"), &bytes);
            }),
            At("missing.json") + ": no such object");
  EXPECT_EQ(ErrorOf([&] { storage_->List("s3://ipi-no-such-bucket-here/x/"); }),
            "s3://ipi-no-such-bucket-here: no such bucket (region us-east-1, endpoint " +
                moto_->checker.url() + ")");
  EXPECT_EQ(ErrorOf([&] { storage_->List(At("nothing/here/")); }),
            At("nothing/here/") + ": no such object or prefix");
}

TEST_F(S3StorageTest, WrongSecretIsRefusedWithoutShowingIt) {
  S3Config config = Config(moto_->checker.url());
  config.credentials = std::make_shared<StaticCredentialsProvider>(
      AwsCredentials{moto_->access_key_id, "not-the-right-secret", "", std::nullopt, "test keys"});
  S3Storage wrong(config);
  std::string message = ErrorOf([&] { wrong.List(At("")); });
  EXPECT_NE(message.find("S3 refused the request signature"), std::string::npos) << message;
  EXPECT_NE(message.find(moto_->access_key_id), std::string::npos) << message;
  EXPECT_EQ(message.find("not-the-right-secret"), std::string::npos) << message;
}

TEST_F(S3StorageTest, ThrottlingAndCutDownloadsLoseAndDuplicateNothing) {
  auto proxy = StartProxy({"--slowdown-every", "3", "--cut-every", "2"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto faulty = MakeStorage(proxy->url());
  std::vector<std::string> contents;
  for (int i = 0; i < 6; ++i) {
    contents.push_back(RandomBytes(100'000 + i * 700'001, 100 + i));
    auto writer = faulty->OpenWritable(At("faults/" + std::to_string(i) + ".bin"));
    writer->Append(contents.back());
    writer->Close();  // PUTs hit 503s too
  }
  auto objects = faulty->List(At("faults/"));
  ASSERT_EQ(objects.size(), contents.size());
  for (size_t i = 0; i < contents.size(); ++i) {
    std::string bytes;
    faulty->ReadAll(At("faults/" + std::to_string(i) + ".bin"), &bytes);
    EXPECT_TRUE(bytes == contents[i]) << "ReadAll " << i << ": " << bytes.size() << " bytes";
    EXPECT_TRUE(ReadSequentially(*faulty, At("faults/" + std::to_string(i) + ".bin"), 4096) ==
                contents[i])
        << "sequential " << i;
  }
  std::string stats = ProxyStats(*proxy);
  EXPECT_GT(StatValue(stats, "slowdowns"), 3) << stats;
  EXPECT_GT(StatValue(stats, "cuts"), 3) << stats;
  EXPECT_GT(faulty->client().counts().retries, 6u);
}

TEST_F(S3StorageTest, WrongRegionIsRetriedInTheRegionS3Names) {
  Put("region/x.json", "in eu-west-1");
  auto proxy = StartProxy({"--region", "eu-west-1"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto storage = MakeStorage(proxy->url());
  std::string bytes;
  storage->ReadAll(At("region/x.json"), &bytes);
  EXPECT_EQ(bytes, "in eu-west-1");
  storage->ReadAll(At("region/x.json"), &bytes);  // the bucket's region is remembered
  EXPECT_EQ(storage->client().counts().region_redirects, 1u);
  EXPECT_EQ(StatValue(ProxyStats(*proxy), "region_errors"), 1);
}

// Hands out a session token the proxy calls expired until S3 refuses it once.
class RefreshingProvider : public AwsCredentialsProvider {
 public:
  RefreshingProvider(AwsCredentials credentials, bool refresh_helps)
      : credentials_(std::move(credentials)), refresh_helps_(refresh_helps) {
    credentials_.session_token = "expired-session-token";
  }
  AwsCredentials Get() override { return credentials_; }
  void Invalidate() override {
    ++invalidations;
    if (refresh_helps_) credentials_.session_token.clear();
  }
  int invalidations = 0;

 private:
  AwsCredentials credentials_;
  bool refresh_helps_;
};

TEST_F(S3StorageTest, ExpiredTokenIsRefreshedOnce) {
  Put("token/x.json", "fresh");
  auto proxy = StartProxy({"--expired-token", "expired-session-token"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  AwsCredentials base{moto_->access_key_id, moto_->secret_access_key, "", std::nullopt,
                      "test chain"};
  for (bool refresh_helps : {true, false}) {
    S3Config config = Config(proxy->url());
    auto provider = std::make_shared<RefreshingProvider>(base, refresh_helps);
    config.credentials = provider;
    S3Storage storage(config);
    std::string bytes;
    if (refresh_helps) {
      storage.ReadAll(At("token/x.json"), &bytes);
      EXPECT_EQ(bytes, "fresh");
    } else {
      EXPECT_EQ(ErrorOf([&] { storage.ReadAll(At("token/x.json"), &bytes); }),
                At("token/x.json") +
                    ": the AWS session token from test chain has expired "
                    "(ExpiredToken); refresh the credentials and run again");
    }
    EXPECT_EQ(provider->invalidations, 1);
  }
}

TEST_F(S3StorageTest, AccessDeniedNamesBucketAndKey) {
  Put("private/x.json", "secret data");
  auto proxy = StartProxy({"--deny-prefix", "private/"});
  if (!proxy) GTEST_SKIP() << "python3 could not run fault_proxy.py";
  auto storage = MakeStorage(proxy->url());
  std::string message = ErrorOf([&] {
    std::string bytes;
    storage->ReadAll(At("private/x.json"), &bytes);
  });
  EXPECT_EQ(message, At("private/x.json") + ": access denied for GET in bucket \"" + bucket_ +
                         "\", key \"private/x.json\" (credentials from test keys, access key id " +
                         moto_->access_key_id + ")");
  EXPECT_EQ(message.find(moto_->secret_access_key), std::string::npos);
  // A sequential reader that failed keeps failing: never a silent early end.
  auto reader = storage->OpenSequential(At("private/x.json"));
  char buffer[16];
  EXPECT_THROW(reader->Read(buffer, sizeof(buffer)), S3Error);
  EXPECT_THROW(reader->Read(buffer, sizeof(buffer)), Error);
}

// The whole command: `ipinsights prepare` reading s3:// (pruned by --from/--to) and writing
// s3:// gives the bytes it gives from and to local files.
TEST_F(S3StorageTest, PrepareFromS3EqualsPrepareFromDisk) {
  const std::string cli = IPINSIGHTS_BINARY;
  if (!fs::exists(cli)) GTEST_SKIP() << "the ipinsights binary is not built: " << cli;
  const fs::path dir =
      fs::path(::testing::TempDir()) / ("ipi_prepare_s3_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::mt19937_64 random(5);
  for (std::string account : {"111111111111", "222222222222"}) {
    for (int day = 1; day <= 4; ++day) {
      std::string relative = "AWSLogs/" + account + "/CloudTrail/us-east-1/2024/05/0" +
                             std::to_string(day) + "/" + account + "_CloudTrail_us-east-1_" +
                             std::to_string(day) + ".json";
      std::string records;
      for (int i = 0; i < 50; ++i) {
        if (i) records += ",";
        records +=
            "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
            "\"principalId\":\"AIDAUSER" +
            std::to_string(random() % 7) + "\",\"accountId\":\"" + account +
            "\"},\"eventTime\":\"2024-05-0" + std::to_string(day) +
            "T12:00:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
            "\"sourceIPAddress\":\"10." +
            std::to_string(random() % 256) + "." + std::to_string(random() % 256) + ".7\"}";
      }
      const std::string body = "{\"Records\":[" + records + "]}";
      fs::create_directories((dir / relative).parent_path());
      std::ofstream(dir / relative) << body;
      Put(relative, body);
    }
  }
  const std::string env = "AWS_ACCESS_KEY_ID=" + moto_->access_key_id + " AWS_SECRET_ACCESS_KEY='" +
                          moto_->secret_access_key +
                          "' AWS_REGION=us-east-1 "
                          "AWS_EC2_METADATA_DISABLED=true AWS_ENDPOINT_URL_S3=" +
                          moto_->checker.url() + " ";
  const std::string days = " --from 2024-05-02 --to 2024-05-03 --threads 2 --quiet";
  int status = 0;
  s3test::RunCommand(env + cli + " prepare cloudtrail --input " + (dir / "AWSLogs").string() +
                         " --output " + (dir / "local.csv").string() + days + " 2>&1",
                     &status);
  ASSERT_EQ(status, 0);
  std::string output =
      s3test::RunCommand(env + cli + " prepare cloudtrail --input " + At("AWSLogs") + " --output " +
                             At("out/train.csv") + days + " 2>&1",
                         &status);
  ASSERT_EQ(status, 0) << output;
  std::string local_csv;
  LocalStorage().ReadAll((dir / "local.csv").string(), &local_csv);
  std::string s3_csv;
  storage_->ReadAll(At("out/train.csv"), &s3_csv);
  EXPECT_EQ(std::count(local_csv.begin(), local_csv.end(), '\n'), 2 * 2 * 50);
  EXPECT_EQ(s3_csv, local_csv);
  fs::remove_all(dir);
}

// A suite of its own, so that ctest runs it in a process of its own: DefaultS3Storage()
// reads the environment once, on first use in the process.
class S3DefaultStorageTest : public S3StorageTest {};

TEST_F(S3DefaultStorageTest, OpenStorageServesS3LocationsFromTheEnvironment) {
  ::setenv("AWS_ACCESS_KEY_ID", moto_->access_key_id.c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", moto_->secret_access_key.c_str(), 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  ::setenv("AWS_REGION", "us-east-1", 1);
  ::setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1", 1);  // overridden by the next line
  SetS3EndpointOverride(moto_->checker.url());
  WriteWholeObject(At("via/open-storage.txt"), "through OpenStorage");
  EXPECT_EQ(ReadWholeObject(At("via/open-storage.txt")), "through OpenStorage");
  EXPECT_EQ(&OpenStorage(At("x")), static_cast<Storage*>(&DefaultS3Storage()));
}

}  // namespace
}  // namespace ipinsights
