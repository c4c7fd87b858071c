//===- Checkpoint.h - atomic training checkpoints ---------------*- C++ -*-===//
//
// A checkpoint is a directory DIR/step-<N>/ holding state.safetensors (every
// named tensor of the training state: parameters, buffers, optimizer state)
// and manifest.json (step, epoch, position in the epoch, seed, a CRC-32 of
// every tensor's bytes, and anything else the runner records), plus
// DIR/latest naming the newest one.
//
// Writing is crash-safe: the step directory is filled under a temporary
// name, every file and the directory are fsynced, then it is renamed into
// place and DIR is fsynced; `latest` is replaced the same way. A writer
// killed at any point leaves the previous checkpoint loadable, and readers
// never see a half-written one.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_CHECKPOINT_H
#define ACCEL_RUNTIME_IO_CHECKPOINT_H

#include "runtime/io/Safetensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace accel::io {

struct CheckpointManifest {
  int64_t step = 0;
  int64_t epoch = 0;
  int64_t batchInEpoch = 0; // the next batch to draw in `epoch`
  uint64_t seed = 0;
  /// Anything else the runner keeps (learning-rate schedule, metrics).
  llvm::json::Object extra;
};

/// Writes the checkpoint of `manifest.step` under `directory` (created if
/// needed) and points `latest` at it.
llvm::Error writeCheckpoint(llvm::StringRef directory,
                            llvm::ArrayRef<TensorRef> tensors,
                            const CheckpointManifest &manifest);

/// A manifest as read: the positions, and the CRC-32 of each tensor (none
/// for checkpoints written before checksums).
struct ParsedManifest {
  CheckpointManifest manifest;
  std::optional<std::map<std::string, uint32_t>> crc32;
};

/// Parses and checks manifest.json's `text` from the checkpoint directory
/// named `directoryName` (step-<N>[.<k>]): bounded JSON, the fields
/// present, the step its directory's, no negative position. `source` names
/// the file in errors.
llvm::Expected<ParsedManifest> parseManifest(llvm::StringRef text,
                                             llvm::StringRef directoryName,
                                             llvm::StringRef source);

struct Checkpoint {
  std::string path; // the step directory
  CheckpointManifest manifest;
  SafetensorsFile state;
};

/// Reads the checkpoint `latest` names, validating the manifest (its step
/// is its directory's, no position is negative) and the state file (every
/// tensor's CRC-32 is the manifest's; checkpoints written before checksums
/// have none to check).
llvm::Expected<Checkpoint> readLatestCheckpoint(llvm::StringRef directory);

/// The newest checkpoint under `directory` that reads back intact: the one
/// `latest` names, else the step directories from the highest step down.
/// `rejected` gets one message per checkpoint passed over (corrupt,
/// inconsistent or unreadable); the error, when none is intact, lists them.
llvm::Expected<Checkpoint>
readNewestIntactCheckpoint(llvm::StringRef directory,
                           std::vector<std::string> &rejected);

/// Removes all but the newest `keep` checkpoints (by step) under
/// `directory`, never the one `latest` names. Call it after a checkpoint is
/// committed, so that an intact one always remains.
llvm::Error pruneCheckpoints(llvm::StringRef directory, unsigned keep);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_CHECKPOINT_H
