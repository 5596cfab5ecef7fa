#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddEvaluateCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("evaluate", "(not available yet)");
  command->callback([] { throw Error("evaluate: not available in this build yet"); });
}

}  // namespace ipinsights
