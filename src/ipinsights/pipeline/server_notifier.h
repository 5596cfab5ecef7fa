// NotifyServer: tells one running `ipinsights serve` that a new model was published, so it
// re-reads its registry pointers: POST NotifyTarget::url (the server's /admin/reload) with
// the admin token in X-Admin-Token, or SIGHUP to the PID in NotifyTarget::pid_file.
//
// A server that is not running (connection refused; no process with that PID, or no PID
// file) has nothing to reload: when it starts it reads the registry's current version. That
// is reported, not an error. A running server that refuses (wrong token) or fails the reload
// is an error.
//
// Thread-safety: reentrant.
//
//   NotifyResult said = NotifyServer(target);  // "http://127.0.0.1:8080/admin/reload: HTTP 200"
#pragma once

#include <string>
#include <vector>

#include "ipinsights/pipeline/pipeline_config.h"

namespace ipinsights {

struct NotifyResult {
  bool running = true;  // false: no server there to tell
  std::string message;  // what was done, naming the target
  std::string target;   // the URL or PID file
};

// Throws Error naming the target when a running server could not be told (a non-2xx
// answer, a timeout, an unreadable token or PID file).
NotifyResult NotifyServer(const NotifyTarget& target);

// Every target in turn; one that cannot be told does not stop the others.
struct NotifyReport {
  std::vector<NotifyResult> results;  // the targets told, or found not running
  std::vector<std::string> failures;  // the others: why, naming each
  // "FIRST FAILURE (and N more)"; "" when none failed.
  std::string FailureSummary() const;
};
NotifyReport NotifyServers(const std::vector<NotifyTarget>& targets);

}  // namespace ipinsights
