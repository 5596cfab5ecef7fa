#include "ipinsights/pipeline/pipeline_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "../testing/scratch_test.h"
#include "ipinsights/base/error.h"
#include "ipinsights/registry/registry.h"

namespace ipinsights {
namespace {

using ::testing::HasSubstr;

constexpr const char* kMinimal = R"(registry: reg
work: /var/work
jobs:
  - name: ct
    source: {kind: cloudtrail, input: logs}
)";

std::string ErrorOf(const std::string& yaml) {
  try {
    ParsePipelineConfig(yaml, "p.yaml", "/base");
  } catch (const UsageError& error) {
    return error.what();
  }
  return "(no error)";
}

TEST(PipelineConfigTest, TheWorkedExampleParses) {
  const PipelineConfig config =
      LoadPipelineConfig(std::string(IPINSIGHTS_SOURCE_DIR) + "/examples/pipeline/pipeline.yaml");
  ASSERT_EQ(config.jobs.size(), 2u);
  const JobConfig& ct = config.jobs[0];
  const JobConfig& waf = config.jobs[1];
  EXPECT_EQ(ct.name, "cloudtrail");
  EXPECT_EQ(ct.kind, LogKind::kCloudTrail);
  EXPECT_EQ(waf.kind, LogKind::kWaf);
  EXPECT_EQ(ct.days, 7);
  // Top-level hyperparameters are inherited; the job's own are added.
  EXPECT_EQ(ct.hyperparameters.vector_dim, 32);
  EXPECT_EQ(ct.hyperparameters.num_entity_vectors, 4000);
  EXPECT_EQ(waf.hyperparameters.num_entity_vectors, 2000);
  EXPECT_TRUE(ct.explicit_hyperparameters.count("vector_dim"));
  EXPECT_TRUE(ct.explicit_hyperparameters.count("num_entity_vectors"));
  EXPECT_DOUBLE_EQ(ct.gate.min_auc, 0.80);
  // Relative paths are the config's folder's.
  EXPECT_EQ(ct.registry, std::string(IPINSIGHTS_SOURCE_DIR) + "/examples/pipeline/registry");
  EXPECT_EQ(ct.inputs.at(0),
            std::string(IPINSIGHTS_SOURCE_DIR) + "/examples/pipeline/logs/cloudtrail/AWSLogs");
}

TEST(PipelineConfigTest, PathsDefaultsAndOverrides) {
  const PipelineConfig config = ParsePipelineConfig(R"(registry: s3://models/reg
work: work
seed: 7
gate: {min_auc: 0.9}
jobs:
  - name: ct
    source: {kind: cloudtrail, input: [a, /abs/b, s3://logs/AWSLogs/], entity: arn, ipv4_only: true}
    window: {from: 2024-05-01, to: 2024-05-07}
    gate: {max_auc_drop: 0.05}
    notify:
      - {url: "http://127.0.0.1:8080/admin/reload", token_env: TOKEN}
      - {pid_file: run/serve.pid}
    warm_start: false
)",
                                                    "p.yaml", "/base");
  const JobConfig& job = config.jobs.at(0);
  EXPECT_EQ(job.registry, "s3://models/reg");
  EXPECT_EQ(job.work, "/base/work");
  EXPECT_EQ(job.inputs, (std::vector<std::string>{"/base/a", "/abs/b", "s3://logs/AWSLogs/"}));
  EXPECT_EQ(job.entity_text, "arn");
  EXPECT_TRUE(job.ipv4_only);
  EXPECT_EQ(job.seed, 7u);
  EXPECT_DOUBLE_EQ(job.gate.min_auc, 0.9);  // inherited gate keys stay
  EXPECT_DOUBLE_EQ(job.gate.max_auc_drop, 0.05);
  EXPECT_EQ(FormatDate(*job.from), "2024-05-01");
  ASSERT_EQ(job.notify.size(), 2u);
  EXPECT_EQ(job.notify[1].pid_file, "/base/run/serve.pid");
  EXPECT_FALSE(job.warm_start);
}

TEST(PipelineConfigTest, MistakesNameTheFileLineAndWhatIsWrong) {
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "    hyperparameter: {epochs: 2}\n"),
            "p.yaml:6:5: unknown key \"hyperparameter\" in job \"ct\"; known: evaluate, gate, "
            "hyperparameters, name, notify, registry, seed, source, threads, warm_start, window, "
            "work");
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    hyperparameters: {vector_dim: 2}\n"),
              HasSubstr("p.yaml:6:23: vector_dim: 2 is out of range"));
  EXPECT_THAT(ErrorOf(R"(registry: r
work: w
jobs:
  - name: ct
    source: {kind: vpcflow, input: x}
)"),
              HasSubstr("p.yaml:5:20: source.kind \"vpcflow\" is not cloudtrail or waf"));
  EXPECT_THAT(ErrorOf("work: w\njobs:\n  - name: ct\n    source: {kind: waf, input: x}\n"),
              HasSubstr("needs a registry"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "  - name: ct\n    source: {kind: waf, input: x}\n"),
              HasSubstr("two jobs are named \"ct\""));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    window: {from: 2024-05-07, to: 2024-05-07}\n"),
              HasSubstr("from must be before to"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    window: {days: 1}\n"),
              HasSubstr("window.days: 1 is outside 2..3660"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    notify: [{url: 'http://h/admin/reload'}]\n"),
              HasSubstr("needs token_file or token_env"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    notify: [{url: 'ftp://h'}]\n"),
              HasSubstr("must start with http:// or https://"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    source: {kind: waf, input: x}\n"),
              HasSubstr("p.yaml:6:5: \"source\" appears twice in job \"ct\""));
  EXPECT_THAT(ErrorOf("registry: r\nwork: w\njobs:\n  - name: ct\n    source: {kind: cloudtrail, "
                      "input: l, entity: nonsense}\n"),
              HasSubstr("p.yaml:5:"));
  EXPECT_THAT(
      ErrorOf("registry: r\nwork: w\njobs:\n  - name: 'a/b'\n    source: {kind: waf, input: x}\n"),
      HasSubstr("may only use letters, digits"));
  EXPECT_THAT(ErrorOf("jobs: [\n"), HasSubstr("not valid YAML"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    threads: 0x10\n"),
              HasSubstr("threads: \"0x10\" is not a number"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    evaluate: {random_attacks: 1000000000}\n"),
              HasSubstr("random_attacks: 1000000000 is outside 0..100000000"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "---\nregistry: other\n"),
              HasSubstr("2 YAML documents"));
  EXPECT_THAT(ErrorOf("registry: r\nwork: w\njobs:\n  - cloudtrail\n"),
              HasSubstr("p.yaml:4:5: every job is a mapping"));
  EXPECT_THAT(ErrorOf("? [a]\n: 1\njobs: []\n"),
              HasSubstr("p.yaml:1:3: a key must be a plain name"));
  EXPECT_THAT(ErrorOf(std::string(kMinimal) + "    hyperparameters: {[a]: 1}\n"),
              HasSubstr("a key must be a plain name"));
  EXPECT_THAT(ErrorOf("jobs: " + std::string(100000, '[') + std::string(100000, ']') + "\n"),
              HasSubstr("p.yaml:1:"));
  EXPECT_THAT(ErrorOf("registry: r\nwork: w\njobs: []\n"), HasSubstr("must list at least one job"));
}

TEST(PipelineConfigTest, RegistryNames) {
  EXPECT_TRUE(IsRegistryName("cloudtrail-prod_1.2"));
  EXPECT_FALSE(IsRegistryName(""));
  EXPECT_FALSE(IsRegistryName(".."));
  EXPECT_FALSE(IsRegistryName("a/b"));
  EXPECT_FALSE(IsRegistryName("a b"));
}

}  // namespace
}  // namespace ipinsights
