#include "ipinsights/serve/metrics.h"

#include <fmt/format.h>

namespace ipinsights {

const char* RouteName(Route route) {
  switch (route) {
    case Route::kPing:
      return "/ping";
    case Route::kInvocations:
      return "/invocations";
    case Route::kEndpointInvocations:
      return "/endpoints/{name}/invocations";
    case Route::kExecutionParameters:
      return "/execution-parameters";
    case Route::kMetrics:
      return "/metrics";
    case Route::kAdminReload:
      return "/admin/reload";
    case Route::kOther:
      return "other";
    case Route::kCount:
      break;
  }
  return "other";
}

std::string EscapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

ServerMetrics::ServerMetrics(const std::vector<std::string>& model_names) {
  for (const std::string& name : model_names) {
    auto model = std::make_unique<ModelMetrics>();
    model->name = name;
    models_.push_back(std::move(model));
  }
}

void ServerMetrics::RecordRequest(Route route, int status, double seconds) {
  RouteCounters& counters = routes_[static_cast<size_t>(route)];
  size_t slot = kStatuses.size();
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == status) {
      slot = i;
      break;
    }
  }
  counters.by_status[slot].fetch_add(1, std::memory_order_relaxed);
  size_t bucket = kLatencyBuckets.size();
  for (size_t i = 0; i < kLatencyBuckets.size(); ++i) {
    if (seconds <= kLatencyBuckets[i]) {
      bucket = i;
      break;
    }
  }
  counters.latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  counters.latency_sum_ns.fetch_add(static_cast<uint64_t>(seconds * 1e9),
                                    std::memory_order_relaxed);
}

ModelMetrics* ServerMetrics::model(const std::string& name) {
  for (auto& model : models_) {
    if (model->name == name) return model.get();
  }
  return nullptr;
}

std::string ServerMetrics::Render() const {
  std::string out;
  out.reserve(8192);
  auto load = [](const auto& counter) { return counter.load(std::memory_order_relaxed); };

  out += "# HELP ipinsights_requests_total HTTP requests answered, by route and status.\n";
  out += "# TYPE ipinsights_requests_total counter\n";
  for (size_t r = 0; r < kRoutes; ++r) {
    for (size_t s = 0; s < kStatusSlots; ++s) {
      uint64_t n = load(routes_[r].by_status[s]);
      if (n == 0) continue;
      std::string status = s < kStatuses.size() ? std::to_string(kStatuses[s]) : "other";
      out += fmt::format("ipinsights_requests_total{{route=\"{}\",status=\"{}\"}} {}\n",
                         RouteName(static_cast<Route>(r)), status, n);
    }
  }
  out +=
      "# HELP ipinsights_request_errors_total Requests answered with a 4xx or 5xx status, by "
      "route.\n";
  out += "# TYPE ipinsights_request_errors_total counter\n";
  for (size_t r = 0; r < kRoutes; ++r) {
    uint64_t errors = 0;
    for (size_t s = 0; s < kStatusSlots; ++s) {
      if (s == kStatusSlots - 1 || kStatuses[s] >= 400) errors += load(routes_[r].by_status[s]);
    }
    out += fmt::format("ipinsights_request_errors_total{{route=\"{}\"}} {}\n",
                       RouteName(static_cast<Route>(r)), errors);
  }
  out +=
      "# HELP ipinsights_request_duration_seconds Time from a complete request to its response, by "
      "route.\n";
  out += "# TYPE ipinsights_request_duration_seconds histogram\n";
  for (size_t r = 0; r < kRoutes; ++r) {
    const char* route = RouteName(static_cast<Route>(r));
    uint64_t cumulative = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      cumulative += load(routes_[r].latency_buckets[b]);
      std::string le = b < kLatencyBuckets.size() ? fmt::format("{}", kLatencyBuckets[b]) : "+Inf";
      out +=
          fmt::format("ipinsights_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n",
                      route, le, cumulative);
    }
    out += fmt::format("ipinsights_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route,
                       static_cast<double>(load(routes_[r].latency_sum_ns)) * 1e-9);
    out += fmt::format("ipinsights_request_duration_seconds_count{{route=\"{}\"}} {}\n", route,
                       cumulative);
  }
  out += "# HELP ipinsights_model_requests_total Scoring requests answered 200, by model.\n";
  out += "# TYPE ipinsights_model_requests_total counter\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_requests_total{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->requests));
  out += "# HELP ipinsights_pairs_scored_total (entity, ip) pairs scored, by model.\n";
  out += "# TYPE ipinsights_pairs_scored_total counter\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_pairs_scored_total{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->pairs_scored));
  out +=
      "# HELP ipinsights_model_loads_total Successful loads of the model file (start-up and "
      "reloads).\n";
  out += "# TYPE ipinsights_model_loads_total counter\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_loads_total{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->loads));
  out +=
      "# HELP ipinsights_model_load_failures_total Failed reloads (the previous model kept "
      "serving).\n";
  out += "# TYPE ipinsights_model_load_failures_total counter\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_load_failures_total{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->load_failures));
  out +=
      "# HELP ipinsights_model_last_load_failed 1 when the latest load attempt of the model "
      "failed.\n";
  out += "# TYPE ipinsights_model_last_load_failed gauge\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_last_load_failed{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->last_load_failed) ? 1 : 0);
  out +=
      "# HELP ipinsights_model_loaded_timestamp_seconds When the serving model was loaded (Unix "
      "time).\n";
  out += "# TYPE ipinsights_model_loaded_timestamp_seconds gauge\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_loaded_timestamp_seconds{{model=\"{}\"}} {}\n",
                       EscapeLabelValue(model->name), load(model->loaded_unix_seconds));
  out +=
      "# HELP ipinsights_model_info The model each name serves: its registry version (empty for "
      "a model file).\n";
  out += "# TYPE ipinsights_model_info gauge\n";
  for (const auto& model : models_)
    out += fmt::format("ipinsights_model_info{{model=\"{}\",version=\"{}\"}} 1\n",
                       EscapeLabelValue(model->name), EscapeLabelValue(model->version()));
  bool any_registry = false;
  for (const auto& model : models_) any_registry |= load(model->from_registry);
  if (any_registry) {
    out +=
        "# HELP ipinsights_registry_poll_errors_total Reads of a registry model's current "
        "pointer that failed (the served version stayed).\n";
    out += "# TYPE ipinsights_registry_poll_errors_total counter\n";
    for (const auto& model : models_) {
      if (!load(model->from_registry)) continue;
      out += fmt::format("ipinsights_registry_poll_errors_total{{model=\"{}\"}} {}\n",
                         EscapeLabelValue(model->name), load(model->registry_poll_errors));
    }
  }
  out += "# HELP ipinsights_connections_open Open client connections.\n";
  out += "# TYPE ipinsights_connections_open gauge\n";
  out += fmt::format("ipinsights_connections_open {}\n", load(connections_open_));
  out += "# HELP ipinsights_connections_total Client connections accepted.\n";
  out += "# TYPE ipinsights_connections_total counter\n";
  out += fmt::format("ipinsights_connections_total {}\n", load(connections_total_));
  out +=
      "# HELP ipinsights_connections_rejected_total Connections closed at once because of the "
      "connection cap.\n";
  out += "# TYPE ipinsights_connections_rejected_total counter\n";
  out += fmt::format("ipinsights_connections_rejected_total {}\n", load(connections_rejected_));
  out +=
      "# HELP ipinsights_protocol_errors_total Connections dropped for malformed HTTP or read "
      "timeouts.\n";
  out += "# TYPE ipinsights_protocol_errors_total counter\n";
  out += fmt::format("ipinsights_protocol_errors_total {}\n", load(protocol_errors_));
  out +=
      "# HELP ipinsights_access_log_errors_total Access-log lines that could not be written in "
      "full.\n";
  out += "# TYPE ipinsights_access_log_errors_total counter\n";
  out += fmt::format("ipinsights_access_log_errors_total {}\n", load(access_log_errors_));
  return out;
}

}  // namespace ipinsights
