#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddScoreCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("score", "(not available yet)");
  command->callback([] { throw Error("score: not available in this build yet"); });
}

}  // namespace ipinsights
