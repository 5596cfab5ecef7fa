// Registry on a local folder and on a moto_server bucket: the same tests for both.
#include "ipinsights/registry/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stdlib.h>

#include <memory>
#include <ostream>
#include <string>

#include "../storage/s3_test_support.h"
#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/s3_storage.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

constexpr const char* kBucket = "ipinsights-registry-test";

s3test::LocalServer* Moto() { return s3test::ProcessMoto(kBucket); }
::testing::Environment* const kMotoEnvironment =
    ::testing::AddGlobalTestEnvironment(new s3test::StopProcessMoto(kBucket));

enum class Backend { kLocal, kS3 };
void PrintTo(Backend backend, std::ostream* out) {
  *out << (backend == Backend::kLocal ? "local folder" : "moto_server bucket");
}

class RegistryTest : public testing::ScratchTest, public ::testing::WithParamInterface<Backend> {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    if (GetParam() == Backend::kS3) {
      if (!s3test::OnPath("moto_server"))
        GTEST_SKIP() << "moto_server is not on PATH (pip install 'moto[server]'): S3 registry "
                        "test skipped";
      if (Moto() == nullptr) GTEST_SKIP() << "moto_server did not start: S3 registry test skipped";
      const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
      std::string test = info->name();
      for (char& c : test) {
        if (c == '/') c = '_';
      }
      root_ = std::string("s3://") + kBucket + "/" + test + "/models";
    } else {
      root_ = Path("registry");
    }
    model_v1_ = Write("work/v1.ipinsights", "model one");
    model_v2_ = Write("work/v2.ipinsights", "model two, longer");
    metrics_ = Write("work/metrics.json", "{\"auc\": 0.9}");
  }

  std::string Summary(const std::string& version) const {
    return "{\"name\": \"ct\", \"version\": \"" + version + "\", \"created\": \"2024-06-01\"}";
  }
  void Publish(Registry& registry, const std::string& version, const std::string& model) {
    registry.PublishVersion(
        "ct", version, {{"model.ipinsights", model}, {"metrics.json", metrics_}}, Summary(version));
  }

  std::string root_;
  std::string model_v1_, model_v2_, metrics_;
};

TEST_P(RegistryTest, PublishCopiesTheFilesAndWritesSummaryLast) {
  Registry registry(root_);
  EXPECT_THAT(registry.Versions("ct"), IsEmpty());
  EXPECT_FALSE(registry.IsComplete("ct", "2024-05-31"));
  Publish(registry, "2024-05-31", model_v1_);
  EXPECT_TRUE(registry.IsComplete("ct", "2024-05-31"));
  EXPECT_EQ(registry.ModelLocation("ct", "2024-05-31"),
            root_ + "/ct/versions/2024-05-31/model.ipinsights");
  EXPECT_EQ(ReadWholeObject(registry.ModelLocation("ct", "2024-05-31")), "model one");
  EXPECT_EQ(ReadWholeObject(registry.VersionLocation("ct", "2024-05-31") + "/metrics.json"),
            "{\"auc\": 0.9}");
  EXPECT_EQ(ReadWholeObject(registry.VersionLocation("ct", "2024-05-31") + "/summary.json"),
            Summary("2024-05-31") + "\n");
  EXPECT_THAT(registry.Versions("ct"), ElementsAre("2024-05-31"));
  // Publishing does not make a version current.
  EXPECT_EQ(registry.Current("ct"), std::nullopt);
}

TEST_P(RegistryTest, VersionWithoutSummaryIsIncompleteAndNotListed) {
  Registry registry(root_);
  Publish(registry, "2024-05-30", model_v1_);
  // A publish killed after the model was copied: no summary.json.
  WriteWholeObject(registry.ModelLocation("ct", "2024-05-31"), "half");
  EXPECT_FALSE(registry.IsComplete("ct", "2024-05-31"));
  EXPECT_THAT(registry.Versions("ct"), ElementsAre("2024-05-30"));
  EXPECT_THROW(registry.SetCurrent("ct", "2024-05-31"), Error);
  try {
    registry.SetCurrent("ct", "2024-05-31");
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ct/versions/2024-05-31: not a complete version"));
  }
  // Running the publish again completes it, every file rewritten whole.
  Publish(registry, "2024-05-31", model_v2_);
  EXPECT_TRUE(registry.IsComplete("ct", "2024-05-31"));
  EXPECT_EQ(ReadWholeObject(registry.ModelLocation("ct", "2024-05-31")), "model two, longer");
  EXPECT_THAT(registry.Versions("ct"), ElementsAre("2024-05-30", "2024-05-31"));
}

TEST_P(RegistryTest, RepublishingACompleteVersionIsANoOp) {
  Registry registry(root_);
  Publish(registry, "v1", model_v1_);
  Publish(registry, "v1", model_v2_);
  EXPECT_EQ(ReadWholeObject(registry.ModelLocation("ct", "v1")), "model one");
  EXPECT_THAT(registry.Versions("ct"), ElementsAre("v1"));
}

TEST_P(RegistryTest, SetCurrentKeepsThePreviousVersionsNewestFirst) {
  Registry registry(root_);
  Publish(registry, "v1", model_v1_);
  Publish(registry, "v2", model_v2_);
  Publish(registry, "v3", model_v1_);
  registry.SetCurrent("ct", "v1");
  registry.SetCurrent("ct", "v2");
  registry.SetCurrent("ct", "v2");  // no-op
  registry.SetCurrent("ct", "v3");
  std::optional<CurrentPointer> current = registry.ReadCurrent("ct");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->version, "v3");
  EXPECT_THAT(current->previous, ElementsAre("v2", "v1"));
  EXPECT_EQ(current->updated.size(), 20u) << current->updated;
  EXPECT_EQ(current->updated.back(), 'Z');
  EXPECT_EQ(registry.Current("ct"), "v3");
  // Back to an older one: it leaves the history, the one it replaces goes in front.
  registry.SetCurrent("ct", "v1");
  EXPECT_THAT(registry.ReadCurrent("ct")->previous, ElementsAre("v3", "v2"));
  std::string json = ReadWholeObject(root_ + "/ct/current");
  EXPECT_THAT(json, HasSubstr("{\"version\": \"v1\", \"previous\": [\"v3\", \"v2\"], "
                              "\"updated\": \""));
}

TEST_P(RegistryTest, RollbackGoesToThePreviousVersionAndDropsTheRolledBackOne) {
  Registry registry(root_);
  Publish(registry, "v1", model_v1_);
  Publish(registry, "v2", model_v2_);
  registry.SetCurrent("ct", "v1");
  registry.SetCurrent("ct", "v2");
  EXPECT_EQ(registry.Rollback("ct"), "v1");
  std::optional<CurrentPointer> current = registry.ReadCurrent("ct");
  ASSERT_TRUE(current);
  EXPECT_EQ(current->version, "v1");
  EXPECT_THAT(current->previous, IsEmpty());
  // Nothing left to go back to.
  try {
    registry.Rollback("ct");
    ADD_FAILURE() << "Rollback with no previous version did not throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ct/current: no previous complete version to roll back to"));
  }
}

TEST_P(RegistryTest, RollbackWithoutCurrentIsAnError) {
  Registry registry(root_);
  try {
    registry.Rollback("ct");
    ADD_FAILURE() << "Rollback with no current pointer did not throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("ct/current: no current version to roll back from"));
  }
}

TEST_P(RegistryTest, BadNamesAreRejected) {
  Registry registry(root_);
  for (const std::string bad : {"", ".", "..", "a/b", "a b", "x\"y"}) {
    EXPECT_THROW(registry.PublishVersion("ct", bad, {{"model.ipinsights", model_v1_}}, "{}"),
                 UsageError)
        << bad;
    EXPECT_THROW(registry.PublishVersion(bad, "v1", {{"model.ipinsights", model_v1_}}, "{}"),
                 UsageError)
        << bad;
    EXPECT_THROW(registry.PublishVersion("ct", "v1", {{bad, model_v1_}}, "{}"), UsageError) << bad;
    EXPECT_THROW(registry.ReadCurrent(bad), UsageError) << bad;
  }
  EXPECT_THROW(registry.PublishVersion("ct", "v1", {{"summary.json", model_v1_}}, "{}"),
               UsageError);
  EXPECT_THROW(registry.PublishVersion("ct", "v1", {{"a", model_v1_}, {"a", model_v2_}}, "{}"),
               UsageError);
  // A summary that is not a JSON object is refused before anything is written.
  EXPECT_THROW(registry.PublishVersion("ct", "v1", {{"model.ipinsights", model_v1_}}, "[1]"),
               Error);
  EXPECT_THAT(registry.Versions("ct"), IsEmpty());
  EXPECT_FALSE(
      OpenStorage(registry.ModelLocation("ct", "v1")).Exists(registry.ModelLocation("ct", "v1")));
}

TEST_P(RegistryTest, CorruptCurrentIsAnErrorNamingIt) {
  Registry registry(root_);
  Publish(registry, "v1", model_v1_);
  for (const std::string corrupt :
       {"{\"version\": \"v1\"", "not json", "{\"previous\": []}", "{\"version\": 3}",
        "{\"version\": \"../x\"}", "{\"version\": \"v1\", \"previous\": [1]}"}) {
    WriteWholeObject(root_ + "/ct/current", corrupt);
    try {
      registry.ReadCurrent("ct");
      ADD_FAILURE() << "no error for " << corrupt;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(root_ + "/ct/current: not a registry current pointer"))
          << corrupt;
    }
    EXPECT_THROW(registry.SetCurrent("ct", "v1"), Error) << corrupt;
  }
  // Keys it does not know are skipped (a newer writer).
  WriteWholeObject(root_ + "/ct/current", "{\"version\": \"v1\", \"by\": {\"x\": [1]}}");
  EXPECT_EQ(registry.Current("ct"), "v1");
}

INSTANTIATE_TEST_SUITE_P(Backends, RegistryTest, ::testing::Values(Backend::kLocal, Backend::kS3),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kLocal ? "Local" : "S3";
                         });

TEST(SplitRegistryModelLocation, TakesTheLastComponentAsTheName) {
  using Parts = std::pair<std::string, std::string>;
  EXPECT_EQ(SplitRegistryModelLocation("s3://models/ipinsights/ct"),
            Parts("s3://models/ipinsights", "ct"));
  EXPECT_EQ(SplitRegistryModelLocation("s3://models/ct/"), Parts("s3://models", "ct"));
  EXPECT_EQ(SplitRegistryModelLocation("registry/ct"), Parts("registry", "ct"));
  EXPECT_EQ(SplitRegistryModelLocation("/srv/registry/waf"), Parts("/srv/registry", "waf"));
  EXPECT_EQ(SplitRegistryModelLocation("ct"), Parts(".", "ct"));
  EXPECT_THROW(SplitRegistryModelLocation("s3://models"), UsageError);
  EXPECT_THROW(SplitRegistryModelLocation("s3://models/"), UsageError);
  EXPECT_THROW(SplitRegistryModelLocation("registry/.."), UsageError);
  EXPECT_THROW(SplitRegistryModelLocation(""), UsageError);
}

}  // namespace
}  // namespace ipinsights
