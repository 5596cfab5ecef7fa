#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddSimulateCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("simulate", "(not available yet)");
  command->callback([] { throw Error("simulate: not available in this build yet"); });
}

}  // namespace ipinsights
