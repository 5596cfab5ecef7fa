// The subcommands of the `ipinsights` binary, one file each (<name>_command.cc).
//
// Each Add*Command registers its subcommand, flags and callback on the root app. Commands
// are the only code that prints to stdout/stderr or decides exit codes: they throw
// UsageError (exit 2) or Error (exit 1); RunCli turns those into messages.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "ipinsights/base/civil_time.h"

namespace ipinsights {

void AddSimulateCommand(CLI::App& app);
void AddPrepareCommand(CLI::App& app);
void AddTrainCommand(CLI::App& app);
void AddScoreCommand(CLI::App& app);
void AddEvaluateCommand(CLI::App& app);
void AddServeCommand(CLI::App& app);
void AddPipelineCommand(CLI::App& app);
void AddDemoCommand(CLI::App& app);

// Thrown by a command that finished but must end with a status other than 0, 1 or 2
// (pipeline: 3 when a quality gate refused a model); what it had to say is printed.
struct CommandExitStatus {
  int code;
};

// A YYYY-MM-DD flag (--from, --to, --split-at): nullopt when empty; UsageError naming the
// flag and the text otherwise.
std::optional<Date> DateFlag(const std::string& flag, const std::string& text);

// "ipinsights: warning: MESSAGE" on stderr.
void Warn(const std::string& message);

// Parses argv, runs the chosen subcommand, returns the process exit code
// (0 success, 1 runtime failure, 2 usage error).
int RunCli(int argc, char** argv);

}  // namespace ipinsights
