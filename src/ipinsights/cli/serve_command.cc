#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddServeCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("serve", "(not available yet)");
  command->callback([] { throw Error("serve: not available in this build yet"); });
}

}  // namespace ipinsights
