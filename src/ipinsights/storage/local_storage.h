// LocalStorage: the Storage implementation for local paths and "-".
//
// "-" reads stdin (OpenSequential / ReadAll) and writes stdout (OpenWritable; not atomic,
// by nature). Writes to a path go to a hidden temp file beside it (storage/temp_files.h)
// that is renamed into place on Close(); the folder is then synced. List() skips dot-files,
// dot-folders and temp files. Thread-safe.
#pragma once

#include "ipinsights/storage/storage.h"

namespace ipinsights {

class LocalStorage : public Storage {
 public:
  std::vector<ObjectInfo> List(const std::string& location) override;
  Listing ListUnder(const std::string& location, ListDepth depth) override;
  void ReadAll(const std::string& location, std::string* out) override;
  std::unique_ptr<SequentialReader> OpenSequential(const std::string& location) override;
  std::unique_ptr<WritableFile> OpenWritable(const std::string& location) override;
  bool Exists(const std::string& location) override;
};

}  // namespace ipinsights
