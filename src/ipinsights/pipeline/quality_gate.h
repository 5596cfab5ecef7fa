// DecideGate: whether a trained candidate may replace the model in service. Both AUCs come
// from the same held-out day and the same generated anomalies, so they compare like with
// like: the candidate must reach the gate's floor and may not fall more than max_auc_drop
// below the current model. With no current model (the first run) only the floor applies.
//
// Thread-safety: a pure function.
//
//   GateDecision decision = DecideGate(job.gate, 0.93, 0.94);
//   if (!decision.passed) log(decision.reason);
#pragma once

#include <optional>
#include <string>

#include "ipinsights/pipeline/pipeline_config.h"

namespace ipinsights {

struct GateDecision {
  bool passed = false;
  std::string reason;  // one sentence with the figures, for passed and refused alike
};

GateDecision DecideGate(const QualityGate& gate, double candidate_auc,
                        std::optional<double> current_auc);

}  // namespace ipinsights
