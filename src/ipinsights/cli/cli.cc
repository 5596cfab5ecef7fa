#include <cstdio>

#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"
#include "ipinsights/storage/s3_client.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/storage/temp_files.h"

namespace ipinsights {

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
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
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

}  // namespace ipinsights
