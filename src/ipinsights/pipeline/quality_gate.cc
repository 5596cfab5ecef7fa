#include "ipinsights/pipeline/quality_gate.h"

#include <fmt/format.h>

#include <cmath>

namespace ipinsights {

GateDecision DecideGate(const QualityGate& gate, double candidate_auc,
                        std::optional<double> current_auc) {
  GateDecision decision;
  if (!std::isfinite(candidate_auc) || candidate_auc < gate.min_auc) {
    decision.reason = fmt::format("candidate AUC {:.4f} is below the floor min_auc {:.4f}",
                                  candidate_auc, gate.min_auc);
    return decision;
  }
  if (current_auc && std::isfinite(*current_auc) &&
      // "At most max_auc_drop below": a drop of exactly that much passes, rounding aside.
      candidate_auc < *current_auc - gate.max_auc_drop - 1e-12) {
    decision.reason = fmt::format(
        "candidate AUC {:.4f} is {:.4f} below the current model's {:.4f} on the same day "
        "(max_auc_drop {:.4f})",
        candidate_auc, *current_auc - candidate_auc, *current_auc, gate.max_auc_drop);
    return decision;
  }
  decision.passed = true;
  decision.reason =
      current_auc && std::isfinite(*current_auc)
          ? fmt::format(
                "candidate AUC {:.4f} vs current {:.4f} (max_auc_drop {:.4f}, floor {:.4f})",
                candidate_auc, *current_auc, gate.max_auc_drop, gate.min_auc)
          : fmt::format("candidate AUC {:.4f} reaches the floor {:.4f} (no current model)",
                        candidate_auc, gate.min_auc);
  return decision;
}

}  // namespace ipinsights
