// ModelRegistry entries that resolve through a model registry (a local folder here; the
// S3 registry is exercised with the real server in registry_serve_test.cc).
#include "ipinsights/serve/model_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/registry/registry.h"
#include "ipinsights/serve/router.h"
#include "ipinsights/storage/storage.h"
#include "serve_test_util.h"

namespace ipinsights {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// The loader reads the "model file", which here holds a seed; "bad" fails to load. Each load
// of a file is counted.
class RegistryEntryTest : public testing::ScratchTest {
 protected:
  void SetUp() override {
    ScratchTest::SetUp();
    registry_ = std::make_unique<Registry>(Path("registry"));
  }

  void Publish(const std::string& version, const std::string& content) {
    std::string file = Write("work/" + version, content);
    registry_->PublishVersion("ct", version, {{"model.ipinsights", file}}, "{}");
  }

  ModelRegistry::Loader Loader() {
    return [this](const std::string& location) -> std::shared_ptr<const Scorer> {
      ++loads_[location];
      std::string content = ReadWholeObject(location);
      if (content == "bad") throw Error(location + ": not an ipinsights model file");
      return serve_test::SmallScorer(std::stoull(content));
    };
  }

  std::vector<ModelSpec> Specs() {
    ModelSpec ct{"ct", Path("registry/ct")};
    ct.registry = IsRegistryModelLocation(ct.location);
    std::string plain = Write("plain.ipinsights", "7");
    return {ct, ModelSpec{"plain", plain}};
  }

  std::unique_ptr<Registry> registry_;
  std::map<std::string, int> loads_;
};

TEST_F(RegistryEntryTest, LoadsTheCurrentVersionAndRemembersIt) {
  Publish("v1", "1");
  registry_->SetCurrent("ct", "v1");
  ServerMetrics metrics({"ct", "plain"});
  ModelRegistry models(Specs(), Loader(), &metrics);
  ASSERT_TRUE(models.specs()[0].registry);
  models.LoadAll();
  EXPECT_EQ(models.version("ct"), "v1");
  EXPECT_EQ(models.version("plain"), "");
  EXPECT_EQ(loads_[registry_->ModelLocation("ct", "v1")], 1);
  EXPECT_THAT(metrics.Render(),
              HasSubstr("ipinsights_model_info{model=\"ct\",version=\"v1\"} 1\n"));
  EXPECT_THAT(metrics.Render(),
              HasSubstr("ipinsights_model_info{model=\"plain\",version=\"\"} 1\n"));
}

TEST_F(RegistryEntryTest, ReloadChangedLoadsOnlyWhatMoved) {
  Publish("v1", "1");
  Publish("v2", "2");
  registry_->SetCurrent("ct", "v1");
  ServerMetrics metrics({"ct", "plain"});
  ModelRegistry models(Specs(), Loader(), &metrics);
  models.LoadAll();
  // Nothing moved: nothing loaded, the plain file is not touched.
  ModelRegistry::ReloadResult result = models.ReloadChanged();
  EXPECT_THAT(result.reloaded, IsEmpty());
  EXPECT_THAT(result.failed, IsEmpty());
  EXPECT_EQ(loads_[Path("plain.ipinsights")], 1);
  registry_->SetCurrent("ct", "v2");
  result = models.ReloadChanged();
  EXPECT_THAT(result.reloaded, ElementsAre("ct"));
  EXPECT_EQ(models.version("ct"), "v2");
  EXPECT_EQ(loads_[Path("plain.ipinsights")], 1);
  // Reload() loads everything again, the current version of ct included.
  result = models.Reload();
  EXPECT_THAT(result.reloaded, ElementsAre("ct", "plain"));
  EXPECT_EQ(loads_[registry_->ModelLocation("ct", "v2")], 2);
}

TEST_F(RegistryEntryTest, AVersionThatFailsKeepsTheOldOneAndIsTriedOnce) {
  Publish("v1", "1");
  Publish("v2", "bad");
  registry_->SetCurrent("ct", "v1");
  ServerMetrics metrics({"ct", "plain"});
  ModelRegistry models(Specs(), Loader(), &metrics);
  models.LoadAll();
  std::shared_ptr<const Scorer> before = models.Get("ct");
  registry_->SetCurrent("ct", "v2");
  ModelRegistry::ReloadResult result = models.ReloadChanged();
  ASSERT_EQ(result.failed.size(), 1u);
  EXPECT_THAT(result.failed[0], HasSubstr("ct: version v2: "));
  EXPECT_THAT(result.failed[0], HasSubstr("not an ipinsights model file"));
  EXPECT_EQ(models.Get("ct"), before);
  EXPECT_EQ(models.version("ct"), "v1");
  // The poller does not try the same broken version again; an explicit reload does.
  EXPECT_THAT(models.ReloadChanged().failed, IsEmpty());
  EXPECT_EQ(loads_[registry_->ModelLocation("ct", "v2")], 1);
  EXPECT_EQ(models.Reload().failed.size(), 1u);
  EXPECT_EQ(loads_[registry_->ModelLocation("ct", "v2")], 2);
  EXPECT_EQ(metrics.model("ct")->load_failures.load(), 2u);
  // Rolled back to the version served: nothing to do.
  EXPECT_EQ(registry_->Rollback("ct"), "v1");
  result = models.ReloadChanged();
  EXPECT_THAT(result.reloaded, IsEmpty());
  EXPECT_THAT(result.failed, IsEmpty());
}

TEST_F(RegistryEntryTest, ACorruptPointerIsAPollErrorAndAStartUpError) {
  Publish("v1", "1");
  registry_->SetCurrent("ct", "v1");
  ServerMetrics metrics({"ct", "plain"});
  ModelRegistry models(Specs(), Loader(), &metrics);
  models.LoadAll();
  WriteWholeObject(Path("registry/ct/current"), "{\"version\": ");
  ModelRegistry::ReloadResult result = models.ReloadChanged();
  ASSERT_EQ(result.failed.size(), 1u);
  EXPECT_THAT(result.failed[0],
              HasSubstr(Path("registry/ct/current") + ": not a registry current pointer"));
  EXPECT_EQ(models.version("ct"), "v1");
  EXPECT_EQ(metrics.model("ct")->registry_poll_errors.load(), 1u);
  EXPECT_EQ(metrics.model("ct")->load_failures.load(), 0u);
  EXPECT_THAT(metrics.Render(),
              HasSubstr("ipinsights_registry_poll_errors_total{model=\"ct\"} 1\n"));

  ServerMetrics fresh_metrics({"ct", "plain"});
  ModelRegistry fresh(Specs(), Loader(), &fresh_metrics);
  try {
    fresh.LoadAll();
    ADD_FAILURE() << "LoadAll with a corrupt current pointer did not throw";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("model \"ct\": " + Path("registry/ct/current") +
                                    ": not a registry current pointer"));
  }
}

TEST_F(RegistryEntryTest, ExecutionParametersListTheVersions) {
  Publish("v1", "1");
  registry_->SetCurrent("ct", "v1");
  ServerMetrics metrics({"ct", "plain"});
  ModelRegistry models(Specs(), Loader(), &metrics);
  models.LoadAll();
  Router router(&models, &metrics, {});
  HttpResponse response;
  router.Handle(serve_test::Get("/execution-parameters"), &response);
  EXPECT_EQ(response.body,
            R"({"MaxConcurrentTransforms":4,"BatchStrategy":"MULTI_RECORD","MaxPayloadInMB":6,)"
            R"("ModelVersions":{"ct":"v1","plain":null}})");
}

}  // namespace
}  // namespace ipinsights
