//===- Executor.h - runs a lowered training step on the CPU -----*- C++ -*-===//

#ifndef ACCEL_RUNTIME_EXECUTOR_EXECUTOR_H
#define ACCEL_RUNTIME_EXECUTOR_EXECUTOR_H

#include "runtime/collectives/Communicator.h"
#include "runtime/cpu/DnnlConv.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/executor/CollectiveWorker.h"
#include "runtime/executor/HostMemory.h"
#include "runtime/executor/Program.h"
#include "runtime/executor/Widening.h"

#include "llvm/Support/Error.h"

#include <cstdint>
#include <memory>
#include <vector>

namespace accel::rt {

class Executor {
public:
  /// Allocates every buffer once. A program for several ranks runs its
  /// collectives through `comm` (not owned; null: a job of one rank).
  Executor(Program program, int threads, Communicator *comm = nullptr);
  /// Its communication thread holds `this`.
  Executor(Executor &&) = delete;

  const Program &program() const { return prog; }
  /// The bytes of buffer `index` (state, inputs and scalars are written
  /// here by the runner between steps).
  uint8_t *data(int index) { return pointers[index]; }
  template <typename T> T *as(int index) {
    return reinterpret_cast<T *>(pointers[index]);
  }

  /// Runs the instructions once. Fails only on data the compiler cannot
  /// check (an embedding index out of range), naming the op's position.
  llvm::Error run();

  /// With profiling on, run() adds each instruction's wall time to
  /// profile()[instruction index].
  void setProfiling(bool on) {
    profiling = on;
    seconds.assign(prog.code.size(), 0.0);
  }
  const std::vector<double> &profile() const { return seconds; }

  /// Copies every state result into the state buffer it replaces.
  void commitState();

private:
  int rank() const { return comm ? comm->rank() : 0; }

  Program prog;
  cpu::ThreadPool pool;
  HostMemory arena;
  std::vector<HostMemory> owned; // state, inputs, scalars, constants
  std::vector<uint8_t *> pointers;
  std::vector<float> scratch; // kernel workspaces, sized once
  /// Per instruction: its convolution planned for oneDNN (null: im2col),
  /// all bound to one workspace (instructions run one at a time).
  std::vector<std::unique_ptr<cpu::DnnlConv>> dnnlConvs;
  HostMemory dnnlWorkspace;
  void planConvolutions();
  std::vector<double> sampleScratch;
  bool profiling = false;
  std::vector<double> seconds;
  std::vector<int> stateTarget; // per result: the state buffer it replaces
  Communicator *comm;
  std::vector<ReduceBuffer> reduceBuffers; // an AllReduce's, reused
  std::vector<ShardBuffer> shardBuffers;   // a ReduceScatter's or AllGather's
  std::vector<std::string> collectiveNames; // per instruction, for errors
  /// Per instruction: a collective some Wait completes.
  std::vector<char> awaited;
  /// An all-gather into a 16-bit compute type sends its f32 shards rounded
  /// to that type: per instruction and operand, where the rounded copy
  /// lives in `roundedShards` (-1: the operand is sent as it is). The
  /// copies are the instruction's own, as the gather may still read them
  /// while later instructions run.
  std::vector<std::vector<int64_t>> roundedShardOffset;
  HostMemory roundedShards;
  void planRoundedShards();
  void startWorker();
  /// Instruction `pc`'s all-reduce, reduce-scatter or all-gather.
  llvm::Error collective(size_t pc);

  /// A kernel with bf16/f16 operands or results runs on f32 shadows of
  /// them: operands are widened (exactly) before it, results rounded to
  /// their type after it, so each op rounds once, as ATen's
  /// reduced-precision kernels do. Shadows live in `widened`, shared by
  /// all instructions (they run one at a time).
  void planWidening();
  std::vector<WideningPlan::Shadows> widening; // per instruction
  std::vector<int64_t> shadowOffset; // per buffer: offset in `widened`, or -1
  HostMemory widened;

  /// Runs every collective when the program awaits any (so they keep
  /// their order); null otherwise, or on one rank. Last: destroyed first,
  /// while the buffers its collectives use still exist.
  std::unique_ptr<CollectiveWorker> worker;
};

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_EXECUTOR_H
