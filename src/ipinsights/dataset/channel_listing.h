// ListChannel: the objects a training channel (`train --train/--validation`, `evaluate
// --test`) reads, in the order it reads them, as a SageMaker channel does: a file, or every
// object under a folder or s3:// prefix.
//
// Under a folder, the part files of a sharded `prepare` (dataset/shard.h: part-I-of-N) are
// read in the order of their index, padded or not (part-2-of-12 before part-10-of-12), so the
// channel reads the rows of the unsharded output in its order; other objects in name order.
// Their summaries (*.summary.json), the entity histories beside the data (*.history,
// history/entity_history.h), dot-files and writers' temp files are not data and are
// skipped. A folder's parts must be one whole run: parts of different counts, or a missing
// or repeated index, throw Error naming the folder and the part (a shard that did not finish
// would otherwise train on part of the data without a word).
//
// Thread-safety: a pure function over Storage (which is thread-safe).
//
//   for (const ObjectInfo& object : ListChannel("s3://bucket/train/")) Read(object.location);
#pragma once

#include <string>
#include <vector>

#include "ipinsights/storage/storage.h"

namespace ipinsights {

// Throws Error when the location does not exist (the storage's message) or its parts are
// not one whole run.
std::vector<ObjectInfo> ListChannel(const std::string& location);

}  // namespace ipinsights
