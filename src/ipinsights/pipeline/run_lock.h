// RunLock: keeps two pipeline processes from running the same job's window at once (a
// scheduler retry overlapping a manual run would write the same candidate model and could
// publish one run's model with the other's summary).
//
// A local work folder gets an exclusive flock(2) on RUN_FOLDER/run.lock, held for the life
// of the object and released by the kernel if the process dies. An S3 work location has no
// lock: there, one scheduler runs the pipeline (docs/deploy.md).
//
// Thread-safety: one object per run.
//
//   RunLock lock(run_folder);   // throws Error when another process holds it
#pragma once

#include <string>

namespace ipinsights {

class RunLock {
 public:
  // Creates the folder when needed. Throws Error naming the lock file when another process
  // holds it, or when it cannot be created.
  explicit RunLock(const std::string& run_folder);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace ipinsights
