// Reading a log corpus from an S3-compatible store on loopback against reading the same
// files from disk, and the request count of a pruned --from/--to listing. Run by
// bench/s3_bench.sh, which makes the corpus, starts moto_server and sets:
//   IPI_BENCH_CORPUS   local folder of the corpus (CloudTrail layout under AWSLogs/)
//   IPI_BENCH_ENDPOINT the store's URL (credentials from the usual AWS_* variables)
//   IPI_BENCH_BUCKET   bucket to upload the corpus to (created here, before timing)
// Every benchmark checks the bytes it read (total and XXH3 of each object) against the
// local files, so a fast wrong answer aborts.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "ipinsights/base/error.h"
#include "ipinsights/base/hash.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/logs/log_listing.h"
#include "ipinsights/storage/local_storage.h"
#include "ipinsights/storage/s3_storage.h"

namespace ipinsights {
namespace {

struct Corpus {
  std::vector<std::string> local_files;
  std::vector<std::string> s3_locations;
  std::vector<uint64_t> hashes;
  uint64_t total_bytes = 0;
  std::string s3_root;
  std::unique_ptr<S3Storage> s3;
};

Corpus* corpus = nullptr;

void Check(bool ok, const std::string& what) {
  if (!ok) {
    std::fprintf(stderr, "s3_bench: wrong result: %s\n", what.c_str());
    std::abort();
  }
}

void ReadEverything(benchmark::State& state, Storage& storage,
                    const std::vector<std::string>& locations, bool sequential) {
  const size_t threads = static_cast<size_t>(state.range(0));
  for (auto _ : state) {
    std::atomic<uint64_t> bytes{0};
    ParallelFor(locations.size(), threads, [&](size_t i, size_t) {
      std::string data;
      if (sequential) {
        auto reader = storage.OpenSequential(locations[i]);
        std::string buffer(1 << 20, '\0');
        while (size_t n = reader->Read(buffer.data(), buffer.size())) data.append(buffer.data(), n);
      } else {
        storage.ReadAll(locations[i], &data);
      }
      Check(Hash64(data, 0) == corpus->hashes[i],
            locations[i] + ": bytes differ from the local file");
      bytes += data.size();
    });
    Check(bytes == corpus->total_bytes, "total bytes");
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus->total_bytes));
  state.counters["objects"] = static_cast<double>(locations.size());
}

void BM_LocalReadAll(benchmark::State& state) {
  LocalStorage local;
  ReadEverything(state, local, corpus->local_files, false);
}

void BM_S3ReadAll(benchmark::State& state) {
  ReadEverything(state, *corpus->s3, corpus->s3_locations, false);
}

void BM_S3Sequential(benchmark::State& state) {
  ReadEverything(state, *corpus->s3, corpus->s3_locations, true);
}

// One day out of the corpus: the walk discovers accounts and regions, then lists that day.
void BM_S3PrunedListing(benchmark::State& state) {
  DayRange days{ParseDate("2024-05-02"), ParseDate("2024-05-02")};
  uint64_t requests = 0;
  size_t objects = 0;
  for (auto _ : state) {
    S3RequestCounts before = corpus->s3->client().counts();
    objects = ListLogObjects(*corpus->s3, corpus->s3_root + "AWSLogs/", days).size();
    requests = corpus->s3->client().counts().list - before.list;
  }
  size_t expected = 0;
  for (const auto& location : corpus->s3_locations) {
    if (location.find("/2024/05/02/") != std::string::npos) ++expected;
  }
  Check(objects == expected, "pruned listing found " + std::to_string(objects) + " objects, not " +
                                 std::to_string(expected));
  state.counters["list_requests"] = static_cast<double>(requests);
  state.counters["objects"] = static_cast<double>(objects);
}

void BM_S3FullListing(benchmark::State& state) {
  uint64_t requests = 0;
  for (auto _ : state) {
    S3RequestCounts before = corpus->s3->client().counts();
    Check(corpus->s3->List(corpus->s3_root + "AWSLogs/").size() == corpus->s3_locations.size(),
          "full listing");
    requests = corpus->s3->client().counts().list - before.list;
  }
  state.counters["list_requests"] = static_cast<double>(requests);
}

BENCHMARK(BM_LocalReadAll)->Arg(1)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_S3ReadAll)->Arg(1)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_S3Sequential)->Arg(1)->Arg(4)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_S3PrunedListing)->Iterations(3)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_S3FullListing)->Iterations(3)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ipinsights

int main(int argc, char** argv) {
  using namespace ipinsights;
  const char* corpus_dir = std::getenv("IPI_BENCH_CORPUS");
  const char* endpoint = std::getenv("IPI_BENCH_ENDPOINT");
  const char* bucket = std::getenv("IPI_BENCH_BUCKET");
  if (corpus_dir == nullptr || endpoint == nullptr || bucket == nullptr) {
    std::fprintf(stderr,
                 "s3_bench: run it through bench/s3_bench.sh (IPI_BENCH_CORPUS, "
                 "IPI_BENCH_ENDPOINT and IPI_BENCH_BUCKET are not set)\n");
    return 2;
  }
  static Corpus state;
  corpus = &state;
  S3Config config = S3Config::FromEnvironment(AwsEnvironment::Process());
  config.endpoint = endpoint;
  state.s3 = std::make_unique<S3Storage>(config);
  state.s3_root = "s3://" + std::string(bucket) + "/";
  LocalStorage local;
  const std::string root = corpus_dir;
  try {
    state.s3->client().CreateBucket(bucket);
  } catch (const Error&) {
    // Already there from an earlier run.
  }
  for (const ObjectInfo& file : local.List(root)) {
    std::string data;
    local.ReadAll(file.location, &data);
    std::string relative = file.location.substr(root.size() + (root.back() == '/' ? 0 : 1));
    std::string location = state.s3_root + relative;
    if (!state.s3->Exists(location)) {
      auto writer = state.s3->OpenWritable(location);
      writer->Append(data);
      writer->Close();
    }
    state.local_files.push_back(file.location);
    state.s3_locations.push_back(location);
    state.hashes.push_back(Hash64(data, 0));
    state.total_bytes += data.size();
  }
  std::fprintf(stderr, "s3_bench: %zu objects, %.1f MiB\n", state.local_files.size(),
               state.total_bytes / 1048576.0);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
