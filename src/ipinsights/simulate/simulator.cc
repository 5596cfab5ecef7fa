#include "ipinsights/simulate/simulator.h"

#include <fmt/format.h>
#include <libdeflate.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>

#include "ipinsights/base/error.h"
#include "ipinsights/base/parallel.h"
#include "ipinsights/dataset/pair_csv_writer.h"
#include "ipinsights/simulate/asn_population.h"
#include "ipinsights/simulate/cloudtrail_format.h"
#include "ipinsights/simulate/network_table.h"
#include "ipinsights/simulate/object_writer.h"
#include "ipinsights/simulate/population.h"
#include "ipinsights/simulate/record_text.h"
#include "ipinsights/simulate/waf_format.h"
#include "ipinsights/storage/storage.h"

namespace ipinsights {
namespace {

using simulate::AttackKind;
using simulate::DeliveredObject;
using simulate::DeriveSeed;
using simulate::EventKind;
using simulate::Rng;
using simulate::SimulatedEvent;

constexpr uint64_t kTagEvents = 0x6576656e;   // "even"
constexpr uint64_t kTagAttacks = 0x61747461;  // "atta"
constexpr uint64_t kTagWindows = 0x77696e64;  // "wind"
constexpr uint64_t kTagObjects = 0x6f626a65;  // "obje"
constexpr uint64_t kTagDigests = 0x64696765;  // "dige"
constexpr size_t kEntitiesPerBlock = 256;
constexpr int64_t kDayMs = 86400000;

// Average uncompressed record sizes, measured on the generators (for --target-mb).
constexpr double kCloudTrailRecordBytes = 1360;
constexpr double kWafRecordBytes = 1620;

struct DeflateCompressor {
  explicit DeflateCompressor(int level) : handle(libdeflate_alloc_compressor(level)) {
    if (!handle) throw Error("simulate: cannot allocate a gzip compressor");
  }
  ~DeflateCompressor() { libdeflate_free_compressor(handle); }
  DeflateCompressor(const DeflateCompressor&) = delete;
  DeflateCompressor& operator=(const DeflateCompressor&) = delete;

  void Gzip(std::string_view in, std::string& out) {
    out.resize(libdeflate_gzip_compress_bound(handle, in.size()));
    const size_t size =
        libdeflate_gzip_compress(handle, in.data(), in.size(), out.data(), out.size());
    if (size == 0) throw Error("simulate: gzip compression failed");
    out.resize(size);
  }
  libdeflate_compressor* handle;
};

std::string Sha256Hex(std::string_view data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
    throw Error("simulate: SHA-256 failed");
  }
  std::string hex;
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(simulate::kHexLower[digest[i] >> 4]);
    hex.push_back(simulate::kHexLower[digest[i] & 15]);
  }
  return hex;
}

// Concurrent writes that hide per-file fsync latency; 8 is plenty for local disks and S3.
constexpr size_t kIoThreads = 8;
constexpr size_t kMaxPendingBytes = 64u << 20;

// How many of `total` attacks each kind gets: an equal share for random_ip and each of the
// format's targeted kinds, the remainder to random_ip (first).
std::vector<std::pair<AttackKind, uint64_t>> SplitAttacks(uint64_t total,
                                                          const std::vector<AttackKind>& targeted) {
  const uint64_t share = total / (targeted.size() + 1);
  std::vector<std::pair<AttackKind, uint64_t>> split;
  split.emplace_back(AttackKind::kRandomIp, total - share * targeted.size());
  for (AttackKind kind : targeted) split.emplace_back(kind, share);
  return split;
}

// The entities a targeted attack may use: the format's identities of that kind that had a
// pair before the last day (so the training history knows them), with cumulative rates for
// a draw weighted like their activity.
struct Victims {
  std::vector<uint32_t> entities;
  std::vector<double> cumulative_rate;
  uint32_t Draw(Rng& rng) const {
    const double target = rng.Uniform() * cumulative_rate.back();
    const size_t i = static_cast<size_t>(
        std::upper_bound(cumulative_rate.begin(), cumulative_rate.end(), target) -
        cumulative_rate.begin());
    return entities[std::min(i, entities.size() - 1)];
  }
};

Victims FindVictims(const simulate::PopulationModel& population, const simulate::LogFormat& format,
                    const std::vector<uint8_t>& seen_before, AttackKind kind) {
  Victims victims;
  double running = 0;
  for (uint32_t e = 0; e < population.size(); ++e) {
    if (!seen_before[e] || !format.Targetable(e, kind)) continue;
    running += population.rate(e);
    victims.entities.push_back(e);
    victims.cumulative_rate.push_back(running);
  }
  return victims;
}

// Per-object results, kept per object so totals do not depend on scheduling.
struct ObjectResult {
  uint64_t records = 0;
  uint64_t bytes = 0;
  uint64_t stored_bytes = 0;
  uint64_t pairs = 0;
  uint64_t ipv6_pairs = 0;
  uint64_t aws_service = 0;
  uint64_t not_an_ip = 0;
  uint64_t no_entity = 0;
  uint64_t attacks = 0;
  uint64_t label_rows = 0;
  std::string labels;  // CSV rows (last day only)
  DeliveredObject delivered;
};

void ValidateOptions(const SimulateOptions& options) {
  if (options.out.empty()) throw UsageError("simulate: --out is required");
  if (options.days < 1 || options.days > 3660)
    throw UsageError("simulate: --days must be in 1..3660");
  if (options.ipv6_fraction < 0 || options.ipv6_fraction > 1) {
    throw UsageError("simulate: --ipv6-fraction must be in 0..1");
  }
  if (options.target_mb < 0 || options.target_mb > 10'000'000) {
    throw UsageError("simulate: --target-mb must be in 0..10000000");
  }
  if (!(options.events_per_user_per_day > 0) || options.events_per_user_per_day > 100000) {
    throw UsageError("simulate: --events-per-day must be in (0, 100000]");
  }
  if (options.attacks > 100'000'000)
    throw UsageError("simulate: --attacks must be at most 100,000,000");
  if (options.users > 50'000'000) throw UsageError("simulate: --users must be at most 50,000,000");
  if (options.compression_level < 0 || options.compression_level > 12) {
    throw UsageError("simulate: compression level must be in 0..12");
  }
  if (options.kind == LogKind::kWaf && !options.prefix.empty() && options.prefix.front() == '/') {
    throw UsageError("simulate: --prefix must be relative (\"" + options.prefix + "\")");
  }
}

}  // namespace

SimulateSummary Simulate(const SimulateOptions& options_in, Progress* progress) {
  const auto started = std::chrono::steady_clock::now();
  SimulateOptions options = options_in;
  ValidateOptions(options);
  const bool cloudtrail = options.kind == LogKind::kCloudTrail;

  // Size the population: --target-mb scales the users (or, with --users, their activity).
  if (options.target_mb > 0) {
    const double record_bytes = cloudtrail ? kCloudTrailRecordBytes : kWafRecordBytes;
    const double records = options.target_mb * 1e6 / record_bytes;
    if (options.users == 0) {
      options.users = static_cast<size_t>(
          std::max(10.0, std::round(records / (options.days * options.events_per_user_per_day))));
    } else {
      options.events_per_user_per_day =
          records / (static_cast<double>(options.users) * options.days);
    }
  }
  if (options.users == 0) options.users = 1000;
  const size_t threads = options.threads == 0 ? HardwareThreads() : options.threads;

  Storage& storage = OpenStorage(options.out);
  if (storage.Exists(options.out) && !storage.List(options.out).empty()) {
    throw UsageError("simulate: " + options.out +
                     " is not empty; simulate writes into a new or empty folder so labels.csv "
                     "matches the logs beside it");
  }

  const size_t network_count = std::clamp<size_t>(options.users / 2, 500, 40000);
  std::unique_ptr<simulate::NetworkTable> networks;
  std::unique_ptr<simulate::AsnTable> asn_table;
  std::unique_ptr<simulate::PopulationModel> population_model;
  if (options.population == PopulationKind::kAsn) {
    asn_table = std::make_unique<simulate::AsnTable>(options.seed, network_count);
    simulate::AsnPopulationOptions population_options;
    population_options.seed = options.seed;
    population_options.entities = options.users;
    population_options.mean_events_per_day = options.events_per_user_per_day;
    population_model = std::make_unique<simulate::AsnPopulation>(*asn_table, population_options);
  } else {
    networks = std::make_unique<simulate::NetworkTable>(options.seed, network_count, 0.3);
    simulate::PopulationOptions population_options;
    population_options.seed = options.seed;
    population_options.entities = options.users;
    population_options.mean_events_per_day = options.events_per_user_per_day;
    population_options.ipv6_fraction = options.ipv6_fraction;
    population_options.attack_ipv6 = std::clamp(options.ipv6_fraction, 0.02, 0.98);
    population_model = std::make_unique<simulate::Population>(*networks, population_options);
  }
  const simulate::PopulationModel& population = *population_model;
  std::unique_ptr<simulate::LogFormat> format;
  if (cloudtrail) {
    format = std::make_unique<simulate::CloudTrailFormat>(population, options.seed);
  } else {
    format = std::make_unique<simulate::WafFormat>(population, options.seed, options.prefix,
                                                   options.gzip);
  }

  SimulateSummary summary;
  summary.kind = cloudtrail ? "cloudtrail" : "waf";
  summary.population = PopulationName(options.population);
  summary.users = options.users;
  summary.networks = population.network_count();
  summary.days = options.days;
  summary.labels_path = JoinLocation(options.out, "labels.csv");
  if (progress) {
    double expected = 0;
    for (size_t e = 0; e < population.size(); ++e)
      expected += population.rate(static_cast<uint32_t>(e));
    progress->SetTotal(static_cast<uint64_t>(expected * options.days) + options.attacks);
  }

  simulate::ObjectWriter writer(storage, kIoThreads, kMaxPendingBytes);
  std::vector<std::unique_ptr<DeflateCompressor>> compressors(threads);
  std::vector<std::string> json_buffers(threads);
  std::string labels = "entity,ip,label,oracle_score,kind\n";
  // Entities with a pair before the last day (targeted attacks use only those). One byte per
  // entity: each entity is sampled by one worker, so the writes never share an element.
  std::vector<uint8_t> seen_before(population.size(), 0);
  const int64_t first_day = DaysFromCivil(options.start);
  const size_t partitions = format->partition_count();
  const size_t blocks = (population.size() + kEntitiesPerBlock - 1) / kEntitiesPerBlock;

  for (int day = 0; day < options.days; ++day) {
    const int64_t day_start_ms = (first_day + day) * kDayMs;
    const bool last_day = day == options.days - 1;

    // 1. Sample the day's events, entity by entity.
    std::vector<std::vector<SimulatedEvent>> block_events(blocks);
    ParallelFor(blocks, threads, [&](size_t block, size_t) {
      std::vector<SimulatedEvent>& events = block_events[block];
      const size_t end = std::min(population.size(), (block + 1) * kEntitiesPerBlock);
      for (size_t e = block * kEntitiesPerBlock; e < end; ++e) {
        const uint32_t entity = static_cast<uint32_t>(e);
        Rng rng(DeriveSeed(options.seed, kTagEvents, static_cast<uint64_t>(day), e));
        const uint64_t count = rng.Poisson(population.rate(entity));
        for (uint64_t i = 0; i < count; ++i) {
          SimulatedEvent event;
          event.entity = entity;
          event.time_ms = day_start_ms + static_cast<int64_t>(rng.Below(kDayMs));
          format->Classify(entity, rng, event);
          if (event.kind == EventKind::kPair || event.kind == EventKind::kNoEntity) {
            event.ip = population.SampleAddress(entity, day, rng);
          }
          if (!last_day && event.kind == EventKind::kPair) seen_before[e] = 1;
          events.push_back(event);
        }
      }
    });
    std::vector<SimulatedEvent> events;
    {
      size_t total = 0;
      for (const auto& b : block_events) total += b.size();
      events.reserve(total + (last_day ? options.attacks : 0));
      for (auto& b : block_events) {
        events.insert(events.end(), b.begin(), b.end());
        std::vector<SimulatedEvent>().swap(b);
      }
    }

    // 2. Attacks. random_ip: a known entity, drawn like the day's normal pairs (so the entity
    // mix is the same in both classes), with an address from the attack distribution.
    // Targeted kinds: an identity of that kind seen before today, drawn by its rate, from an
    // attack-distribution address outside its own networks; its record is the format's
    // normal record for it (only the address differs). A targeted kind without such an
    // identity (tiny populations, one day) gives its share to random_ip.
    if (last_day) {
      std::vector<std::pair<AttackKind, uint64_t>> split =
          SplitAttacks(options.attacks, format->targeted_attack_kinds());
      std::vector<Victims> victims(split.size());
      for (size_t k = 1; k < split.size(); ++k) {
        victims[k] = FindVictims(population, *format, seen_before, split[k].first);
        if (victims[k].entities.empty()) {
          split[0].second += split[k].second;
          split[k].second = 0;
        }
      }
      std::vector<uint32_t> pair_events;
      for (size_t i = 0; i < events.size(); ++i) {
        if (events[i].kind == EventKind::kPair) pair_events.push_back(static_cast<uint32_t>(i));
      }
      for (size_t k = 0; k < split.size(); ++k) {
        const AttackKind kind = split[k].first;
        // random_ip keeps the stream it always had; each targeted kind has its own.
        Rng rng(k == 0 ? DeriveSeed(options.seed, kTagAttacks)
                       : DeriveSeed(options.seed, kTagAttacks, static_cast<uint64_t>(kind)));
        for (uint64_t a = 0; a < split[k].second; ++a) {
          SimulatedEvent attack;
          if (k > 0) {
            attack.entity = victims[k].Draw(rng);
          } else {
            attack.entity = pair_events.empty()
                                ? static_cast<uint32_t>(rng.Below(population.size()))
                                : events[pair_events[rng.Below(pair_events.size())]].entity;
          }
          attack.time_ms = day_start_ms + static_cast<int64_t>(rng.Below(kDayMs));
          format->Classify(attack.entity, rng, attack);
          attack.kind = EventKind::kPair;
          attack.label = 1;
          attack.attack = kind;
          attack.ip = k > 0 ? population.SampleAttackOutside(attack.entity, rng)
                            : population.SampleAttack(rng);
          events.push_back(attack);
        }
        summary.attacks_by_kind.emplace_back(std::string(simulate::AttackKindName(kind)),
                                             split[k].second);
      }
    }
    for (size_t i = 0; i < events.size(); ++i) events[i].sequence = static_cast<uint32_t>(i);

    // 3. Delivery windows per partition, and a counting sort of the events into them.
    std::vector<std::vector<int64_t>> window_ends(partitions);
    std::vector<size_t> window_offset(partitions + 1, 0);
    for (size_t p = 0; p < partitions; ++p) {
      Rng rng(DeriveSeed(options.seed, kTagWindows, static_cast<uint64_t>(day), p));
      int64_t t = 0;
      const int span = format->window_max_seconds() - format->window_min_seconds();
      while (t < kDayMs) {
        t += (format->window_min_seconds() +
              static_cast<int64_t>(rng.Below(static_cast<uint64_t>(span) + 1))) *
             1000;
        window_ends[p].push_back(std::min(t, kDayMs));
      }
      window_offset[p + 1] = window_offset[p] + window_ends[p].size();
    }
    const size_t windows = window_offset[partitions];
    std::vector<uint32_t> window_of(events.size());
    std::vector<size_t> window_start(windows + 1, 0);
    for (size_t i = 0; i < events.size(); ++i) {
      const std::vector<int64_t>& ends = window_ends[events[i].partition];
      const int64_t t = events[i].time_ms - day_start_ms;
      const size_t w =
          static_cast<size_t>(std::upper_bound(ends.begin(), ends.end(), t) - ends.begin());
      window_of[i] =
          static_cast<uint32_t>(window_offset[events[i].partition] + std::min(w, ends.size() - 1));
      ++window_start[window_of[i] + 1];
    }
    for (size_t w = 0; w < windows; ++w) window_start[w + 1] += window_start[w];
    std::vector<SimulatedEvent> sorted(events.size());
    {
      std::vector<size_t> fill(window_start.begin(), window_start.end() - 1);
      for (size_t i = 0; i < events.size(); ++i) sorted[fill[window_of[i]]++] = events[i];
    }
    std::vector<SimulatedEvent>().swap(events);
    std::vector<uint32_t>().swap(window_of);
    ParallelFor(windows, threads, [&](size_t w, size_t) {
      std::stable_sort(
          sorted.begin() + static_cast<ptrdiff_t>(window_start[w]),
          sorted.begin() + static_cast<ptrdiff_t>(window_start[w + 1]),
          [](const SimulatedEvent& a, const SimulatedEvent& b) { return a.time_ms < b.time_ms; });
    });

    // 4. Objects: each window, split where it holds more than an object takes.
    struct ObjectSpan {
      size_t begin;
      size_t end;
    };
    std::vector<ObjectSpan> objects;
    const size_t max_records = format->max_records_per_object();
    for (size_t w = 0; w < windows; ++w) {
      const size_t count = window_start[w + 1] - window_start[w];
      if (count == 0) continue;
      const size_t pieces = (count + max_records - 1) / max_records;
      for (size_t k = 0; k < pieces; ++k) {
        objects.push_back(
            {window_start[w] + count * k / pieces, window_start[w] + count * (k + 1) / pieces});
      }
    }

    // 5. Format, compress, write.
    std::vector<ObjectResult> results(objects.size());
    ParallelFor(objects.size(), threads, [&](size_t index, size_t worker) {
      const ObjectSpan span = objects[index];
      const SimulatedEvent* first = sorted.data() + span.begin;
      const size_t count = span.end - span.begin;
      ObjectResult& result = results[index];
      Rng rng(DeriveSeed(options.seed, kTagObjects, static_cast<uint64_t>(day), index));
      const std::string key = format->ObjectKey(first, count, rng);
      std::string& json = json_buffers[worker];
      json.clear();
      format->AppendObject(first, count, rng, json);
      result.records = count;
      result.bytes = json.size();
      std::string stored = writer.TakeBuffer();
      if (format->compressed()) {
        if (!compressors[worker])
          compressors[worker] = std::make_unique<DeflateCompressor>(options.compression_level);
        compressors[worker]->Gzip(json, stored);
      } else {
        stored.swap(json);  // the worker's next object starts in the recycled buffer
      }
      result.stored_bytes = stored.size();
      if (cloudtrail) {
        result.delivered = {first->partition, key, first->time_ms, first[count - 1].time_ms,
                            Sha256Hex(stored)};
      }
      writer.Submit(JoinLocation(options.out, key), std::move(stored));
      for (size_t i = 0; i < count; ++i) {
        const SimulatedEvent& event = first[i];
        switch (event.kind) {
          case EventKind::kPair:
            break;
          case EventKind::kAwsService:
            ++result.aws_service;
            continue;
          case EventKind::kNoEntity:
            ++result.no_entity;
            continue;
          default:
            ++result.not_an_ip;
            continue;
        }
        ++result.pairs;
        if (!event.ip.is_v4()) ++result.ipv6_pairs;
        result.attacks += event.label;
        if (!last_day) continue;
        ++result.label_rows;
        AppendCsvField(format->EntityName(event.entity), &result.labels);
        result.labels.push_back(',');
        simulate::AppendIp(result.labels, event.ip);
        result.labels += event.label ? ",1," : ",0,";
        fmt::format_to(std::back_inserter(result.labels), "{:.6f},{}\n",
                       population.OracleScore(event.entity, day, event.ip),
                       simulate::AttackKindName(event.label ? event.attack : AttackKind::kNormal));
      }
      if (progress) progress->Add(count);
    });

    uint64_t day_pairs = 0;
    std::vector<DeliveredObject> delivered;
    for (ObjectResult& result : results) {
      summary.records += result.records;
      summary.bytes += result.bytes;
      summary.stored_bytes += result.stored_bytes;
      summary.pairs += result.pairs;
      summary.ipv6_pairs += result.ipv6_pairs;
      summary.skipped_aws_service += result.aws_service;
      summary.skipped_not_an_ip += result.not_an_ip;
      summary.skipped_no_entity += result.no_entity;
      summary.attacks += result.attacks;
      summary.label_rows += result.label_rows;
      day_pairs += result.pairs;
      labels += result.labels;
      if (cloudtrail) delivered.push_back(std::move(result.delivered));
    }
    summary.files += objects.size();
    summary.pairs_per_day.push_back(day_pairs);

    // 6. Digest files (CloudTrail), small: written here, in order.
    Rng digest_rng(DeriveSeed(options.seed, kTagDigests, static_cast<uint64_t>(day)));
    std::vector<std::pair<std::string, std::string>> digests =
        format->Digests(delivered, day_start_ms, digest_rng);
    if (!digests.empty()) {
      DeflateCompressor compressor(options.compression_level);
      for (const auto& [key, body] : digests) {
        std::string compressed;
        compressor.Gzip(body, compressed);
        summary.stored_bytes += compressed.size();
        ++summary.digest_files;
        writer.Submit(JoinLocation(options.out, key), std::move(compressed));
      }
    }
  }

  summary.stored_bytes += labels.size();
  writer.Submit(summary.labels_path, std::move(labels));
  writer.Finish();
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

const char* PopulationName(PopulationKind kind) {
  return kind == PopulationKind::kAsn ? "asn" : "networks";
}

std::string SummaryJson(const SimulateSummary& s) {
  std::string per_day;
  for (size_t i = 0; i < s.pairs_per_day.size(); ++i) {
    if (i) per_day += ",";
    per_day += std::to_string(s.pairs_per_day[i]);
  }
  std::string labels_path;
  AppendJsonString(&labels_path, s.labels_path);
  std::string by_kind;
  for (const auto& [kind, count] : s.attacks_by_kind) {
    if (!by_kind.empty()) by_kind += ",";
    by_kind += fmt::format("\"{}\":{}", kind, count);
  }
  return fmt::format(
      "{{\"kind\":\"{}\",\"population\":\"{}\",\"users\":{},\"networks\":{},\"days\":{},\"files\":{"
      "},\"digest_files\":{},"
      "\"records\":{},\"bytes\":{},\"stored_bytes\":{},\"pairs\":{},\"ipv6_pairs\":{},\"pairs_per_"
      "day\":[{}],"
      "\"attacks\":{},\"attacks_by_kind\":{{{}}},\"label_rows\":{},\"labels\":{},\"skipped\":{{"
      "\"aws_service\":{},\"not_an_"
      "ip\":{},"
      "\"no_entity\":{}}},\"seconds\":{:.3f},\"mb_per_second\":{:.1f}}}",
      s.kind, s.population, s.users, s.networks, s.days, s.files, s.digest_files, s.records,
      s.bytes, s.stored_bytes, s.pairs, s.ipv6_pairs, per_day, s.attacks, by_kind, s.label_rows,
      labels_path, s.skipped_aws_service, s.skipped_not_an_ip, s.skipped_no_entity, s.seconds,
      s.seconds > 0 ? s.bytes / 1e6 / s.seconds : 0.0);
}

}  // namespace ipinsights
