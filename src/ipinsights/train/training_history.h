// The entity history `train` keeps with the model (history/entity_history.h): found beside
// the training channel, where `prepare` wrote it (HistoryLocationFor of the file, or of each
// part of a folder, in channel order), and completed after training with each entity's own
// scores.
//
// Thread-safety: free functions; FillScoreSummaries runs `threads` workers.
//
//   std::string missing;
//   std::vector<std::string> found = HistoriesBeside("s3://b/train/", &missing);
//   HistoryBuilder builder;
//   for (const std::string& location : found) builder.Merge(ReadHistoryFile(location));
//   EntityHistory history = std::move(builder).Finish();
//   FillScoreSummaries(*model, &training_set.rows, &history, 0);
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "ipinsights/history/entity_history.h"
#include "ipinsights/model/model_impl.h"
#include "ipinsights/train/training_set.h"

namespace ipinsights {

// The history locations of the channel's objects, in channel order; empty when one of them
// has none (then *missing names that object), or the channel is stdin. Throws Error when the
// channel cannot be listed.
std::vector<std::string> HistoriesBeside(const std::string& channel, std::string* missing);

// Sets every record's score_min / score_p05 / score_p50: the entity's training events
// (`training_rows`, each row one event) scored by the model, so "below every training event"
// means every one, not only the kept addresses'. An entity without rows there falls back to
// its kept addresses, each weighted by its events. Reorders the rows (grouped by entity
// hash); takes 4 bytes per row besides.
void FillScoreSummaries(const Model::Impl& model, std::vector<TrainingRow>* training_rows,
                        EntityHistory* history, size_t threads);

}  // namespace ipinsights
