#include "ipinsights/base/error.h"
#include "ipinsights/cli/commands.h"

namespace ipinsights {

// Not built yet: see the open issues.
void AddTrainCommand(CLI::App& app) {
  CLI::App* command = app.add_subcommand("train", "(not available yet)");
  command->callback([] { throw Error("train: not available in this build yet"); });
}

}  // namespace ipinsights
