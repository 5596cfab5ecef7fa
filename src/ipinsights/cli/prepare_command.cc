#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddPrepareCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("prepare", "(not available yet)");
  command->callback([] { throw Error("prepare: not available in this build yet"); });
}

}  // namespace ipinsights
