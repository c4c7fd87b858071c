//===- Executor.cpp - runs a lowered training step on the CPU -------------===//

#include "runtime/executor/Executor.h"

#include "runtime/cpu/Float8.h"
#include "runtime/cpu/Float8Kernels.h"
#include "runtime/cpu/HalfFloat.h"
#include "runtime/cpu/Kernels.h"
#include "runtime/executor/FusedKernel.h"
#include "runtime/executor/Widening.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <chrono>
#include <cstring>
#include <string>
#include <type_traits>

namespace accel::rt {

const char *elementTypeName(ElementType type) {
  switch (type) {
  case ElementType::F32: return "f32";
  case ElementType::I64: return "i64";
  case ElementType::I1: return "i1";
  case ElementType::BF16: return "bf16";
  case ElementType::F16: return "f16";
  case ElementType::F8E4M3FN: return "f8E4M3FN";
  case ElementType::F8E5M2: return "f8E5M2";
  case ElementType::F8E8M0FNU: return "f8E8M0FNU";
  }
  return "?";
}

size_t elementBytes(ElementType type) {
  switch (type) {
  case ElementType::F32:
    return 4;
  case ElementType::I64:
    return 8;
  case ElementType::I1:
    return 1;
  case ElementType::BF16:
  case ElementType::F16:
    return 2;
  case ElementType::F8E4M3FN:
  case ElementType::F8E5M2:
  case ElementType::F8E8M0FNU:
    return 1;
  }
  return 1;
}

const char *kernelName(Kernel kernel) {
  switch (kernel) {
  case Kernel::Linear:
    return "Linear";
  case Kernel::BatchedMatmul:
    return "BatchedMatmul";
  case Kernel::Permute:
    return "Permute";
  case Kernel::Copy:
    return "Copy";
  case Kernel::BroadcastTo:
    return "BroadcastTo";
  case Kernel::Slice:
    return "Slice";
  case Kernel::Clamp:
    return "Clamp";
  case Kernel::ClampGrad:
    return "ClampGrad";
  case Kernel::SliceGrad:
    return "SliceGrad";
  case Kernel::Concat:
    return "Concat";
  case Kernel::MseLoss:
    return "MseLoss";
  case Kernel::Add:
    return "Add";
  case Kernel::Sub:
    return "Sub";
  case Kernel::Mul:
    return "Mul";
  case Kernel::Div:
    return "Div";
  case Kernel::Relu:
    return "Relu";
  case Kernel::Tanh:
    return "Tanh";
  case Kernel::Sigmoid:
    return "Sigmoid";
  case Kernel::Exp:
    return "Exp";
  case Kernel::Log:
    return "Log";
  case Kernel::Sqrt:
    return "Sqrt";
  case Kernel::Rsqrt:
    return "Rsqrt";
  case Kernel::Neg:
    return "Neg";
  case Kernel::Gelu:
    return "Gelu";
  case Kernel::GeluTanh:
    return "GeluTanh";
  case Kernel::ReluGrad:
    return "ReluGrad";
  case Kernel::GeluGrad:
    return "GeluGrad";
  case Kernel::GeluTanhGrad:
    return "GeluTanhGrad";
  case Kernel::IntToFloat:
    return "IntToFloat";
  case Kernel::BoolToFloat:
    return "BoolToFloat";
  case Kernel::Sum:
    return "Sum";
  case Kernel::Mean:
    return "Mean";
  case Kernel::Softmax:
    return "Softmax";
  case Kernel::LogSoftmax:
    return "LogSoftmax";
  case Kernel::SoftmaxGrad:
    return "SoftmaxGrad";
  case Kernel::LogSoftmaxGrad:
    return "LogSoftmaxGrad";
  case Kernel::CrossEntropy:
    return "CrossEntropy";
  case Kernel::CrossEntropyGrad:
    return "CrossEntropyGrad";
  case Kernel::LayerNorm:
    return "LayerNorm";
  case Kernel::LayerNormGrad:
    return "LayerNormGrad";
  case Kernel::Embedding:
    return "Embedding";
  case Kernel::EmbeddingGrad:
    return "EmbeddingGrad";
  case Kernel::MaskedFill:
    return "MaskedFill";
  case Kernel::Dropout:
    return "Dropout";
  case Kernel::Fused:
    return "Fused";
  case Kernel::Conv2d:
    return "Conv2d";
  case Kernel::Conv2dGradInput:
    return "Conv2dGradInput";
  case Kernel::Conv2dGradWeight:
    return "Conv2dGradWeight";
  case Kernel::MaxPool2d:
    return "MaxPool2d";
  case Kernel::MaxPool2dGrad:
    return "MaxPool2dGrad";
  case Kernel::AvgPool2d:
    return "AvgPool2d";
  case Kernel::AvgPool2dGrad:
    return "AvgPool2dGrad";
  case Kernel::AdaptiveAvgPool2d:
    return "AdaptiveAvgPool2d";
  case Kernel::AdaptiveAvgPool2dGrad:
    return "AdaptiveAvgPool2dGrad";
  case Kernel::BatchNorm:
    return "BatchNorm";
  case Kernel::BatchNormGrad:
    return "BatchNormGrad";
  case Kernel::AddInt:
    return "AddInt";
  case Kernel::MulInt:
    return "MulInt";
  case Kernel::EqualInt:
    return "EqualInt";
  case Kernel::Cast:
    return "Cast";
  case Kernel::Select:
    return "Select";
  case Kernel::AllFinite:
    return "AllFinite";
  case Kernel::Fp8Quantize:
    return "Fp8Quantize";
  case Kernel::ScaledMatmul:
    return "ScaledMatmul";
  case Kernel::Fp8QuantizeScaled:
    return "Fp8QuantizeScaled";
  case Kernel::Fp8ScaleUpdate:
    return "Fp8ScaleUpdate";
  case Kernel::AllReduce:
    return "AllReduce";
  case Kernel::ReduceScatter:
    return "ReduceScatter";
  case Kernel::AllGather:
    return "AllGather";
  case Kernel::LocalShard:
    return "LocalShard";
  case Kernel::Wait:
    return "Wait";
  }
  return "?";
}

namespace {

bool isConvolution(Kernel k) {
  return k == Kernel::Conv2d || k == Kernel::Conv2dGradInput ||
         k == Kernel::Conv2dGradWeight;
}

/// The convolution an instruction computes. ints: stride (2), padding (2),
/// dilation (2), groups. Shapes come from the buffers: Conv2d (input,
/// weight) -> out; Conv2dGradInput (grad, weight) -> input;
/// Conv2dGradWeight (grad, input) -> weight. Unbatched [C, H, W] is a batch
/// of one.
cpu::Conv2dGeometry convGeometry(const Program &prog, const Instruction &in) {
  auto shape = [&](int buffer) -> const std::vector<int64_t> & {
    return prog.buffers[buffer].shape;
  };
  const std::vector<int64_t> *input = nullptr, *weight = nullptr, *out = nullptr;
  switch (in.kernel) {
  case Kernel::Conv2d:
    input = &shape(in.operands[0]);
    weight = &shape(in.operands[1]);
    out = &shape(in.results[0]);
    break;
  case Kernel::Conv2dGradInput:
    out = &shape(in.operands[0]);
    weight = &shape(in.operands[1]);
    input = &shape(in.results[0]);
    break;
  default: // Conv2dGradWeight
    out = &shape(in.operands[0]);
    input = &shape(in.operands[1]);
    weight = &shape(in.results[0]);
    break;
  }
  bool batched = input->size() == 4;
  size_t c = batched ? 1 : 0;
  return {batched ? (*input)[0] : 1, (*input)[c], (*input)[c + 1], (*input)[c + 2],
          (*weight)[0], (*weight)[2], (*weight)[3], (*out)[c + 1], (*out)[c + 2],
          in.ints[0], in.ints[1], in.ints[2], in.ints[3], in.ints[4], in.ints[5],
          in.ints[6]};
}

/// The pooling an instruction computes over its input's last two
/// dimensions. ints: kernel (2), stride (2), padding (2), dilation (2),
/// count_include_pad; adaptive pools have none.
cpu::Pool2dGeometry poolGeometry(const std::vector<int64_t> &input,
                                 const std::vector<int64_t> &out,
                                 const std::vector<int64_t> &ints) {
  int64_t h = input[input.size() - 2], w = input.back();
  int64_t planes = 1;
  for (size_t d = 0; d + 2 < input.size(); ++d)
    planes *= input[d];
  cpu::Pool2dGeometry g{planes, h, w, out[out.size() - 2], out.back()};
  if (!ints.empty()) {
    g.kernelH = ints[0];
    g.kernelW = ints[1];
    g.strideH = ints[2];
    g.strideW = ints[3];
    g.padH = ints[4];
    g.padW = ints[5];
    g.dilationH = ints[6];
    g.dilationW = ints[7];
    g.countIncludePad = ints[8] != 0;
  }
  return g;
}

/// Batch norm over [N, C, ...]. ints: training; floats: eps, momentum.
cpu::BatchNormGeometry batchNormGeometry(const std::vector<int64_t> &shape,
                                         const Instruction &in) {
  int64_t inner = 1;
  for (size_t d = 2; d < shape.size(); ++d)
    inner *= shape[d];
  return {shape[0], shape[1], inner, in.floats[0],
          in.floats.size() > 1 ? in.floats[1] : 0.0, in.ints[0] != 0};
}

} // namespace

uint64_t Program::ownedBytes() const {
  uint64_t total = 0;
  for (const BufferDesc &b : buffers)
    if (b.role != BufferDesc::Role::Arena && b.role != BufferDesc::Role::View)
      total += b.bytes();
  return total;
}

int64_t BufferDesc::numElements() const {
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

namespace {

/// Kernels that move or inspect bytes of any type themselves; every other
/// kernel computes in f32.
bool handlesAnyType(Kernel k) {
  // Collectives move and combine f32, bf16 and f16 values themselves (the
  // program check allows no other types): widening them would send f32.
  return k == Kernel::Copy || k == Kernel::Slice || k == Kernel::Concat ||
         k == Kernel::Cast || k == Kernel::Select || k == Kernel::AllFinite ||
         isCollective(k) || k == Kernel::Wait;
}

/// The collectives' name for a buffer's type (the program check allows
/// only these three).
ValueType valueType(ElementType type) {
  return type == ElementType::BF16  ? ValueType::BF16
         : type == ElementType::F16 ? ValueType::F16
                                    : ValueType::F32;
}

/// Loads element i of a float storage type as f32, exactly.
template <ElementType T> float loadAs(const uint8_t *p, int64_t i) {
  if constexpr (T == ElementType::BF16)
    return cpu::bf16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  else if constexpr (T == ElementType::F16)
    return cpu::f16ToFloat(reinterpret_cast<const uint16_t *>(p)[i]);
  else if constexpr (T == ElementType::F8E4M3FN)
    return cpu::e4m3ToFloat(p[i]);
  else if constexpr (T == ElementType::F8E5M2)
    return cpu::e5m2ToFloat(p[i]);
  else if constexpr (T == ElementType::F8E8M0FNU)
    return cpu::e8m0ToFloat(p[i]);
  else
    return reinterpret_cast<const float *>(p)[i];
}

/// Stores `v` as element i of a float storage type, rounded to nearest even.
template <ElementType T> void storeAs(uint8_t *p, int64_t i, float v) {
  if constexpr (T == ElementType::BF16)
    reinterpret_cast<uint16_t *>(p)[i] = cpu::floatToBf16(v);
  else if constexpr (T == ElementType::F16)
    reinterpret_cast<uint16_t *>(p)[i] = cpu::floatToF16(v);
  else if constexpr (T == ElementType::F8E4M3FN)
    p[i] = cpu::floatToE4M3(v);
  else if constexpr (T == ElementType::F8E5M2)
    p[i] = cpu::floatToE5M2(v);
  else if constexpr (T == ElementType::F8E8M0FNU)
    p[i] = cpu::floatToE8M0(v);
  else
    reinterpret_cast<float *>(p)[i] = v;
}

template <ElementType T> using TypeTag = std::integral_constant<ElementType, T>;

/// Calls f(TypeTag<T>{}) for the float storage type `type`.
template <typename F> void withFloatType(ElementType type, F &&f) {
  switch (type) {
  case ElementType::BF16: return f(TypeTag<ElementType::BF16>{});
  case ElementType::F16: return f(TypeTag<ElementType::F16>{});
  case ElementType::F8E4M3FN: return f(TypeTag<ElementType::F8E4M3FN>{});
  case ElementType::F8E5M2: return f(TypeTag<ElementType::F8E5M2>{});
  case ElementType::F8E8M0FNU: return f(TypeTag<ElementType::F8E8M0FNU>{});
  default: return f(TypeTag<ElementType::F32>{});
  }
}

/// Converts `n` elements between float storage types; the element loop is
/// specialised for the pair of types (this runs around every
/// reduced-precision kernel, each step).
void convert(cpu::ThreadPool &pool, ElementType from, const uint8_t *src,
             ElementType to, uint8_t *dst, int64_t n) {
  if (from == to) {
    if (src != dst)
      std::memcpy(dst, src, n * elementBytes(to));
    return;
  }
  withFloatType(from, [&](auto fromTag) {
    withFloatType(to, [&](auto toTag) {
      constexpr ElementType From = decltype(fromTag)::value;
      constexpr ElementType To = decltype(toTag)::value;
      pool.parallelFor(n, 16384, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i)
          storeAs<To>(dst, i, loadAs<From>(src, i));
      });
    });
  });
}

/// Whether every element is finite, for any float storage type.
bool allFinite(cpu::ThreadPool &pool, ElementType type, const uint8_t *data,
               int64_t n) {
  std::atomic<bool> finite{true};
  pool.parallelFor(n, 65536, [&](int64_t begin, int64_t end) {
    bool ok = true;
    if (type == ElementType::F32) {
      const float *f = reinterpret_cast<const float *>(data);
      for (int64_t i = begin; i < end; ++i)
        ok &= std::isfinite(f[i]);
    } else if (type == ElementType::F8E4M3FN) { // no infinity; NaN is S.1111.111
      for (int64_t i = begin; i < end; ++i)
        ok &= (data[i] & 0x7f) != 0x7f;
    } else if (type == ElementType::F8E8M0FNU) { // 0xff is NaN
      for (int64_t i = begin; i < end; ++i)
        ok &= data[i] != 0xff;
    } else if (type == ElementType::F8E5M2) { // exponent all ones
      for (int64_t i = begin; i < end; ++i)
        ok &= (data[i] & 0x7c) != 0x7c;
    } else {
      // All exponent bits set: infinity or NaN.
      uint16_t mask = type == ElementType::BF16 ? 0x7f80 : 0x7c00;
      const uint16_t *h = reinterpret_cast<const uint16_t *>(data);
      for (int64_t i = begin; i < end; ++i)
        ok &= (h[i] & mask) != mask;
    }
    if (!ok)
      finite = false;
  });
  return finite;
}

} // namespace

void Executor::planWidening() {
  WideningPlan plan = rt::planWidening(prog, handlesAnyType);
  widening = std::move(plan.perInstruction);
  shadowOffset.assign(plan.firstShadow, -1);
  for (uint64_t offset : plan.shadowOffsets)
    shadowOffset.push_back(static_cast<int64_t>(offset));
  widened = HostMemory(plan.bytes);
}

void Executor::planRoundedShards() {
  roundedShardOffset.assign(prog.code.size(), {});
  uint64_t used = 0;
  for (size_t pc = 0; pc < prog.code.size(); ++pc) {
    const Instruction &in = prog.code[pc];
    if (in.kernel != Kernel::AllGather)
      continue;
    for (size_t i = 0; i < in.operands.size(); ++i) {
      const BufferDesc &shard = prog.buffers[in.operands[i]];
      const BufferDesc &whole = prog.buffers[in.results[i]];
      int64_t offset = -1;
      if (shard.type != whole.type) {
        offset = static_cast<int64_t>(used);
        used += (shard.numElements() * elementBytes(whole.type) + 63) / 64 * 64;
      }
      roundedShardOffset[pc].push_back(offset);
    }
  }
  roundedShards = HostMemory(used);
}

Executor::Executor(Program program, int threads, Communicator *comm)
    : prog(std::move(program)), pool(threads), arena(prog.arenaBytes),
      comm(comm) {
  planWidening();
  planRoundedShards();
  // Collectives' names for errors, made now: a step allocates nothing.
  collectiveNames.resize(prog.code.size());
  for (size_t pc = 0; pc < prog.code.size(); ++pc) {
    const Instruction &in = prog.code[pc];
    if (!isCollective(in.kernel))
      continue;
    const char *kind = in.kernel == Kernel::AllReduce       ? "all_reduce"
                       : in.kernel == Kernel::ReduceScatter ? "reduce_scatter"
                                                            : "all_gather";
    int64_t bucket = in.ints[in.kernel == Kernel::AllGather ? 0 : 1];
    collectiveNames[pc] =
        std::string(kind) +
        (bucket >= 0 ? " bucket " + std::to_string(bucket)
                     : std::string(" of batch statistics")) +
        " (instruction " + std::to_string(pc) + ")";
    reduceBuffers.reserve(std::max(reduceBuffers.capacity(),
                                   in.operands.size()));
    shardBuffers.reserve(std::max(shardBuffers.capacity(),
                                  in.operands.size()));
  }
  pointers.assign(prog.buffers.size(), nullptr);
  owned.reserve(prog.buffers.size());
  for (size_t i = 0; i < prog.buffers.size(); ++i) {
    const BufferDesc &b = prog.buffers[i];
    if (shadowOffset[i] >= 0) {
      pointers[i] = widened.data() + shadowOffset[i];
      continue;
    }
    if (b.role == BufferDesc::Role::Arena) {
      pointers[i] = arena.data() + b.offset;
      continue;
    }
    if (b.role == BufferDesc::Role::View) {
      pointers[i] = pointers[b.viewOf]; // created before its views
      continue;
    }
    owned.emplace_back(b.bytes());
    if (b.role == BufferDesc::Role::Constant)
      std::memcpy(owned.back().data(), b.constant.data(), b.constant.size());
    pointers[i] = owned.back().data();
  }
  for (const ProgramResult &r : prog.results) {
    int target = -1;
    for (size_t i = 0;
         i < prog.buffers.size() && r.kind == ProgramResult::Kind::State; ++i)
      if (prog.buffers[i].role == r.role && prog.buffers[i].name == r.name)
        target = static_cast<int>(i);
    stateTarget.push_back(target);
  }
  int64_t scratchFloats = 0;
  for (const Instruction &in : prog.code)
    if (in.kernel == Kernel::LayerNormGrad)
      scratchFloats = std::max(scratchFloats,
                               cpu::layerNormGradScratch(
                                   prog.buffers[in.results[1]].numElements()));
  planConvolutions();
  for (size_t pc = 0; pc < prog.code.size(); ++pc)
    if (isConvolution(prog.code[pc].kernel) && !dnnlConvs[pc])
      scratchFloats = std::max(
          scratchFloats, convGeometry(prog, prog.code[pc]).columnFloats());
  for (const Instruction &in : prog.code)
    // Both operands dequantised; an output-scaled GEMM reads them as they are.
    if (in.kernel == Kernel::ScaledMatmul && !in.ints[2])
      scratchFloats = std::max(
          scratchFloats, prog.buffers[in.operands[0]].numElements() +
                             prog.buffers[in.operands[2]].numElements());
  scratch.resize(scratchFloats);
  int64_t samples = 0;
  for (const Instruction &in : prog.code)
    if (in.kernel == Kernel::CrossEntropy)
      samples = std::max(samples, prog.buffers[in.operands[0]].shape[0]);
  sampleScratch.resize(samples);
  startWorker();
}

void Executor::planConvolutions() {
  dnnlConvs.resize(prog.code.size());
  size_t workspace = 0;
  for (size_t pc = 0; pc < prog.code.size(); ++pc) {
    const Instruction &in = prog.code[pc];
    if (!isConvolution(in.kernel))
      continue;
    cpu::ConvKernel kernel =
        in.kernel == Kernel::Conv2d            ? cpu::ConvKernel::Forward
        : in.kernel == Kernel::Conv2dGradInput ? cpu::ConvKernel::GradInput
                                               : cpu::ConvKernel::GradWeight;
    dnnlConvs[pc] = cpu::DnnlConv::plan(kernel, convGeometry(prog, in),
                                        in.kernel == Kernel::Conv2d &&
                                            in.operands.size() > 2);
    if (dnnlConvs[pc])
      workspace = std::max(workspace, dnnlConvs[pc]->workspaceBytes());
  }
  if (workspace == 0)
    return;
  dnnlWorkspace = HostMemory(workspace);
  for (auto &conv : dnnlConvs)
    if (conv)
      conv->bind(dnnlWorkspace.data());
}

void Executor::startWorker() {
  awaited.assign(prog.code.size(), 0);
  for (const Instruction &in : prog.code)
    if (in.kernel == Kernel::Wait)
      awaited[in.ints[0]] = 1;
  // One rank has nobody to overlap with: its collectives are copies.
  if (!comm || std::find(awaited.begin(), awaited.end(), 1) == awaited.end())
    return;
  size_t collectives = llvm::count_if(
      prog.code, [](const Instruction &in) { return isCollective(in.kernel); });
  worker = std::make_unique<CollectiveWorker>(
      [this](size_t pc) { return collective(pc); }, collectives,
      prog.code.size());
}

void Executor::commitState() {
  for (size_t r = 0; r < prog.results.size(); ++r)
    if (stateTarget[r] >= 0 &&
        pointers[stateTarget[r]] != pointers[prog.results[r].buffer])
      std::memcpy(pointers[stateTarget[r]], pointers[prog.results[r].buffer],
                  prog.buffers[stateTarget[r]].bytes());
}

llvm::Error Executor::collective(size_t pc) {
  const Instruction &in = prog.code[pc];
  auto type = [&](size_t i) {
    return valueType(prog.buffers[in.results[i]].type);
  };
  switch (in.kernel) {
  case Kernel::AllReduce: { // ints: reduction (0 sum, 1 mean), bucket
    reduceBuffers.clear(); // capacity kept: no allocation in a step
    for (size_t i = 0; i < in.operands.size(); ++i)
      reduceBuffers.push_back({data(in.operands[i]), data(in.results[i]),
                               prog.buffers[in.results[i]].numElements(),
                               type(i)});
    const std::vector<ReduceBuffer> &buffers = reduceBuffers;
    if (comm)
      return comm->allReduce(buffers,
                             in.ints[0] ? ReduceKind::Mean : ReduceKind::Sum,
                             collectiveNames[pc]);
    // One rank: the sum and the mean of one value are the value.
    for (const ReduceBuffer &b : buffers)
      if (b.output != b.input)
        std::memmove(b.output, b.input, b.count * valueBytes(b.type));
    return llvm::Error::success();
  }
  case Kernel::ReduceScatter:
  case Kernel::AllGather: {
    // Buffers are the whole tensors' sizes, whichever side is sharded; a
    // gather into a 16-bit type sends the shard rounded by run().
    bool scatter = in.kernel == Kernel::ReduceScatter;
    shardBuffers.clear();
    for (size_t i = 0; i < in.operands.size(); ++i) {
      int64_t rounded = scatter ? -1 : roundedShardOffset[pc][i];
      shardBuffers.push_back(
          {rounded >= 0 ? roundedShards.data() + rounded : data(in.operands[i]),
           data(in.results[i]),
           prog.buffers[scatter ? in.operands[i] : in.results[i]].numElements(),
           type(i)});
    }
    if (comm)
      return scatter ? comm->reduceScatter(shardBuffers,
                                           in.ints[0] ? ReduceKind::Mean
                                                      : ReduceKind::Sum,
                                           collectiveNames[pc])
                     : comm->allGather(shardBuffers, collectiveNames[pc]);
    // One rank: its shard is the whole tensor.
    for (const ShardBuffer &b : shardBuffers)
      if (b.output != b.input)
        std::memmove(b.output, b.input, b.count * valueBytes(b.type));
    return llvm::Error::success();
  }
  default:
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "instruction %zu is not a collective", pc);
  }
}

llvm::Error Executor::run() {
  cpu::useCallerThreadsForBlas();
  using cpu::BinaryKind;
  using cpu::UnaryKind;
  for (size_t pc = 0; pc < prog.code.size(); ++pc) {
    const Instruction &in = prog.code[pc];
    auto started = profiling ? std::chrono::steady_clock::now()
                             : std::chrono::steady_clock::time_point();
    for (auto [buffer, shadow] : widening[pc].in)
      convert(pool, prog.buffers[buffer].type, data(buffer), ElementType::F32,
              data(shadow), prog.buffers[buffer].numElements());
    auto f = [&](size_t i) { return as<float>(in.operands[i]); };
    auto shape = [&](size_t i) -> const std::vector<int64_t> & {
      return prog.buffers[in.operands[i]].shape;
    };
    const BufferDesc &out = prog.buffers[in.results[0]];
    float *o = as<float>(in.results[0]);
    int64_t n = out.numElements();
    auto binary = [&](BinaryKind k) {
      cpu::broadcastBinary(pool, k, f(0), shape(0), f(1), shape(1), o, out.shape);
    };
    auto unary = [&](UnaryKind k) { cpu::unary(pool, k, f(0), o, n); };
    switch (in.kernel) {
    case Kernel::Linear: {
      // y[M, N] = x[M, K] w[N, K]^T (+ b)
      int64_t nOut = shape(1)[0], k = shape(1)[1], m = n / nOut;
      cpu::gemm(pool, false, true, m, nOut, k, 1.0f, f(0), f(1), 0.0f, o);
      if (in.operands.size() > 2)
        cpu::broadcastBinary(pool, BinaryKind::Add, o, {m, nOut}, f(2), {nOut},
                             o, {m, nOut});
      break;
    }
    case Kernel::BatchedMatmul:
      // ints: transpose lhs, transpose rhs (absorbed transposes).
      cpu::batchedMatmul(pool, f(0), shape(0), !in.ints.empty() && in.ints[0], f(1),
                         shape(1), !in.ints.empty() && in.ints[1], o, out.shape);
      break;
    case Kernel::Permute:
      cpu::permute(pool, f(0), shape(0), in.ints, o);
      break;
    case Kernel::Slice: // ints: dim, start, end, step
      cpu::slice(pool, data(in.operands[0]), shape(0), in.ints[0], in.ints[1],
                 in.ints[2], in.ints[3], elementBytes(out.type),
                 data(in.results[0]));
      break;
    case Kernel::SliceGrad: // ints: dim, start, end, step
      cpu::sliceGrad(pool, f(0), out.shape, in.ints[0], in.ints[1], in.ints[2],
                     in.ints[3], o);
      break;
    case Kernel::Concat: { // ints: dim
      int64_t dim = in.ints[0], outer = 1;
      int64_t innerBytes = static_cast<int64_t>(elementBytes(out.type));
      for (int64_t d = 0; d < dim; ++d)
        outer *= out.shape[d];
      for (size_t d = dim + 1; d < out.shape.size(); ++d)
        innerBytes *= out.shape[d];
      std::vector<const uint8_t *> parts;
      std::vector<int64_t> sizes;
      for (size_t i = 0; i < in.operands.size(); ++i) {
        parts.push_back(data(in.operands[i]));
        sizes.push_back(shape(i)[dim]);
      }
      cpu::concat(pool, parts, sizes, outer, innerBytes, data(in.results[0]));
      break;
    }
    case Kernel::Copy:
      std::memcpy(o, data(in.operands[0]), out.bytes());
      break;
    case Kernel::BroadcastTo: {
      float zero = 0.0f;
      cpu::broadcastBinary(pool, BinaryKind::Add, f(0), shape(0), &zero, {}, o,
                           out.shape);
      break;
    }
    case Kernel::Add: binary(BinaryKind::Add); break;
    case Kernel::Sub: binary(BinaryKind::Sub); break;
    case Kernel::Mul: binary(BinaryKind::Mul); break;
    case Kernel::Div: binary(BinaryKind::Div); break;
    case Kernel::Relu: unary(UnaryKind::Relu); break;
    case Kernel::Tanh: unary(UnaryKind::Tanh); break;
    case Kernel::Sigmoid: unary(UnaryKind::Sigmoid); break;
    case Kernel::Exp: unary(UnaryKind::Exp); break;
    case Kernel::Log: unary(UnaryKind::Log); break;
    case Kernel::Sqrt: unary(UnaryKind::Sqrt); break;
    case Kernel::Rsqrt: unary(UnaryKind::Rsqrt); break;
    case Kernel::Neg: unary(UnaryKind::Neg); break;
    case Kernel::Gelu: unary(UnaryKind::Gelu); break;
    case Kernel::GeluTanh: unary(UnaryKind::GeluTanh); break;
    case Kernel::ReluGrad:
      cpu::reluGrad(pool, f(0), f(1), o, n);
      break;
    case Kernel::Clamp: // floats: min, max
      cpu::clamp(pool, f(0), static_cast<float>(in.floats[0]),
                 static_cast<float>(in.floats[1]), o, n);
      break;
    case Kernel::ClampGrad: // floats: min, max
      cpu::clampGrad(pool, f(0), f(1), static_cast<float>(in.floats[0]),
                     static_cast<float>(in.floats[1]), o, n);
      break;
    case Kernel::GeluGrad:
    case Kernel::GeluTanhGrad:
      cpu::geluGrad(pool, f(0), f(1), in.kernel == Kernel::GeluTanhGrad, o, n);
      break;
    case Kernel::IntToFloat:
      cpu::intToFloat(pool, as<int64_t>(in.operands[0]), o, n);
      break;
    case Kernel::BoolToFloat:
      cpu::boolToFloat(pool, data(in.operands[0]), o, n);
      break;
    case Kernel::Sum:
    case Kernel::Mean: {
      cpu::sum(pool, f(0), shape(0), in.ints, o);
      if (in.kernel == Kernel::Mean) {
        float scale = static_cast<float>(n) /
                      static_cast<float>(prog.buffers[in.operands[0]].numElements());
        for (int64_t i = 0; i < n; ++i)
          o[i] *= scale;
      }
      break;
    }
    case Kernel::Softmax:
    case Kernel::LogSoftmax: {
      int64_t cols = shape(0).back();
      cpu::softmax(pool, f(0), n / cols, cols, in.kernel == Kernel::LogSoftmax, o);
      break;
    }
    case Kernel::SoftmaxGrad:
    case Kernel::LogSoftmaxGrad: {
      int64_t cols = shape(0).back();
      cpu::softmaxGrad(pool, f(0), f(1), n / cols, cols,
                       in.kernel == Kernel::LogSoftmaxGrad, o);
      break;
    }
    case Kernel::CrossEntropy:
      cpu::crossEntropy(pool, f(0), as<int64_t>(in.operands[1]), shape(0)[0],
                        shape(0)[1], static_cast<cpu::LossReduction>(in.ints[0]),
                        in.ints[1], static_cast<float>(in.floats[0]), o,
                        sampleScratch.data());
      break;
    case Kernel::MseLoss: // ints: reduction
      cpu::mseLoss(pool, f(0), f(1), prog.buffers[in.operands[0]].numElements(),
                   static_cast<cpu::LossReduction>(in.ints[0]), o);
      break;
    case Kernel::CrossEntropyGrad:
      cpu::crossEntropyGrad(pool, f(0), f(1), as<int64_t>(in.operands[2]),
                            shape(1)[0], shape(1)[1],
                            static_cast<cpu::LossReduction>(in.ints[0]),
                            in.ints[1], static_cast<float>(in.floats[0]), o);
      break;
    case Kernel::LayerNorm: { // ints: has weight, has bias, normalised size
      int64_t cols = in.ints[2]; // floats: eps
      const float *w = in.ints[0] ? f(1) : nullptr;
      const float *b = in.ints[1] ? f(1 + in.ints[0]) : nullptr;
      cpu::layerNorm(pool, f(0), w, b, n / cols, cols, in.floats[0], o);
      break;
    }
    case Kernel::LayerNormGrad: { // operands: grad, input, [weight], [bias]
      int64_t cols = in.ints[2];
      const float *w = in.ints[0] ? f(2) : nullptr;
      cpu::layerNormGrad(pool, f(0), f(1), w, n / cols, cols, in.floats[0], o,
                         as<float>(in.results[1]), as<float>(in.results[2]),
                         scratch.data());
      break;
    }
    case Kernel::Embedding: {
      int64_t rows = shape(0)[0], dim = shape(0)[1];
      int64_t bad = cpu::embedding(pool, f(0), rows, dim,
                                   as<int64_t>(in.operands[1]), n / dim, o);
      if (bad >= 0)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "embedding index " +
                std::to_string(as<int64_t>(in.operands[1])[bad]) +
                " at position " + std::to_string(bad) +
                " is out of range for a table of " + std::to_string(rows) +
                " rows");
      break;
    }
    case Kernel::EmbeddingGrad: {
      int64_t dim = out.shape[1];
      cpu::embeddingGrad(pool, f(0), as<int64_t>(in.operands[1]),
                         prog.buffers[in.operands[1]].numElements(),
                         out.shape[0], dim, o);
      break;
    }
    case Kernel::MaskedFill:
      cpu::maskedFill(pool, f(0), shape(0), data(in.operands[1]), shape(1),
                      static_cast<float>(in.floats[0]), o, out.shape);
      break;
    case Kernel::Dropout: // ints: stream, rank stride, mode; floats: p
      if (in.ints[2] == 2) {
        // Evaluation of a mask kept unscaled: its expectation, x (1 - p).
        float keep = static_cast<float>(1.0 - in.floats[0]);
        const float *x = f(0);
        for (int64_t i = 0; i < n; ++i)
          o[i] = x[i] * keep;
        break;
      }
      cpu::dropout(pool, f(0), n, in.floats[0],
                   static_cast<uint64_t>(*as<int64_t>(in.operands[1])),
                   static_cast<uint64_t>(in.ints[0]), o,
                   static_cast<uint64_t>(rank() * in.ints[1]),
                   /*rescale=*/in.ints[2] == 0);
      break;
    case Kernel::Conv2d:
      if (cpu::DnnlConv *conv = dnnlConvs[pc].get())
        conv->run(pool, f(0), f(1), in.operands.size() > 2 ? f(2) : nullptr, o);
      else
        cpu::conv2d(pool, convGeometry(prog, in), f(0), f(1),
                    in.operands.size() > 2 ? f(2) : nullptr, o, scratch.data());
      break;
    case Kernel::Conv2dGradInput:
      if (cpu::DnnlConv *conv = dnnlConvs[pc].get())
        conv->run(pool, f(0), f(1), nullptr, o);
      else
        cpu::conv2dGradInput(pool, convGeometry(prog, in), f(0), f(1), o,
                             scratch.data());
      break;
    case Kernel::Conv2dGradWeight:
      if (cpu::DnnlConv *conv = dnnlConvs[pc].get())
        conv->run(pool, f(0), f(1), nullptr, o);
      else
        cpu::conv2dGradWeight(pool, convGeometry(prog, in), f(0), f(1), o,
                              scratch.data());
      break;
    case Kernel::MaxPool2d:
      cpu::maxPool2d(pool, poolGeometry(shape(0), out.shape, in.ints), f(0), o);
      break;
    case Kernel::MaxPool2dGrad: // operands: grad, input
      cpu::maxPool2dGrad(pool, poolGeometry(shape(1), shape(0), in.ints), f(0),
                         f(1), o);
      break;
    case Kernel::AvgPool2d:
    case Kernel::AdaptiveAvgPool2d: {
      cpu::Pool2dGeometry g = poolGeometry(shape(0), out.shape, in.ints);
      if (in.kernel == Kernel::AvgPool2d)
        cpu::avgPool2d(pool, g, f(0), o);
      else
        cpu::adaptiveAvgPool2d(pool, g, f(0), o);
      break;
    }
    case Kernel::AvgPool2dGrad:
    case Kernel::AdaptiveAvgPool2dGrad: { // operands: grad, input
      cpu::Pool2dGeometry g = poolGeometry(shape(1), shape(0), in.ints);
      if (in.kernel == Kernel::AvgPool2dGrad)
        cpu::avgPool2dGrad(pool, g, f(0), o);
      else
        cpu::adaptiveAvgPool2dGrad(pool, g, f(0), o);
      break;
    }
    case Kernel::BatchNorm: // operands: input, weight, bias, mean, var
      cpu::batchNorm(pool, batchNormGeometry(shape(0), in), f(0), f(1), f(2), f(3),
                     f(4), o, as<float>(in.results[1]), as<float>(in.results[2]));
      break;
    case Kernel::BatchNormGrad: // operands: grad, input, weight, mean, var
      cpu::batchNormGrad(pool, batchNormGeometry(shape(1), in), f(0), f(1), f(2),
                         f(3), f(4), o, as<float>(in.results[1]),
                         as<float>(in.results[2]));
      break;
    case Kernel::Fused: {
      // At most kFusedMaxRegisters operands and results (the loader checks).
      const float *inputs[kFusedMaxRegisters];
      bool scalar[kFusedMaxRegisters];
      float *outputs[kFusedMaxRegisters];
      size_t numIn = in.operands.size(), numOut = in.results.size();
      for (size_t i = 0; i < numIn; ++i) {
        inputs[i] = f(i);
        scalar[i] = prog.buffers[in.operands[i]].numElements() == 1;
      }
      for (size_t r = 0; r < numOut; ++r)
        outputs[r] = as<float>(in.results[r]);
      // Spelled out: a braced {bool *, size} would be an initializer list
      // of two bools.
      runFused(pool, prog.fusedBodies[in.ints[0]],
               llvm::ArrayRef<const float *>(inputs, numIn),
               llvm::ArrayRef<bool>(scalar, numIn),
               llvm::ArrayRef<float *>(outputs, numOut), n);
      break;
    }
    case Kernel::AddInt:
    case Kernel::MulInt:
    case Kernel::EqualInt: {
      const int64_t *a = as<int64_t>(in.operands[0]), *b = as<int64_t>(in.operands[1]);
      for (int64_t i = 0; i < n; ++i) {
        if (in.kernel == Kernel::EqualInt)
          data(in.results[0])[i] = a[i] == b[i];
        else
          as<int64_t>(in.results[0])[i] =
              in.kernel == Kernel::AddInt ? a[i] + b[i] : a[i] * b[i];
      }
      break;
    }
    case Kernel::Fp8Quantize: // results: data (rounded on store), scale
      cpu::fp8Quantize(pool, f(0), shape(0)[0], shape(0)[1],
                       static_cast<cpu::Fp8Grouping>(in.ints[0]),
                       in.ints[1] != 0, static_cast<float>(in.floats[0]), o,
                       as<float>(in.results[1]));
      break;
    case Kernel::ScaledMatmul: { // lhs [M, K], lhs scale, rhs [N, K], rhs scale
      // ints: the groupings of the lhs and rhs scales, output-scaled.
      int64_t m = shape(0)[0], k = shape(0)[1], nOut = shape(2)[0];
      if (in.ints[2]) {
        cpu::scaledMatmulOutputScaled(pool, f(0), *f(1), f(2), *f(3), m, nOut,
                                      k, o);
        break;
      }
      cpu::scaledMatmul(pool, f(0), f(1),
                        static_cast<cpu::Fp8Grouping>(in.ints[0]), f(2), f(3),
                        static_cast<cpu::Fp8Grouping>(in.ints[1]), m, nOut, k,
                        o, scratch.data());
      break;
    }
    case Kernel::Fp8QuantizeScaled: // results: data (rounded on store), amax
      cpu::fp8QuantizeScaled(pool, f(0), prog.buffers[in.operands[0]].numElements(),
                             *f(1), static_cast<float>(in.floats[0]), o,
                             as<float>(in.results[1]));
      break;
    case Kernel::Fp8ScaleUpdate: // history, scale, amax -> history, scale
      cpu::fp8ScaleUpdate(f(0), n, *f(1), *f(2),
                          static_cast<cpu::Fp8AmaxAlgo>(in.ints[0]), in.ints[1],
                          static_cast<float>(in.floats[0]), o,
                          as<float>(in.results[1]));
      break;
    case Kernel::Cast:
      convert(pool, prog.buffers[in.operands[0]].type, data(in.operands[0]),
              out.type, data(in.results[0]), n);
      break;
    case Kernel::Select: {
      int chosen = *data(in.operands[0]) ? in.operands[1] : in.operands[2];
      if (data(chosen) != data(in.results[0]))
        std::memcpy(data(in.results[0]), data(chosen), out.bytes());
      break;
    }
    case Kernel::AllFinite: {
      bool finite = true;
      for (int operand : in.operands)
        finite = finite && allFinite(pool, prog.buffers[operand].type,
                                     data(operand),
                                     prog.buffers[operand].numElements());
      *data(in.results[0]) = finite;
      break;
    }
    case Kernel::AllReduce:
    case Kernel::ReduceScatter:
    case Kernel::AllGather:
      // Shards gathered into a 16-bit type are rounded here, before the
      // communication thread may read them.
      if (in.kernel == Kernel::AllGather)
        for (size_t i = 0; i < in.operands.size(); ++i)
          if (int64_t at = roundedShardOffset[pc][i]; at >= 0)
            convert(pool, ElementType::F32, data(in.operands[i]),
                    prog.buffers[in.results[i]].type, roundedShards.data() + at,
                    prog.buffers[in.operands[i]].numElements());
      // Started here; an awaited one completes at its Wait.
      if (worker) {
        worker->start(pc);
        if (!awaited[pc])
          if (llvm::Error e = worker->wait(pc))
            return e;
      } else if (llvm::Error e = collective(pc)) {
        return e;
      }
      break;
    case Kernel::Wait: // ints: the collective's instruction
      if (worker)
        if (llvm::Error e = worker->wait(in.ints[0]))
          return e;
      break;
    case Kernel::LocalShard: { // ints: ranks
      int64_t count = prog.buffers[in.operands[0]].numElements();
      int64_t shard = shardCount(count, in.ints[0]);
      int64_t begin = std::min(count, rank() * shard);
      int64_t end = std::min(count, begin + shard);
      float *out = as<float>(in.results[0]);
      std::memmove(out, f(0) + begin, (end - begin) * sizeof(float));
      std::fill(out + (end - begin), out + shard, 0.0f);
      break;
    }
    }
    for (auto [buffer, shadow] : widening[pc].out)
      convert(pool, ElementType::F32, data(shadow), prog.buffers[buffer].type,
              data(buffer), prog.buffers[buffer].numElements());
    if (profiling)
      seconds[pc] += std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - started)
                         .count();
  }
  return llvm::Error::success();
}

} // namespace accel::rt
