#include "ipinsights/storage/storage.h"

#include <algorithm>
#include <filesystem>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {

bool IsS3Location(std::string_view location) { return location.substr(0, 5) == "s3://"; }

Storage& OpenStorage(const std::string& location) {
  if (IsS3Location(location)) return DefaultS3Storage();
  static LocalStorage local;
  return local;
}

void ExcludeOutputs(const std::string& input_flag, const std::string& input,
                    const std::vector<std::string>& outputs, std::vector<ObjectInfo>* objects) {
  auto is_output = [&](const ObjectInfo& object) {
    for (const std::string& output : outputs) {
      if (output.empty() || !SameObject(object.location, output)) continue;
      if (object.location == input) {
        throw UsageError(output + ": is both an input and an output (" + input_flag + " " + input +
                         ")");
      }
      return true;
    }
    return false;
  };
  objects->erase(std::remove_if(objects->begin(), objects->end(), is_output), objects->end());
}

bool SameObject(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  if (IsS3Location(a) || IsS3Location(b)) {
    // Bucket and key, compared as S3 does: exactly.
    return IsS3Location(a) && IsS3Location(b) && a == b;
  }
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(a, ec) && fs::exists(b, ec)) {
    bool same = fs::equivalent(a, b, ec);
    return !ec && same;
  }
  // One of them does not exist yet (an output): compare the paths it would have.
  fs::path pa = fs::weakly_canonical(fs::absolute(a, ec), ec);
  if (ec) return false;
  fs::path pb = fs::weakly_canonical(fs::absolute(b, ec), ec);
  return !ec && pa == pb;
}

std::string ReadWholeObject(const std::string& location) {
  std::string data;
  OpenStorage(location).ReadAll(location, &data);
  return data;
}

void WriteWholeObject(const std::string& location, std::string_view data) {
  auto writer = OpenStorage(location).OpenWritable(location);
  writer->Append(data);
  writer->Close();
}

std::string JoinLocation(const std::string& folder, const std::string& name) {
  if (folder.empty() || folder.back() == '/') return folder + name;
  return folder + "/" + name;
}

}  // namespace ipinsights
