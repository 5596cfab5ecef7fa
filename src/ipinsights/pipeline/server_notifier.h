// NotifyServer: tells one running `ipinsights serve` that a new model was published, so it
// re-reads its registry pointers: POST NotifyTarget::url (the server's /admin/reload) with
// the admin token in X-Admin-Token, or SIGHUP to the PID in NotifyTarget::pid_file.
//
// Thread-safety: reentrant.
//
//   std::string said = NotifyServer(target);   // "http://127.0.0.1:8080/admin/reload: 200"
#pragma once

#include <string>

#include "ipinsights/pipeline/pipeline_config.h"

namespace ipinsights {

// Returns a short description of what was done. Throws Error naming the target when the
// server could not be told (refused connection, non-2xx answer, no such process).
std::string NotifyServer(const NotifyTarget& target);

}  // namespace ipinsights
