// Temp files of the atomic local writers: their hidden names, their creation, and their
// removal when the process is stopped by SIGINT, SIGTERM, SIGHUP or aborts.
//
// A writer for DIR/NAME writes DIR/.NAME.ipinsights-tmp-XXXXXX (six random characters,
// created with O_EXCL|O_NOFOLLOW) and renames it over DIR/NAME when done. Listings skip
// such names (IsTempFileName), so an orphan left by `kill -9` or a power loss is never
// read as data. Open temp files are kept in a fixed-size registry that a signal handler
// can walk without allocating; InstallTempFileCleanup() installs that handler.
//
// Thread-safety: all functions may be called from any thread.
//
//   InstallTempFileCleanup();                 // once, early in main
//   TempFile temp = CreateTempFile("out/train.csv");
//   ... write temp.fd, rename temp.path into place ...
//   ForgetTempFile(temp);                     // after the rename or unlink
#pragma once

#include <string>
#include <string_view>

namespace ipinsights {

struct TempFile {
  int fd = -1;
  std::string path;
  int slot = -1;  // registry slot, -1 when the registry was full (no signal cleanup)
};

// Creates the temp file for `destination` in its folder. It gets the mode of an existing
// destination (a 0600 file stays 0600), else 0666 less the umask. Throws Error.
TempFile CreateTempFile(const std::string& destination);

// Drops `temp` from the registry; call after it was renamed into place or unlinked.
void ForgetTempFile(TempFile& temp);

// True for a file name (no folder) that is a temp file of ours: ".NAME.ipinsights-tmp-XXXXXX",
// or "NAME.tmp.PID.N" as versions before 0.2 named them.
bool IsTempFileName(std::string_view file_name);

// SIGINT, SIGTERM, SIGHUP and SIGABRT (std::terminate, a failed assertion) unlink every
// registered temp file, then end the process by the same signal (default action). A signal the
// process inherited as ignored stays ignored. Idempotent.
void InstallTempFileCleanup();

}  // namespace ipinsights
