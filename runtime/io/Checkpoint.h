//===- Checkpoint.h - atomic training checkpoints ---------------*- C++ -*-===//
//
// A checkpoint is a directory DIR/step-<N>/ holding the training state
// (parameters, buffers, optimizer state) in safetensors files and
// manifest.json (step, epoch, position in the epoch, seed, and where each
// tensor lies, with a CRC-32 of every part), plus DIR/latest naming the
// newest one.
//
// One rank, or ranks that all hold the whole state (DDP), write one file,
// state.safetensors, of whole tensors. Ranks that shard the state (ZeRO,
// FSDP) write one file each, rank-<r>-of-<N>.safetensors: the tensors they
// hold whole (rank 0 only) and their shard of each sharded tensor, the flat
// row-major elements [r·s, (r+1)·s) of the whole tensor, s = ⌈n/N⌉, without
// the padding. The manifest records every part, so a checkpoint is read
// back as whole tensors, or as any flat range of one, whatever the rank
// count and strategy that wrote it.
//
// Writing is crash-safe: the step directory is filled under a temporary
// name, every file and the directory are fsynced, each file is read back
// and checksummed by its writer, then the manifest is written, the directory
// renamed into place and DIR fsynced; `latest` is replaced the same way. A
// writer killed at any point leaves the previous checkpoint loadable, and
// readers never see a half-written one.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_CHECKPOINT_H
#define ACCEL_RUNTIME_IO_CHECKPOINT_H

#include "runtime/io/Safetensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"
#include "llvm/Support/JSON.h"

#include <cstdint>
#include <functional>
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

/// The flat (row-major) elements [begin, end) of a state tensor, stored in
/// the checkpoint's file `file` under the tensor's name.
struct TensorPart {
  int64_t file = 0;
  int64_t begin = 0, end = 0;
  uint32_t crc32 = 0; // of the part's bytes; set when committed
};

/// A tensor of the training state and where its parts lie.
struct StateTensor {
  std::string name;
  /// param, buffer, opt_state or fp8_state; empty in checkpoints written
  /// before roles were recorded.
  std::string role;
  DType dtype = DType::F32;
  std::vector<int64_t> shape; // the whole tensor's
  /// Ascending, contiguous, covering every element: one part for a tensor
  /// stored whole.
  std::vector<TensorPart> parts;

  int64_t numElements() const;
  /// Whether the tensor is stored whole, in one file, under its shape;
  /// otherwise each part is 1-D.
  bool whole() const { return parts.size() == 1; }
};

struct CheckpointLayout {
  int64_t ranks = 1; // 0: not recorded (written before layouts)
  std::string strategy; // ddp, zero1, zero2, fsdp; empty for one rank
  std::vector<std::string> files;
  std::vector<StateTensor> tensors;

  const StateTensor *find(llvm::StringRef name) const;
};

/// What a rank-local state tensor is for `checkpointLayout`: whole (held by
/// every rank, written by rank 0) or `sharded` over the ranks.
struct StateTensorSpec {
  std::string name, role;
  DType dtype;
  std::vector<int64_t> shape; // the whole tensor's
  bool sharded = false;
};

/// The layout `ranks` ranks write `tensors` in: one state.safetensors when
/// none is sharded, else one file per rank (shards of ⌈n/N⌉ elements, whole
/// tensors in rank 0's).
CheckpointLayout checkpointLayout(llvm::ArrayRef<StateTensorSpec> tensors,
                                  int64_t ranks, llvm::StringRef strategy);

/// A part's bytes, from the writer's memory.
using PartBytes =
    llvm::function_ref<llvm::ArrayRef<uint8_t>(const StateTensor &,
                                               const TensorPart &)>;

/// Writing one checkpoint in three steps, for writers in separate
/// processes (MPI ranks sharing DIR's file system): rank 0 begins, every
/// rank writes its file, and once every file is durable rank 0 commits.
/// begin: a fresh temporary directory for `step` (stale ones removed).
llvm::Error beginCheckpoint(llvm::StringRef directory, int64_t step);
/// The CRC-32 of each part one file holds, in layout order (tensor by
/// tensor, part by part).
using PartChecksums = std::vector<uint32_t>;

/// How many parts file `file` of `layout` holds.
size_t partsInFile(const CheckpointLayout &layout, size_t file);

/// Writes and fsyncs file `file` of `layout`: the parts that lie in it.
/// Then reads the file back, checks it against the layout and returns the
/// checksums of its parts as they reached the disk.
llvm::Expected<PartChecksums>
writeCheckpointFile(llvm::StringRef directory, int64_t step,
                    const CheckpointLayout &layout, size_t file,
                    PartBytes bytes);
/// Writes the manifest with every part's checksum and publishes the
/// checkpoint of `manifest.step`; `latest` points at it. `checksums` holds
/// what writeCheckpointFile returned for each file (gathered from the
/// ranks that wrote them), so the committer reads no file; without them it
/// reads every file back to checksum it.
llvm::Error commitCheckpoint(llvm::StringRef directory,
                             const CheckpointLayout &layout,
                             const CheckpointManifest &manifest,
                             llvm::ArrayRef<PartChecksums> checksums = {});

/// All three steps in one process.
llvm::Error writeCheckpoint(llvm::StringRef directory,
                            const CheckpointLayout &layout, PartBytes bytes,
                            const CheckpointManifest &manifest);
/// One file of whole tensors (roles unrecorded).
llvm::Error writeCheckpoint(llvm::StringRef directory,
                            llvm::ArrayRef<TensorRef> tensors,
                            const CheckpointManifest &manifest);

/// A manifest as read: the positions, and where the tensors lie (in a
/// manifest written before layouts: `state.safetensors`, with the CRC-32 of
/// each tensor, none for checkpoints written before checksums).
struct ParsedManifest {
  CheckpointManifest manifest;
  std::optional<CheckpointLayout> layout;
  std::optional<std::map<std::string, uint32_t>> crc32;
};

/// Parses and checks manifest.json's `text` from the checkpoint directory
/// named `directoryName` (step-<N>[.<k>]): bounded JSON, the fields
/// present, the step its directory's, no negative position; a layout's file
/// names plain, its shapes and parts consistent. `source` names the file in
/// errors.
llvm::Expected<ParsedManifest> parseManifest(llvm::StringRef text,
                                             llvm::StringRef directoryName,
                                             llvm::StringRef source);

struct Checkpoint {
  std::string path; // the step directory
  CheckpointManifest manifest;
  CheckpointLayout layout;
  /// layout.files, read and checked; those a selective reader did not
  /// need are left empty (`loaded` false).
  std::vector<SafetensorsFile> files;
  std::vector<bool> loaded;

  /// Copies the flat elements [begin, end) of `tensor` to `out`, from
  /// whichever parts hold them (in files that were read).
  void read(const StateTensor &tensor, int64_t begin, int64_t end,
            uint8_t *out) const;
};

/// The files of a checkpoint a reader needs, given its layout: one flag
/// per entry of `layout.files`. A reader that takes only some ranges of
/// the state (an MPI rank's own shards and the tensors every rank holds
/// whole) reads and checksums only the files that hold them, so a rank
/// never holds, or waits to checksum, the whole sharded state.
using NeededFiles = std::function<std::vector<bool>(const CheckpointLayout &)>;

/// Reads the checkpoint `latest` names, validating the manifest (its step
/// is its directory's, no position is negative) and the files (every part
/// present with its dtype and size, its CRC-32 the manifest's; no tensor
/// the manifest does not list).
llvm::Expected<Checkpoint> readLatestCheckpoint(llvm::StringRef directory);

/// Reads and validates the checkpoint in the step directory `path`.
llvm::Expected<Checkpoint> readCheckpointAt(llvm::StringRef path);

/// The newest checkpoint under `directory` that reads back intact: the one
/// `latest` names, else the step directories from the highest step down.
/// `rejected` gets one message per checkpoint passed over (corrupt,
/// inconsistent or unreadable); the error, when none is intact, lists them.
///
/// With `needed`, only the files it selects are read and checked (a
/// checkpoint is intact for this reader when those are); with `atMostStep`,
/// newer checkpoints are passed over without being read (ranks that found
/// different checkpoints intact agree on the older one this way).
llvm::Expected<Checkpoint>
readNewestIntactCheckpoint(llvm::StringRef directory,
                           std::vector<std::string> &rejected,
                           const NeededFiles &needed = nullptr,
                           int64_t atMostStep = INT64_MAX);

/// Removes all but the newest `keep` checkpoints (by step) under
/// `directory`, never the one `latest` names. Call it after a checkpoint is
/// committed, so that an intact one always remains.
llvm::Error pruneCheckpoints(llvm::StringRef directory, unsigned keep);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_CHECKPOINT_H
