// Storage: where logs, training sets and models live (leveldb's Env, for our locations).
//
// A location is a local path, "-" (stdin / stdout), or "s3://bucket/key". OpenStorage()
// picks the implementation from the location; callers never branch on the scheme.
// Listing returns objects in lexicographic order of their location, so output built from
// a listing is deterministic. Storage moves bytes and never decides what a key means: it
// lists what it is asked to, and the log layouts (days in keys, digest files) live in
// logs/log_listing.h. Writers are atomic: the destination appears whole on
// Close() (temp file + rename locally, a completed multipart upload on S3) and a writer
// destroyed without Close() leaves no partial destination behind.
//
// Thread-safety: Storage methods may be called from several threads at once; a reader or
// writer object is used by one thread at a time.
//
//   Storage& storage = OpenStorage(location);
//   for (const ObjectInfo& object : storage.List(location)) {
//     std::string bytes;
//     storage.ReadAll(object.location, &bytes);
//   }
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

struct ObjectInfo {
  std::string location;  // full location, usable with ReadAll / OpenSequential
  uint64_t size = 0;
};

// What one ListUnder call found.
struct Listing {
  std::vector<ObjectInfo> objects;   // sorted by location
  std::vector<std::string> folders;  // kOneLevel: sub-folder locations, each ending in '/'
};

enum class ListDepth {
  kOneLevel,   // the objects directly in a folder, and its sub-folders
  kRecursive,  // every object under a folder, at any depth
};

// Reads an object front to back in chunks.
class SequentialReader {
 public:
  virtual ~SequentialReader() = default;
  // Reads up to `n` bytes into `buffer`; returns 0 only at the end. Throws Error.
  virtual size_t Read(char* buffer, size_t n) = 0;
};

// Writes an object; nothing is visible at the destination before Close().
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  virtual void Append(std::string_view data) = 0;  // Throws Error.
  // Does all the work of Close() that can fail for want of space (flushing, syncing), so
  // that outputs that go together can be made visible together: Sync() each, then Close()
  // each. Optional; implementations that cannot split Close() do nothing here.
  virtual void Sync() {}
  // Makes the object visible, whole. Throws Error; after a failed Close() nothing is left.
  virtual void Close() = 0;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Every object at `location`: the object itself if it is one, else every object under
  // it (folders walked recursively; local dot-files and writers' temp files skipped),
  // sorted by location. Throws Error when the location does not exist.
  virtual std::vector<ObjectInfo> List(const std::string& location) = 0;

  // The object `location` names, if it names one; else what lies under the folder
  // `location` ("s3://b/p" and "s3://b/p/" both mean the prefix "p/"), to `depth`, skipping
  // what List skips. Nothing there is an empty Listing, never an error: walkers that know a
  // layout (logs/log_listing.h) call it for folders that may not exist. On S3 one call is
  // one paginated ListObjectsV2 (with delimiter "/" for kOneLevel), plus one request to
  // look for an object of that exact name when `location` does not end in '/'.
  virtual Listing ListUnder(const std::string& location, ListDepth depth) = 0;

  // Replaces *out with the whole object. Callers may reserve extra capacity first (the
  // JSON readers need padding after the data); implementations keep it.
  virtual void ReadAll(const std::string& location, std::string* out) = 0;

  virtual std::unique_ptr<SequentialReader> OpenSequential(const std::string& location) = 0;

  virtual std::unique_ptr<WritableFile> OpenWritable(const std::string& location) = 0;

  virtual bool Exists(const std::string& location) = 0;
};

// The storage serving `location` (local files, or S3 for "s3://"). The returned object
// lives for the whole program.
Storage& OpenStorage(const std::string& location);

bool IsS3Location(std::string_view location);

// True when `a` and `b` name the same object: the same file however spelled (./x, a/../x,
// links), or the same S3 bucket and key. "-" is never the same as anything.
bool SameObject(const std::string& a, const std::string& b);

// Checks an input listing against the outputs: an input object that is one of `outputs`
// (SameObject: same file however spelled, or same S3 bucket and key) is a UsageError when
// the input location named it directly, and is dropped from `objects` when a folder
// listing found it (a command's own earlier output beside its inputs). `input_flag` names
// the input in the message ("--input").
void ExcludeOutputs(const std::string& input_flag, const std::string& input,
                    const std::vector<std::string>& outputs, std::vector<ObjectInfo>* objects);

// `name` inside the folder or prefix `folder` ("out" + "model.ipinsights" ->
// "out/model.ipinsights"; "s3://b/p/" + "k" -> "s3://b/p/k"; "" + "k" -> "k").
std::string JoinLocation(const std::string& folder, const std::string& name);

// Convenience wrappers over OpenStorage(location).
std::string ReadWholeObject(const std::string& location);
void WriteWholeObject(const std::string& location, std::string_view data);

}  // namespace ipinsights
