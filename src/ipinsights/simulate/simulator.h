// `ipinsights simulate`: writes synthetic CloudTrail or WAF logs in the exact AWS delivery
// layout, with injected anomalies on the last day and DIR/labels.csv holding the last
// day's pairs with their labels, the generator's Bayes-optimal score and the attack kind
// (docs/formats/labels-csv.md): random addresses for known entities, and the attacks
// findings are for (stolen EC2 instance credentials, an IAM user's long-term key or a WAF
// client from a network not its own).
//
// How: one day at a time, events are sampled per entity (population_model.h: --population networks
// or asn) with a seed derived from (seed, day, entity), spread over delivery partitions and 5-15
// minute windows, sorted by time inside each window, split into objects, and the objects are
// formatted, compressed and written in parallel, each with its own derived seed. The output is
// therefore byte-identical for a given seed whatever the thread count.
//
// Thread-safety: Simulate() uses `threads` workers internally; call it from one thread.
//
//   SimulateOptions options;
//   options.kind = LogKind::kCloudTrail;
//   options.out = "/tmp/sim";
//   SimulateSummary summary = Simulate(options, nullptr);
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ipinsights/base/civil_time.h"
#include "ipinsights/base/progress.h"
#include "ipinsights/pairs/entity.h"  // LogKind

namespace ipinsights {

// Which generative model draws the addresses (docs/formats/labels-csv.md): kNetworks
// (population.h, the default) or kAsn (asn_population.h, after SageMaker's tutorial
// generator). The log formats and attack kinds are the same for both.
enum class PopulationKind { kNetworks, kAsn };

struct SimulateOptions {
  LogKind kind = LogKind::kCloudTrail;
  std::string out;   // output folder (created)
  size_t users = 0;  // 0: 1,000, or what --target-mb needs
  int days = 7;
  Date start{2024, 3, 1};
  uint64_t attacks = 1000;  // anomalous events on the last day
  double target_mb = 0;     // approximate uncompressed size; 0 = not set
  uint64_t seed = 1;
  PopulationKind population = PopulationKind::kNetworks;
  double ipv6_fraction = 0.05;  // share of entities on IPv6-capable networks (kNetworks only)
  double events_per_user_per_day = 30;
  bool gzip = false;                    // WAF: gzip'd delivery (CloudTrail is always gzip'd)
  std::string prefix = "AWSLogs/waf/";  // WAF Firehose prefix
  size_t threads = 0;                   // 0 = all cores
  int compression_level = 1;            // libdeflate level for .gz objects
};

struct SimulateSummary {
  std::string kind;        // "cloudtrail" / "waf"
  std::string population;  // "networks" / "asn"
  uint64_t users = 0;
  uint64_t networks = 0;
  int days = 0;
  uint64_t files = 0;  // log objects (not digests)
  uint64_t digest_files = 0;
  uint64_t records = 0;       // records in the log objects
  uint64_t bytes = 0;         // uncompressed bytes of the log objects
  uint64_t stored_bytes = 0;  // bytes written (compressed where compressed), digests included
  uint64_t pairs = 0;         // records `prepare` turns into (entity, ip) rows
  uint64_t ipv6_pairs = 0;
  std::vector<uint64_t> pairs_per_day;
  uint64_t attacks = 0;
  // Attacks by labels.csv kind: random_ip first, then the format's targeted kinds (zero
  // when a kind fell back to random_ip).
  std::vector<std::pair<std::string, uint64_t>> attacks_by_kind;
  uint64_t label_rows = 0;  // last day's pairs, attacks included
  // What `prepare` must skip, by its reason names.
  uint64_t skipped_aws_service = 0;
  uint64_t skipped_not_an_ip = 0;
  uint64_t skipped_no_entity = 0;
  std::string labels_path;
  double seconds = 0;
};

// Runs the simulation. Throws UsageError for bad options (including a non-empty output
// folder) and Error for I/O failures. `progress` (optional) counts records written.
SimulateSummary Simulate(const SimulateOptions& options, Progress* progress);

// The --population name of `kind`: "networks" or "asn".
const char* PopulationName(PopulationKind kind);

// The summary as one JSON object (no trailing newline).
std::string SummaryJson(const SimulateSummary& summary);

}  // namespace ipinsights
