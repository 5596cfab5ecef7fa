#include "ipinsights/storage/storage.h"

#include <filesystem>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

bool TwoDigits(std::string_view s, size_t pos) {
  return pos + 2 <= s.size() && s[pos] >= '0' && s[pos] <= '9' && s[pos + 1] >= '0' &&
         s[pos + 1] <= '9';
}

}  // namespace

bool IsS3Location(std::string_view location) { return location.substr(0, 5) == "s3://"; }

Storage& OpenStorage(const std::string& location) {
  if (IsS3Location(location)) return DefaultS3Storage();
  static LocalStorage local;
  return local;
}

std::optional<Date> DateInKey(std::string_view key) {
  // Look for "YYYY/MM/DD/" (the last one wins: prefixes may themselves contain digits).
  std::optional<Date> found;
  for (size_t i = 0; i + 11 <= key.size(); ++i) {
    if (i > 0 && key[i - 1] != '/') continue;
    if (!(TwoDigits(key, i) && TwoDigits(key, i + 2) && key[i + 4] == '/' &&
          TwoDigits(key, i + 5) && key[i + 7] == '/' && TwoDigits(key, i + 8) &&
          key[i + 10] == '/')) {
      continue;
    }
    std::string text(key.substr(i, 10));
    text[4] = '-';
    text[7] = '-';
    if (auto date = ParseDate(text)) found = date;
  }
  return found;
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

}  // namespace ipinsights
