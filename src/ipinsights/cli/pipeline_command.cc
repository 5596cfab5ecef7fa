#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddPipelineCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("pipeline", "(not available yet)");
  command->callback([] { throw Error("pipeline: not available in this build yet"); });
}

}  // namespace ipinsights
