#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddDemoCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("demo", "(not available yet)");
  command->callback([] { throw Error("demo: not available in this build yet"); });
}

}  // namespace ipinsights
