// PartialFinding and FindingRun: how FindingAggregator keeps a day's findings within a
// memory budget. A PartialFinding is a finding whose events are still being added; when the
// aggregator's table passes its budget, it writes the table, sorted, to a FindingRun (a temp
// file) and starts over; Finish merges the runs.
//
// A run is an anonymous file: created in the spill folder and unlinked at once, so nothing is
// left behind however the process ends. Its records are private to one process (no version,
// no byte order promise): a little-endian length-prefixed encoding of every field, read back
// by the same binary.
//
// Thread-safety: one thread per run.
//
//   FindingRun run = FindingRun::Create("/tmp");
//   for (const PartialFinding& partial : sorted) run.Append(partial);
//   run.Rewind();
//   PartialFinding partial;
//   while (run.Read(&partial)) ...
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include "ipinsights/detect/finding.h"

namespace ipinsights {

struct PartialFinding {
  Finding finding;
  bool has_time = false;
  bool has_lowest = false;
  // (time, event id) of the earliest events, sorted by time, ties in arrival order.
  std::vector<std::pair<int64_t, std::string>> samples;
  std::vector<Reason> rule_reasons;  // one per code, from the first event carrying it
  std::vector<Reason> lowest_reasons;
};

// The heap blocks of `partial`'s strings and vectors (not sizeof(PartialFinding): the
// vector holding it counts that, by its capacity), for the aggregator's budget.
size_t HeapBytesOf(const PartialFinding& partial);

class FindingRun {
 public:
  // An empty run in `folder` ("" = $TMPDIR, else /tmp). Throws Error naming the folder.
  static FindingRun Create(const std::string& folder);
  ~FindingRun();
  FindingRun(FindingRun&& other) noexcept;
  FindingRun& operator=(FindingRun&& other) noexcept;

  // Throws Error when the file cannot be written (a full disk).
  void Append(const PartialFinding& partial);
  // Flushes what was appended and reads from the first record.
  void Rewind();
  // The next record; false after the last. Throws Error on a short read.
  bool Read(PartialFinding* partial);
  // Closes the file (its disk is freed); Read returns false from then on.
  void Close();

 private:
  FindingRun(std::FILE* file, std::string folder) : file_(file), folder_(std::move(folder)) {}
  void Write(const void* data, size_t size);
  void ReadBytes(void* data, size_t size);

  std::FILE* file_ = nullptr;
  std::string folder_;  // for messages
  uint64_t records_ = 0;
  uint64_t bytes_ = 0;
  uint64_t read_ = 0;  // records read since the last Rewind
  std::string scratch_;
};

}  // namespace ipinsights
