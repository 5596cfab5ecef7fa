// `ipinsights evaluate --model FILE (--labels FILE | --test SRC --random-attacks N)`:
// how well a model separates normal pairs from anomalous ones (PRODUCT.md).
#include <fmt/format.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "ipinsights/base/bad_record.h"
#include "ipinsights/base/error.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/dataset/labels_reader.h"
#include "ipinsights/dataset/pair_reader.h"
#include "ipinsights/eval/evaluation.h"
#include "ipinsights/eval/held_out_pairs.h"
#include "ipinsights/eval/random_attacks.h"
#include "ipinsights/eval/report_html.h"
#include "ipinsights/model/model.h"

namespace ipinsights {
namespace {

struct EvaluateFlags {
  std::string model;
  std::string labels;
  std::string test;
  uint64_t random_attacks = 0;
  std::vector<double> thresholds;
  double target_fpr = 0.01;
  uint64_t seed = 1;
  size_t threads = 0;
  std::string report;
  bool json = false;
  bool quiet = false;
  bool strict = false;
};

// The normal pairs of --test SRC; bad rows are printed as warnings.
HeldOutPairs ReadNormalPairs(const std::string& location, bool quiet, bool strict) {
  BadRecordLog bad_rows(BadRecordLog::kDefaultCap, strict);
  HeldOutPairs pairs = ReadHeldOutPairs(location, &bad_rows);
  const std::vector<std::string> messages = bad_rows.messages();
  for (const std::string& message : messages) {
    std::fprintf(stderr, "ipinsights: warning: %s (row skipped)\n", message.c_str());
  }
  if (pairs.bad_rows > messages.size() && !quiet) {
    std::fprintf(stderr, "ipinsights: warning: %llu bad rows skipped in %s in all\n",
                 static_cast<unsigned long long>(pairs.bad_rows), location.c_str());
  }
  return pairs;
}

void RunEvaluate(const EvaluateFlags& flags) {
  if (flags.labels.empty() == flags.test.empty()) {
    throw UsageError("evaluate: give either --labels FILE or --test SRC --random-attacks N");
  }
  if (!flags.test.empty() && flags.random_attacks == 0) {
    throw UsageError("evaluate: --test SRC needs --random-attacks N (N >= 1)");
  }
  if (flags.test.empty() && flags.random_attacks > 0) {
    throw UsageError("evaluate: --random-attacks goes with --test SRC");
  }
  if (!(flags.target_fpr > 0 && flags.target_fpr <= 0.5)) {
    throw UsageError(fmt::format(
        "evaluate: --target-fpr {}: must be a fraction in (0, 0.5]; 0.01 means 1% of normal "
        "pairs flagged",
        flags.target_fpr));
  }
  EvaluationOptions options;
  if (!flags.thresholds.empty()) options.thresholds = flags.thresholds;
  options.target_fpr = flags.target_fpr;

  std::shared_ptr<const Model> model = Model::Load(flags.model);
  EvaluationResult result;
  if (!flags.labels.empty()) {
    LabeledPairs labels = ReadLabels(flags.labels);
    result = EvaluateLabels(*model, labels, options, flags.threads);
    result.source = flags.labels;
  } else {
    HeldOutPairs normal = ReadNormalPairs(flags.test, flags.quiet, flags.strict);
    if (normal.entities.empty()) throw Error(flags.test + ": no valid entity,ip rows");
    RandomAttacks attacks = MakeRandomAttacks(normal.entities, flags.random_attacks, flags.seed);
    result = EvaluatePairs(*model, normal.entities, normal.ips, attacks.entities, attacks.ips,
                           options, flags.threads);
    result.source = fmt::format("{} + {} random attacks (seed {})", flags.test,
                                flags.random_attacks, flags.seed);
  }
  // The training curves come from metrics.json beside the model, into the JSON and the page.
  // A metrics.json that is not train's costs the curves, not the evaluation: warn and note.
  try {
    AttachTrainingCurves(&result, flags.model);
  } catch (const Error& e) {
    std::fprintf(stderr, "ipinsights: warning: %s (training curves not shown)\n", e.what());
    result.training_note = std::string(e.what()) + " (training curves not shown)";
  }
  if (!flags.report.empty()) WriteReportHtml(result, flags.report);
  if (flags.json) {
    std::printf("%s\n", EvaluationJson(result).c_str());
  } else {
    std::fputs(EvaluationTable(result).c_str(), stdout);
  }
  if (!flags.report.empty() && !flags.quiet) {
    std::fprintf(stderr, "report: %s\n", flags.report.c_str());
  }
}

}  // namespace

void AddEvaluateCommand(CLI::App& app) {
  auto flags = std::make_shared<EvaluateFlags>();
  CLI::App* command = app.add_subcommand(
      "evaluate", "Measure how well a model separates normal pairs from anomalous ones");
  command->add_option("--model", flags->model, "Model file (model.ipinsights)")->required();
  command->add_option("--labels", flags->labels,
                      "Labelled pairs: CSV with header entity,ip,label[,oracle_score][,kind]");
  command->add_option("--test", flags->test, "Normal entity,ip pairs (CSV, as prepare writes)");
  command->add_option("--random-attacks", flags->random_attacks,
                      "With --test: this many anomalies, known entities with random public IPv4");
  command
      ->add_option("--threshold", flags->thresholds,
                   "Flag pairs scoring below T (repeatable; default 0)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  command
      ->add_option(
          "--target-fpr", flags->target_fpr,
          "False-positive rate for recommended_threshold, a fraction in (0, 0.5]: 0.01 = 1%")
      ->capture_default_str();
  command->add_option("--seed", flags->seed, "Seed of the random attacks")->capture_default_str();
  command->add_option("--threads", flags->threads, "Worker threads (default: all cores)");
  command->add_option("--report", flags->report,
                      "Write a self-contained HTML page (histograms, ROC curve, thresholds, "
                      "training curves) to FILE.html (local or s3://)");
  command->add_flag("--json", flags->json, "Print the figures as one JSON object on stdout");
  command->add_flag("--quiet", flags->quiet, "No warnings beyond bad rows");
  command->add_flag("--strict", flags->strict,
                    "Fail (exit 1) on the first malformed file or record");
  command->callback([flags] { RunEvaluate(*flags); });
}

}  // namespace ipinsights
