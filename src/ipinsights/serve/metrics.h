// ServerMetrics: the counters behind GET /metrics (Prometheus text exposition format 0.0.4).
//
// Requests by route and status, a latency histogram per route, pairs scored and requests per
// model, model (re)load outcomes, open connections, access-log write failures. Label values
// are escaped as the text format requires. Counters are relaxed atomics: a scrape
// sees each counter's value at some instant, which is all Prometheus needs.
//
// Thread-safety: every method may be called from any thread.
//
//   metrics.RecordRequest(Route::kInvocations, 200, 0.00021);
//   std::string text = metrics.Render(registry_snapshot_info);
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace ipinsights {

enum class Route {
  kPing,
  kInvocations,
  kEndpointInvocations,
  kExecutionParameters,
  kMetrics,
  kAdminReload,
  kOther,
  kCount
};

const char* RouteName(Route route);

// Per-model counters; one per configured model name, created at start-up.
struct ModelMetrics {
  std::string name;
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> pairs_scored{0};
  std::atomic<uint64_t> load_failures{0};
  std::atomic<uint64_t> loads{0};
  std::atomic<int64_t> loaded_unix_seconds{0};
  std::atomic<bool> last_load_failed{false};
  // Registry models (serve --model NAME=REGISTRY/NAME): the version served, and the polls
  // (--poll-registry) whose `current` pointer could not be read.
  std::atomic<bool> from_registry{false};
  std::atomic<uint64_t> registry_poll_errors{0};

  void SetVersion(std::string version) {
    std::lock_guard<std::mutex> lock(version_mutex_);
    version_ = std::move(version);
  }
  std::string version() const {
    std::lock_guard<std::mutex> lock(version_mutex_);
    return version_;
  }

 private:
  mutable std::mutex version_mutex_;
  std::string version_;  // empty: a model file, not a registry version
};

class ServerMetrics {
 public:
  static constexpr std::array<double, 14> kLatencyBuckets = {
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0};
  // The statuses we answer with; anything else counts as "other".
  static constexpr std::array<int, 14> kStatuses = {200, 202, 400, 401, 403, 404, 405,
                                                    406, 408, 413, 415, 431, 500, 503};

  explicit ServerMetrics(const std::vector<std::string>& model_names);

  void RecordRequest(Route route, int status, double seconds);
  void ConnectionOpened() {
    connections_open_.fetch_add(1, std::memory_order_relaxed);
    connections_total_.fetch_add(1, std::memory_order_relaxed);
  }
  void ConnectionClosed() { connections_open_.fetch_sub(1, std::memory_order_relaxed); }
  void ConnectionRejected() { connections_rejected_.fetch_add(1, std::memory_order_relaxed); }
  // Protocol-level failures the router never sees (unparsable HTTP, timeouts).
  void ProtocolError() { protocol_errors_.fetch_add(1, std::memory_order_relaxed); }
  // An access-log line that could not be written (or flushed) in full.
  void AccessLogError() { access_log_errors_.fetch_add(1, std::memory_order_relaxed); }

  // nullptr for an unknown name.
  ModelMetrics* model(const std::string& name);
  ModelMetrics& model(size_t index) { return *models_[index]; }

  std::string Render() const;

 private:
  static constexpr size_t kRoutes = static_cast<size_t>(Route::kCount);
  static constexpr size_t kStatusSlots = kStatuses.size() + 1;
  static constexpr size_t kBuckets = kLatencyBuckets.size() + 1;  // + Inf

  struct alignas(64) RouteCounters {
    std::array<std::atomic<uint64_t>, kStatusSlots> by_status{};
    std::array<std::atomic<uint64_t>, kBuckets> latency_buckets{};
    std::atomic<uint64_t> latency_sum_ns{0};
  };

  std::array<RouteCounters, kRoutes> routes_;
  std::vector<std::unique_ptr<ModelMetrics>> models_;
  std::atomic<int64_t> connections_open_{0};
  std::atomic<uint64_t> connections_total_{0};
  std::atomic<uint64_t> connections_rejected_{0};
  std::atomic<uint64_t> protocol_errors_{0};
  std::atomic<uint64_t> access_log_errors_{0};
};

// A Prometheus label value with backslash, double quote and newline escaped (text format 0.0.4).
std::string EscapeLabelValue(std::string_view value);

}  // namespace ipinsights
