//===- Program.h - a lowered training step ----------------------*- C++ -*-===//
//
// What the runtime executes: buffers (state, batch inputs, scalars the
// runner sets, constants, and views into one planned arena) and a flat list
// of kernel calls over them, in order. A loader builds it once from the
// compiled step (accel-run's loader reads the MLIR; the runtime never
// links MLIR); every step then runs the same instructions on the same
// pointers, with no allocation and no parsing.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_EXECUTOR_PROGRAM_H
#define ACCEL_RUNTIME_EXECUTOR_PROGRAM_H

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace accel::rt {

/// BF16 and F16 hold activations under mixed precision, F8E4M3FN and
/// F8E5M2 FP8 tensors, F8E8M0FNU the shared power-of-two scales of MXFP8
/// blocks; kernels compute them in f32 and round each result once
/// (cpu/HalfFloat.h, cpu/Float8.h).
enum class ElementType { F32, I64, I1, BF16, F16, F8E4M3FN, F8E5M2, F8E8M0FNU };

size_t elementBytes(ElementType type);
/// MLIR's spelling of the type ("f32", "bf16", "f8E4M3FN").
const char *elementTypeName(ElementType type);
constexpr int kElementTypeCount = static_cast<int>(ElementType::F8E8M0FNU) + 1;

struct BufferDesc {
  /// Where the bytes live. State, inputs, scalars and constants own their
  /// storage; arena buffers are views at `offset` into the step's arena;
  /// View buffers are buffer `viewOf`'s bytes under another shape (a
  /// reshape).
  enum class Role { Param, Buffer, OptState, Fp8State, Input, Seed, Step, Lr,
                    LossScale, Constant, Arena, View };
  Role role;
  std::string name; // the state or input name; empty for arena values
  ElementType type;
  std::vector<int64_t> shape;
  uint64_t offset = 0;             // Arena only
  std::vector<uint8_t> constant;   // Constant only
  int viewOf = -1;                 // View only: a buffer that is not a view
  float init = 0;                  // Fp8State: every element's first value
  /// OptState under ZeRO and FSDP, Param under FSDP: the whole tensor's
  /// shape; this buffer is the rank's 1-D shard of it (Communicator.h's
  /// ShardBuffer). Empty: whole.
  std::vector<int64_t> shardOf;

  int64_t numElements() const;
  size_t bytes() const { return numElements() * elementBytes(type); }
};

enum class Kernel {
  // Dense algebra.
  Linear, BatchedMatmul, Permute, Copy, BroadcastTo, Slice, SliceGrad, Concat,
  // Elementwise.
  Add, Sub, Mul, Div, Relu, Tanh, Sigmoid, Exp, Log, Sqrt, Rsqrt, Neg, Gelu,
  GeluTanh, ReluGrad, GeluGrad, GeluTanhGrad, IntToFloat, BoolToFloat,
  Clamp, ClampGrad,
  // Reductions and losses.
  Sum, Mean, Softmax, LogSoftmax, SoftmaxGrad, LogSoftmaxGrad, CrossEntropy,
  CrossEntropyGrad, MseLoss,
  // Transformer pieces.
  LayerNorm, LayerNormGrad, Embedding, EmbeddingGrad, MaskedFill, Dropout,
  // Convolutional networks.
  Conv2d, Conv2dGradInput, Conv2dGradWeight, MaxPool2d, MaxPool2dGrad,
  AvgPool2d, AvgPool2dGrad, AdaptiveAvgPool2d, AdaptiveAvgPool2dGrad,
  BatchNorm, BatchNormGrad,
  // A fused elementwise chain (ints[0]: its FusedBody).
  Fused,
  // Integer scalars (step counters).
  AddInt, MulInt, EqualInt,
  // Precision: conversion between float types (round to nearest even),
  // whole-tensor choice by a flag (results[0] = operands[0] ? operands[1] :
  // operands[2]), and the all-finite check of loss scaling.
  Cast, Select, AllFinite,
  // FP8 training (cpu/Float8Kernels.h). Fp8Quantize: operand x [R, C],
  // results data (FP8) and scale; ints: scaling (0 tensorwise, 1 rowwise,
  // 2 MX blocks of 32 along a row), pow2; floats: the format's largest
  // finite value. ScaledMatmul: operands lhs, lhs scale, rhs, rhs scale;
  // ints: the scales' groupings (numbered as Fp8Quantize's), and whether
  // the scales multiply the product as inverses (delayed scaling).
  // Fp8QuantizeScaled: operands x, scale; results data, amax; floats: the
  // format's largest value. Fp8ScaleUpdate: operands history, scale, amax;
  // results history, scale; ints: amax algorithm (0 max, 1 most recent),
  // margin; floats: the format's largest value.
  Fp8Quantize, ScaledMatmul, Fp8QuantizeScaled, Fp8ScaleUpdate,
  // Data parallelism: operands i and results i are one tensor of a bucket.
  // AllReduce combines them over the ranks (ints: reduction, 0 sum, 1 mean;
  // bucket). ReduceScatter does too but keeps this rank's shard of each
  // (results are shards; ints as AllReduce's); AllGather assembles whole
  // tensors from every rank's shard (operands are shards; ints: bucket).
  // Shards are as Communicator.h's ShardBuffer describes. LocalShard:
  // this rank's shard of operand 0, nothing communicated.
  AllReduce, ReduceScatter, AllGather, LocalShard,
  // The completion of the collective at instruction ints[0], which was
  // started there and runs on the rank's communication thread meanwhile;
  // operands and results are that instruction's results (f32), readable
  // from here on.
  Wait,
};
/// The number of kernels (Wait must stay last): program files store
/// kernels by name, looked up over all of them.
constexpr int kKernelCount = static_cast<int>(Kernel::Wait) + 1;

/// The kernel's name, for profiles and messages.
const char *kernelName(Kernel kernel);

/// Whether the kernel communicates with the other ranks (and a Wait may
/// complete it).
inline bool isCollective(Kernel k) {
  return k == Kernel::AllReduce || k == Kernel::ReduceScatter ||
         k == Kernel::AllGather;
}

struct Instruction {
  Kernel kernel;
  std::vector<int> operands; // buffer indices
  std::vector<int> results;
  std::vector<int64_t> ints;   // kernel parameters (dims, permutation, ...)
  std::vector<double> floats;  // (label smoothing, ...)
};

/// The per-element program of a Fused instruction, in f32 (reduced-precision
/// operands and results are widened and rounded around it like any
/// kernel's). Registers 0..n-1 hold the instruction's n operands' elements (one-element operands broadcast);
/// step i computes register n + i from one or two earlier registers with
/// an elementwise kernel (Add, Sub, Mul, Div, Neg, Relu, Tanh, Sigmoid,
/// Exp, Log, Sqrt, Rsqrt, Gelu, GeluTanh, ReluGrad, GeluGrad,
/// GeluTanhGrad); result j is register results[j].
struct FusedStep {
  Kernel kernel;
  int lhs;
  int rhs = -1;
  /// BF16/F16: the step's value is rounded to that type, as the unfused
  /// op's result would be (registers hold f32).
  ElementType round = ElementType::F32;
};
/// Machine code for one fused body, from the loader's compiler
/// (compiler/lowering/FusedChainJit.h): computes elements [begin, end) of
/// every result from the operands (one-element operands broadcast, as
/// the instruction's were when it was compiled), with the interpreter's
/// exact operations, so either gives the same bits.
using CompiledFusedChain = void (*)(const float *const *inputs, float *const *outputs,
                                    int64_t begin, int64_t end);

struct FusedBody {
  std::vector<FusedStep> steps;
  std::vector<int> results;
  /// Set in-process only (never saved in program files); null: interpreted.
  CompiledFusedChain compiled = nullptr;
};

struct ProgramResult {
  int buffer;
  /// Param/Buffer/OptState/Fp8State: the state it replaces. Grad: the
  /// gradient of the parameter `name` (a gradient function's result;
  /// replaces nothing).
  /// Metric: a value the runner reports each step, named `name`.
  enum class Kind { Value, State, Grad, Metric };
  Kind kind = Kind::Value;
  BufferDesc::Role role = BufferDesc::Role::Arena;
  std::string name; // empty for the loss
};

/// An integer input used as an index (embedding rows, class labels): every
/// value must lie in [0, limit) or equal `exempt` (cross-entropy's
/// ignore_index). Runners check whole datasets against it before training.
struct IndexBound {
  std::string input;
  int64_t limit;
  std::optional<int64_t> exempt;
  std::string use; // what indexes with it, for messages
};

struct Program {
  std::vector<BufferDesc> buffers;
  std::vector<Instruction> code;
  std::vector<ProgramResult> results; // results[0] is the loss
  uint64_t arenaBytes = 0;
  /// Inputs hold this many micro-batches: [K, B, ...] when K > 1.
  int64_t microBatches = 1;
  /// Data-parallel ranks the step was compiled for: each runs it on its
  /// slice of every batch (inputs hold that slice) and its AllReduce
  /// instructions combine them.
  int64_t ranks = 1;
  /// How the ranks share the state: ddp, zero1, zero2 or fsdp (empty for
  /// one rank); checkpoints record it.
  std::string strategy;
  /// The learning rate the step was compiled with (negative: none).
  double defaultLr = -1;
  /// A gradient function taking a loss scale (Role::LossScale): the scale
  /// its training step starts with, for runners that call it directly.
  double initialLossScale = 1.0;
  std::vector<IndexBound> indexBounds;
  std::vector<FusedBody> fusedBodies;

  /// Bytes of the buffers that own their storage (state, inputs, scalars,
  /// constants): with arenaBytes, what a host-memory driver allocates, not
  /// counting its own scratch.
  uint64_t ownedBytes() const;
};

} // namespace accel::rt

#endif // ACCEL_RUNTIME_EXECUTOR_PROGRAM_H
