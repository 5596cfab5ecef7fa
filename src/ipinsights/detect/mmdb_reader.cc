#include "ipinsights/detect/mmdb_reader.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string_view>

#include "ipinsights/base/error.h"
#include "ipinsights/storage/storage.h"
#include "ipinsights/storage/temp_files.h"

namespace ipinsights {
namespace {

// The one adapter from libmaxminddb's status codes to our messages. `saved_errno` is the
// errno right after the call, for the codes that come from the file system.
std::string MmdbProblem(int status, int saved_errno) {
  std::string text = MMDB_strerror(status);
  if ((status == MMDB_FILE_OPEN_ERROR || status == MMDB_IO_ERROR) && saved_errno != 0)
    text += fmt::format(" ({})", std::strerror(saved_errno));
  if (status == MMDB_INVALID_METADATA_ERROR || status == MMDB_UNKNOWN_DATABASE_FORMAT_ERROR)
    text = "not a MaxMind DB file, or a truncated one: " + text;
  return text;
}

// Every record's keys are stored as strings in the data section (later uses may be pointers
// to the first copy), so a key no record holds never appears there.
bool DataSectionHolds(const MMDB_s& mmdb, std::string_view key) {
  if (mmdb.data_section == nullptr) return false;
  std::string_view data(reinterpret_cast<const char*>(mmdb.data_section), mmdb.data_section_size);
  return data.find(key) != std::string_view::npos;
}

std::string BuildDate(uint64_t epoch) {
  time_t seconds = static_cast<time_t>(epoch);
  struct tm utc;
  if (gmtime_r(&seconds, &utc) == nullptr) return "";
  return fmt::format("{:04}-{:02}-{:02}", utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday);
}

// Removes a downloaded copy however Open ends; the mapping outlives the name.
struct TempCopy {
  TempFile file;
  ~TempCopy() {
    if (file.fd >= 0) ::close(file.fd);
    if (!file.path.empty()) ::unlink(file.path.c_str());
    ForgetTempFile(file);
  }
};

void Download(const std::string& location, TempCopy* copy) {
  std::string name = location.substr(location.find_last_of('/') + 1);
  if (name.empty()) name = "database.mmdb";
  copy->file = CreateTempFile((std::filesystem::temp_directory_path() / name).string());
  std::unique_ptr<SequentialReader> reader = OpenStorage(location).OpenSequential(location);
  std::string buffer(1 << 20, '\0');
  while (size_t n = reader->Read(buffer.data(), buffer.size())) {
    for (size_t done = 0; done < n;) {
      ssize_t written = ::write(copy->file.fd, buffer.data() + done, n - done);
      if (written < 0 && errno == EINTR) continue;
      if (written < 0) throw Error(ErrnoMessage(location + ": writing " + copy->file.path, errno));
      done += static_cast<size_t>(written);
    }
  }
  ::close(copy->file.fd);
  copy->file.fd = -1;
}

// Reads an unsigned integer of any width libmaxminddb decodes; false for other types or a
// value over 32 bits.
bool AsUint32(const MMDB_entry_data_s& data, uint32_t* out) {
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      *out = data.uint16;
      return true;
    case MMDB_DATA_TYPE_UINT32:
      *out = data.uint32;
      return true;
    case MMDB_DATA_TYPE_UINT64:
      if (data.uint64 > UINT32_MAX) return false;
      *out = static_cast<uint32_t>(data.uint64);
      return true;
    default:
      return false;
  }
}

// Looks up `path` in `entry`: true with *data set (data->has_data false when absent), false
// when the data section is corrupt there. A path through a value of another type (a country
// that is a string, not a map) is treated as absent: that is not corruption.
bool GetValue(MMDB_entry_s* entry, const char* const* path, MMDB_entry_data_s* data) {
  int status = MMDB_aget_value(entry, data, path);
  if (status == MMDB_SUCCESS) return true;
  data->has_data = false;
  return status == MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR;
}

}  // namespace

struct MmdbReader::Db {
  MMDB_s mmdb;
  bool open = false;
  ~Db() {
    if (open) MMDB_close(&mmdb);
  }
};

MmdbReader::MmdbReader() : db_(std::make_unique<Db>()) {}
MmdbReader::~MmdbReader() = default;

std::unique_ptr<MmdbReader> MmdbReader::Open(const std::string& location) {
  std::unique_ptr<MmdbReader> reader(new MmdbReader());
  TempCopy copy;
  std::string path = location;
  if (IsS3Location(location)) {
    Download(location, &copy);
    path = copy.file.path;
  }
  errno = 0;
  int status = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &reader->db_->mmdb);
  if (status != MMDB_SUCCESS) throw Error(location + ": " + MmdbProblem(status, errno));
  reader->db_->open = true;
  const MMDB_s& mmdb = reader->db_->mmdb;
  reader->has_asn_ = DataSectionHolds(mmdb, "autonomous_system_number") ||
                     DataSectionHolds(mmdb, "autonomous_system_organization");
  reader->has_country_ = DataSectionHolds(mmdb, "iso_code");
  const char* type = mmdb.metadata.database_type;
  reader->description_ = fmt::format("{} {}", type != nullptr && *type ? type : "MMDB",
                                     BuildDate(mmdb.metadata.build_epoch));
  return reader;
}

bool MmdbReader::Lookup(const IpAddress& ip, bool want_asn, bool want_country,
                        NetworkInfo* out) const {
  sockaddr_storage address{};
  if (ip.is_v4()) {
    // An IPv4 address as sockaddr_in: libmaxminddb then starts at the IPv4 subtree (::/96)
    // of an IPv6 database, or at the root of an IPv4 one.
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    v4->sin_family = AF_INET;
    v4->sin_addr.s_addr = htonl(ip.v4());
  } else {
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    v6->sin6_family = AF_INET6;
    std::memcpy(&v6->sin6_addr, ip.bytes().data(), 16);
  }
  int mmdb_error = MMDB_SUCCESS;
  MMDB_lookup_result_s result =
      MMDB_lookup_sockaddr(&db_->mmdb, reinterpret_cast<const sockaddr*>(&address), &mmdb_error);
  if (mmdb_error == MMDB_IPV6_LOOKUP_IN_IPV4_DATABASE_ERROR) return true;
  if (mmdb_error != MMDB_SUCCESS) return false;
  if (!result.found_entry) return true;

  MMDB_entry_data_s data;
  if (want_asn) {
    static const char* const kAsn[] = {"autonomous_system_number", nullptr};
    static const char* const kOrg[] = {"autonomous_system_organization", nullptr};
    if (!GetValue(&result.entry, kAsn, &data)) return false;
    uint32_t asn = 0;
    if (data.has_data && AsUint32(data, &asn)) out->asn = asn;
    if (!GetValue(&result.entry, kOrg, &data)) return false;
    if (data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING)
      out->as_org.assign(data.utf8_string, data.data_size);
  }
  if (want_country) {
    static const char* const kCountry[] = {"country", "iso_code", nullptr};
    static const char* const kRegistered[] = {"registered_country", "iso_code", nullptr};
    if (!GetValue(&result.entry, kCountry, &data)) return false;
    if (!data.has_data || data.type != MMDB_DATA_TYPE_UTF8_STRING) {
      if (!GetValue(&result.entry, kRegistered, &data)) return false;
    }
    if (data.has_data && data.type == MMDB_DATA_TYPE_UTF8_STRING)
      out->country.assign(data.utf8_string, data.data_size);
  }
  return true;
}

}  // namespace ipinsights
