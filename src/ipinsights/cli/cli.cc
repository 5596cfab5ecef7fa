#include <algorithm>
#include <cstdio>
#include <string_view>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/storage/temp_files.h"

namespace ipinsights {

namespace {

// Edit distance between two short words (a typed subcommand and a real one).
size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// CLI11 answers a mistyped subcommand ("ipinsights trian", "simulate kubernetes") with "A
// subcommand is required". Before parsing, walk the words that must name subcommands and
// refuse an unknown one by name, with the nearest real one.
void CheckSubcommandWords(CLI::App& app, int argc, char** argv) {
  CLI::App* level = &app;
  for (int i = 1; i < argc; ++i) {
    const std::string_view word = argv[i];
    if (word == "--") return;
    if (word.starts_with("-")) {
      if (word == "--endpoint-url") ++i;  // the one top-level option with a separate value
      if (level != &app) return;          // a subcommand's own options: CLI11 checks those
      continue;
    }
    const std::vector<CLI::App*> subcommands = level->get_subcommands({});
    if (subcommands.empty()) return;
    CLI::App* match = nullptr;
    std::string names, nearest;
    size_t nearest_distance = std::string::npos;
    for (CLI::App* subcommand : subcommands) {
      const std::string& name = subcommand->get_name();
      if (name == word) match = subcommand;
      if (subcommand->get_group().empty()) continue;  // hidden (not built yet): not suggested
      names += (names.empty() ? "" : ", ") + name;
      const size_t distance = EditDistance(word, name);
      if (distance < nearest_distance) nearest_distance = distance, nearest = name;
    }
    if (match == nullptr) {
      const std::string where = level == &app ? "" : level->get_name() + ": ";
      std::string message = where + "unknown command \"" + std::string(word) + "\"";
      if (nearest_distance <= std::max<size_t>(2, word.size() / 3)) {
        message += "; did you mean \"" + nearest + "\"?";
      } else {
        message += " (commands: " + names + ")";
      }
      throw UsageError(message);
    }
    level = match;
  }
}

}  // namespace

int RunCli(int argc, char** argv) {
  // Ctrl-C or a kill removes the temp files of unfinished outputs before the process ends.
  // (`serve` blocks these signals and takes them with sigwait, so this does not apply.)
  InstallTempFileCleanup();
  CLI::App app{
      "ipinsights: learn which IP addresses each AWS identity uses, and flag the ones it "
      "never does (IP Insights, natively).",
      "ipinsights"};
  app.set_version_flag("--version", "ipinsights 0.1.0");
  app.require_subcommand(1);
  // Options every subcommand accepts; fallthrough lets them stand after the subcommand.
  app.fallthrough(true);
  app.add_option_function<std::string>(
         "--endpoint-url", [](const std::string& url) { SetS3EndpointOverride(url); },
         "S3-compatible endpoint for s3:// locations (else AWS_ENDPOINT_URL_S3 / "
         "AWS_ENDPOINT_URL, else AWS)")
      ->trigger_on_parse();
  AddSimulateCommand(app);
  AddPrepareCommand(app);
  AddTrainCommand(app);
  AddScoreCommand(app);
  AddEvaluateCommand(app);
  AddServeCommand(app);
  AddPipelineCommand(app);
  AddDemoCommand(app);
  try {
    CheckSubcommandWords(app, argc, argv);
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CommandExitStatus& status) {
    return status.code;
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "ipinsights: %s\nRun with --help for usage.\n", e.what());
    return 2;
  } catch (const UsageError& e) {
    std::fprintf(stderr, "ipinsights: %s\n", e.what());
    return 2;
  } catch (const Error& e) {
    std::fprintf(stderr, "ipinsights: error: %s\n", e.what());
    return 1;
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "ipinsights: error: out of memory\n");
    return 1;
  } catch (const std::exception& e) {
    // A library failure we did not translate (filesystem_error, system_error from a
    // thread that cannot start): still an orderly exit, so outputs' temp files go.
    std::fprintf(stderr, "ipinsights: error: %s\n", e.what());
    return 1;
  }
  return 0;
}

std::optional<Date> DateFlag(const std::string& flag, const std::string& text) {
  if (text.empty()) return std::nullopt;
  std::optional<Date> date = ParseDate(text);
  if (!date) throw UsageError(flag + " \"" + text + "\": expected a date YYYY-MM-DD");
  return date;
}

void Warn(const std::string& message) {
  std::fprintf(stderr, "ipinsights: warning: %s\n", message.c_str());
}

}  // namespace ipinsights
