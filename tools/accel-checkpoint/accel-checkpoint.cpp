//===- accel-checkpoint.cpp - inspect and consolidate checkpoints ---------===//
//
//   accel-checkpoint CHECKPOINT                      (describe it)
//   accel-checkpoint CHECKPOINT -o MODEL.safetensors [--optimizer-state]
//
// CHECKPOINT is accel-run's --checkpoint-dir (its newest intact checkpoint)
// or one step directory in it. Whatever rank count and strategy wrote it
// (one file of whole tensors, or one file of shards per rank), -o writes
// one ordinary safetensors file of whole tensors: the parameters and
// buffers (what accel-run --params and PyTorch's load_state_dict take), and
// with --optimizer-state the optimizer and FP8 scaling state too.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Checkpoint.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <map>

using namespace llvm;

static cl::opt<std::string>
    checkpointPath(cl::Positional, cl::Required,
                   cl::desc("<checkpoint directory or step directory>"));
static cl::opt<std::string>
    output("o", cl::desc("Write the whole tensors to this safetensors file"),
           cl::value_desc("MODEL.safetensors"));
static cl::opt<bool> optimizerState(
    "optimizer-state",
    cl::desc("Also write the optimizer (and FP8 scaling) state"));

static int fail(const Twine &message) {
  WithColor::error(errs(), "accel-checkpoint") << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(
      argc, argv,
      "accel-checkpoint: describe a training checkpoint, or write it as one "
      "safetensors file of whole tensors\n");

  // A step directory holds a manifest; a checkpoint directory the steps.
  SmallString<256> manifest(checkpointPath);
  sys::path::append(manifest, "manifest.json");
  std::vector<std::string> rejected;
  Expected<accel::io::Checkpoint> checkpoint =
      sys::fs::exists(manifest)
          ? accel::io::readCheckpointAt(checkpointPath)
          : accel::io::readNewestIntactCheckpoint(checkpointPath, rejected);
  if (!checkpoint)
    return fail(toString(checkpoint.takeError()));
  for (const std::string &why : rejected)
    WithColor::warning(errs(), "accel-checkpoint")
        << "skipping a checkpoint: " << why << "\n";
  const accel::io::CheckpointLayout &layout = checkpoint->layout;

  // Roles were recorded from the first sharded checkpoints on; an older
  // checkpoint's file already holds whole tensors, all of them.
  bool rolesKnown = llvm::all_of(
      layout.tensors, [](const auto &t) { return !t.role.empty(); });
  auto wanted = [&](const accel::io::StateTensor &t) {
    return !rolesKnown || optimizerState || t.role == "param" ||
           t.role == "buffer";
  };

  if (output.empty()) {
    outs() << checkpoint->path << ": step " << checkpoint->manifest.step
           << ", epoch " << checkpoint->manifest.epoch << ", seed "
           << checkpoint->manifest.seed << "\n";
    if (layout.ranks == 0)
      outs() << "written before layouts were recorded: one file of whole "
                "tensors, roles unrecorded\n";
    else
      outs() << "written by " << layout.ranks << " rank(s)"
             << (layout.strategy.empty() ? "" : " (" + layout.strategy + ")")
             << " in " << layout.files.size() << " file(s)\n";
    std::map<std::string, std::pair<int64_t, uint64_t>> byRole;
    for (const accel::io::StateTensor &t : layout.tensors) {
      auto &[count, bytes] = byRole[t.role.empty() ? "unrecorded" : t.role];
      ++count;
      bytes += t.numElements() * accel::io::dtypeSize(t.dtype);
    }
    for (auto &[role, totals] : byRole)
      outs() << "  " << role << ": " << totals.first << " tensor(s), "
             << totals.second << " B\n";
    return 0;
  }

  std::vector<std::vector<uint8_t>> storage;
  std::vector<accel::io::TensorRef> tensors;
  for (const accel::io::StateTensor &t : layout.tensors) {
    if (!wanted(t))
      continue;
    storage.emplace_back(t.numElements() * accel::io::dtypeSize(t.dtype));
    checkpoint->read(t, 0, t.numElements(), storage.back().data());
    tensors.push_back({t.name, t.dtype, t.shape, storage.back()});
  }
  if (Error e = accel::io::writeSafetensors(output, tensors))
    return fail(toString(std::move(e)));
  outs() << "wrote " << tensors.size() << " tensor(s) of step "
         << checkpoint->manifest.step << " to " << output << "\n";
  return 0;
}
