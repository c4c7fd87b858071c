//===- DeviceLoader.h - a program's kernels on a device ---------*- C++ -*-===//
//
// What the OpenCL and CUDA drivers share: turning a loaded Program into
// device memory and one launch closure per instruction. Both run the same
// kernel source (DeviceKernels.cpp) with the same arguments, so the
// per-kernel geometry, metadata and launch order live here once; a Backend
// supplies the device's primitives:
//
//   using Memory, KernelRef;        a buffer handle; a kernel with its
//                                   arguments, made once at load
//   std::string prefix();           "opencl: ", for messages
//   Memory create(size_t bytes);    owned until the executable is gone
//   void write(Memory, const void *, size_t bytes);   synchronous
//   void compile(const std::string &source);   the whole program's kernels
//   KernelRef kernel(const char *name);
//   template <class T> void set(KernelRef, unsigned index, T value);
//   Step launch(KernelRef, size_t n);     one work item per index < n
//   Step launchGroups(KernelRef, size_t groups, size_t size);   work groups
//   Step gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb, c, cOff,
//             batches, aStride, bStride, cStride);   row-major, strided
//                                   batches (strides in elements, 0: shared)
//   Step copy(Memory src, size_t from, Memory dst, size_t to, size_t bytes);
//   void download(Memory, size_t from, void *host, size_t bytes);  blocking
//   void upload(Memory, size_t to, const void *host, size_t bytes); blocking
//
// Collectives go through the host's (accel_collectives, the plugin ABI's):
// their f32 values are staged through host memory, the device waiting.
//
// Buffers are (memory, element offset) pairs: the step's values are views
// into one arena, so kernels take the arena and an offset. Failures are
// thrown as Failure and caught at the driver ABI's boundary.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICELOADER_H
#define ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICELOADER_H

#include "runtime/executor/Program.h"
#include "runtime/executor/Widening.h"
#include "runtime/hal/accel_driver.h"
#include "runtime/hal/plugins/kernels/DeviceKernels.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

namespace accel::rt::devicekernels {

/// Thrown while loading and running, caught at the ABI boundary.
struct Failure {
  std::string message;
};

using Step = std::function<void()>;

/// A program as loaded on a device.
template <typename Memory> struct DeviceProgram {
  Program program;
  /// Where buffer i lives: a memory object and a byte offset into it.
  std::vector<Memory> memory;
  std::vector<uint64_t> offset;
  /// Per instruction, what launches it.
  std::vector<Step> steps;
  /// commit_state's copies: (state result, the state it replaces), for
  /// results not already computed in the state's own buffer.
  std::vector<std::pair<int, int>> commits;
  /// Host memory the collectives' values pass through, made at load.
  std::vector<std::vector<float>> staging;
};

/// Builds a DeviceProgram's memory, kernels and launch closures.
template <typename Backend> class DeviceLoader {
public:
  using Memory = typename Backend::Memory;
  using KernelRef = typename Backend::KernelRef;

  /// `collectives`: this rank's (the host's), or null for one rank.
  DeviceLoader(Backend &backend, DeviceProgram<Memory> &e,
               const accel_collectives *collectives = nullptr)
      : backend(backend), e(e), collectives(collectives),
        rankIndex(collectives ? collectives->rank : 0) {}

  void load() {
    allocate();
    planWidening();
    allocateScratch();
    compile();
    for (size_t pc = 0; pc < e.program.code.size(); ++pc)
      e.steps.push_back(withWidening(pc, prepare(pc)));
    const Program &p = e.program;
    for (const ProgramResult &r : p.results) {
      if (r.kind != ProgramResult::Kind::State)
        continue;
      for (size_t i = 0; i < p.buffers.size(); ++i)
        if (p.buffers[i].role == r.role && p.buffers[i].name == r.name) {
          if (p.buffers[i].bytes() > 0 &&
              (e.memory[i] != e.memory[r.buffer] ||
               e.offset[i] != e.offset[r.buffer]))
            e.commits.push_back({r.buffer, static_cast<int>(i)});
          break;
        }
    }
  }

private:
  Memory create(size_t bytes) { return backend.create(bytes); }

  void allocate() {
    const Program &p = e.program;
    Memory arena = create(p.arenaBytes);
    e.memory.resize(p.buffers.size());
    e.offset.resize(p.buffers.size());
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      const BufferDesc &b = p.buffers[i];
      if (b.role == BufferDesc::Role::Arena) {
        e.memory[i] = arena;
        e.offset[i] = b.offset;
      } else if (b.role == BufferDesc::Role::View) {
        e.memory[i] = e.memory[b.viewOf];
        e.offset[i] = e.offset[b.viewOf];
      } else {
        e.memory[i] = create(b.bytes());
        e.offset[i] = 0;
        if (b.role == BufferDesc::Role::Constant && b.bytes() > 0)
          backend.write(e.memory[i], b.constant.data(), b.bytes());
      }
    }
  }

  /// Kernels that read and write their buffers in their own types (as
  /// bytes, or converting themselves); every other kernel computes in f32.
  static bool handlesAnyType(Kernel k) {
    return k == Kernel::Copy || k == Kernel::Slice || k == Kernel::Concat ||
           k == Kernel::Select || k == Kernel::Cast || k == Kernel::AllFinite;
  }

  /// As the CPU executor does (runtime/executor/Widening.h): a kernel
  /// with bf16/f16 operands or results runs on f32 shadows of them, the
  /// operands widened (exactly) before it and the results rounded (to
  /// nearest even) after, so the kernels see f32 alone and round once per
  /// result. The shadows share one device buffer (launches run in order).
  void planWidening() {
    WideningPlan plan = rt::planWidening(e.program, handlesAnyType);
    widening = std::move(plan.perInstruction);
    if (plan.shadowOffsets.empty())
      return;
    Memory widened = create(plan.bytes);
    for (uint64_t at : plan.shadowOffsets) {
      e.memory.push_back(widened);
      e.offset.push_back(at);
    }
  }

  /// `step` with its instruction's operands widened before it and its
  /// results rounded after.
  Step withWidening(size_t pc, Step step) {
    const WideningPlan::Shadows &w = widening[pc];
    if (w.in.empty() && w.out.empty())
      return step;
    std::vector<Step> s;
    for (auto [buffer, shadow] : w.in)
      s.push_back(convert(buffer, shadow));
    s.push_back(std::move(step));
    for (auto [buffer, shadow] : w.out)
      s.push_back(convert(shadow, buffer));
    return sequence(std::move(s));
  }

  /// Memory some kernels pass between their launches, one for the
  /// largest need, reused by every instruction (launches run in order):
  /// the dequantised operands of FP8 products (ScaledMatmul without output
  /// scaling) and the column blocks' sums of long leading sums.
  void allocateScratch() {
    uint64_t floats = 0, partials = 0;
    for (const Instruction &in : e.program.code) {
      const Program &p = e.program;
      if (in.kernel == Kernel::ScaledMatmul && !in.ints[2])
        floats = std::max<uint64_t>(
            floats, p.buffers[in.operands[0]].numElements() +
                        p.buffers[in.operands[2]].numElements());
      if (in.kernel == Kernel::Sum || in.kernel == Kernel::Mean) {
        uint64_t n = p.buffers[in.results[0]].numElements();
        uint64_t whole = p.buffers[in.operands[0]].numElements();
        partials =
            std::max<uint64_t>(partials, n * sumBlocks(n ? whole / n : 0));
      }
    }
    if (floats)
      dequantised = create(floats * sizeof(float));
    if (partials)
      sumPartials = create(partials * sizeof(double));
  }

  /// Column blocks a leading sum over `reduced` rows is split into: 64 of
  /// at least 128 rows where there are that many (on a GPU one work item
  /// per column leaves most of it idle), else one.
  static uint64_t sumBlocks(uint64_t reduced) {
    return reduced >= 1024 ? std::min<uint64_t>(64, reduced / 128) : 1;
  }

  /// The library's code for a float buffer's type (DeviceKernels.cpp).
  int32_t typeCode(int b) {
    switch (e.program.buffers[b].type) {
    case ElementType::F32:
      return 0;
    case ElementType::BF16:
      return 1;
    case ElementType::F16:
      return 2;
    case ElementType::F8E4M3FN:
      return 3;
    case ElementType::F8E5M2:
      return 4;
    case ElementType::F8E8M0FNU:
      return 5;
    default:
      throw Failure{backend.prefix() + "buffer #" + std::to_string(b) +
                    " is not a float buffer"};
    }
  }

  /// Buffer `to` = buffer `from` converted (same element count).
  Step convert(int from, int to) {
    uint64_t n = e.program.buffers[to].numElements();
    KernelRef k = kernel("convert");
    args(k, e.memory[from], uint64_t(e.offset[from]), typeCode(from),
         e.memory[to], uint64_t(e.offset[to]), typeCode(to), n);
    return launch(k, n);
  }

  void compile() {
    llvm::Expected<std::string> source = programSource(e.program);
    if (!source)
      throw Failure{backend.prefix() + llvm::toString(source.takeError())};
    backend.compile(*source);
  }

  KernelRef kernel(const char *name) { return backend.kernel(name); }

  /// Sets the arguments of `k` in order.
  template <typename... Args> void args(KernelRef k, Args... values) {
    unsigned index = 0;
    (set(k, index++, values), ...);
  }
  template <typename T> void set(KernelRef k, unsigned index, T value) {
    backend.set(k, index, value);
  }

  /// Sets (memory, element offset) arguments for every operand, then every
  /// result, of `in`; returns the next argument's index.
  unsigned bufferArgs(KernelRef k, const Instruction &in) {
    unsigned index = 0;
    for (const std::vector<int> *list : {&in.operands, &in.results})
      for (int b : *list) {
        set(k, index++, e.memory[b]);
        set(k, index++, at(b));
      }
    return index;
  }

  /// Element offset of buffer `b` (elements of its own type).
  uint64_t at(int b) {
    return e.offset[b] / elementBytes(e.program.buffers[b].type);
  }

  Memory constants(std::vector<int64_t> values) {
    if (values.empty()) // rank 0: nothing to read, but a buffer to pass
      values.push_back(0);
    Memory m = create(values.size() * sizeof(int64_t));
    backend.write(m, values.data(), values.size() * sizeof(int64_t));
    return m;
  }

  Step launch(KernelRef k, size_t n) { return backend.launch(k, n); }

  /// Rows of at least this many columns are reduced by a work group each
  /// (the *_group kernels, DeviceKernels.cpp's ROW_GROUP work items);
  /// narrower ones by one work item each, in the CPU's order.
  static constexpr uint64_t kWideRow = 16;
  static constexpr size_t kRowGroup = 128;

  /// A row kernel over `rows`: one work group per row when `wide`.
  Step perRow(KernelRef k, uint64_t rows, bool wide) {
    if (!wide)
      return launch(k, rows);
    if (rows == 0)
      return [] {};
    return backend.launchGroups(k, rows, kRowGroup);
  }

  /// `out`'s shape, then each operand's strides over it with numpy
  /// broadcasting (0 along a broadcast dimension).
  std::vector<int64_t> broadcastMeta(int out, std::initializer_list<int> operands) {
    const std::vector<int64_t> &shape = e.program.buffers[out].shape;
    int rank = static_cast<int>(shape.size());
    if (rank > kMaxRank)
      throw Failure{backend.prefix() + "a broadcast of rank above 8"};
    std::vector<int64_t> meta(shape.begin(), shape.end());
    for (int operand : operands) {
      const std::vector<int64_t> &s = e.program.buffers[operand].shape;
      std::vector<int64_t> strides(rank, 0);
      int64_t stride = 1;
      for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
        int outDim = rank - static_cast<int>(s.size()) + d;
        strides[outDim] = s[d] == 1 ? 0 : stride;
        stride *= s[d];
      }
      meta.insert(meta.end(), strides.begin(), strides.end());
    }
    return meta;
  }

  /// Whether buffer `b` broadcasts to `out` by repetition: its shape,
  /// without leading 1s, ends out's shape (same shape, a scalar, a bias
  /// row), so out's element i reads its element i % size.
  bool repeats(int b, int out) {
    const std::vector<int64_t> &s = e.program.buffers[b].shape,
                               &o = e.program.buffers[out].shape;
    size_t first = 0;
    while (first < s.size() && s[first] == 1)
      ++first;
    if (s.size() - first > o.size())
      return false;
    return std::equal(s.begin() + first, s.end(),
                      o.end() - (s.size() - first));
  }

  /// out = a (op) b with numpy broadcasting of a and b to out's shape.
  Step binary(int op, int a, int b, int out) {
    int32_t rank = static_cast<int32_t>(e.program.buffers[out].shape.size());
    uint64_t n = e.program.buffers[out].numElements();
    if (repeats(a, out) && repeats(b, out)) {
      KernelRef k = kernel("binary_repeat");
      args(k, e.memory[a], at(a), e.program.buffers[a].numElements(),
           e.memory[b], at(b), e.program.buffers[b].numElements(),
           e.memory[out], at(out), n, int32_t(op));
      return launch(k, n);
    }
    KernelRef k = kernel("binary");
    args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
         constants(broadcastMeta(out, {a, b})), rank, n, int32_t(op));
    return launch(k, n);
  }

  /// C[m, n] = op(A) op(B), row-major; offsets in elements of buffers
  /// a, b and c of the program.
  Step gemm(bool transA, bool transB, size_t m, size_t n, size_t k, int a,
            size_t aOff, size_t lda, int b, size_t bOff, size_t ldb, int c,
            size_t cOff) {
    return gemm(transA, transB, m, n, k, e.memory[a], aOff, lda, e.memory[b],
                bOff, ldb, e.memory[c], cOff);
  }
  Step gemm(bool transA, bool transB, size_t m, size_t n, size_t k, Memory a,
            size_t aOff, size_t lda, Memory b, size_t bOff, size_t ldb,
            Memory c, size_t cOff) {
    return backend.gemm(transA, transB, m, n, k, a, aOff, lda, b, bOff, ldb,
                        c, cOff, 1, 0, 0, 0);
  }

  static Step sequence(std::vector<Step> s) {
    return [s = std::move(s)] {
      for (const auto &f : s)
        f();
    };
  }

  Step prepare(size_t pc) {
    const Program &p = e.program;
    const Instruction &in = p.code[pc];
    auto shape = [&](size_t i) -> const std::vector<int64_t> & {
      return p.buffers[in.operands[i]].shape;
    };
    int out = in.results[0];
    uint64_t n = p.buffers[out].numElements();
    if (int code = unaryCode(in.kernel); code >= 0) {
      KernelRef k = kernel("unary");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n, int32_t(code));
      return launch(k, n);
    }
    if (int code = binaryCode(in.kernel); code >= 0)
      return binary(code, in.operands[0], in.operands[1], out);
    switch (in.kernel) {
    case Kernel::Linear: {
      // y[M, N] = x[M, K] w[N, K]^T (+ b)
      size_t nOut = shape(1)[0], k = shape(1)[1], m = n / nOut;
      std::vector<Step> s = {
          gemm(false, true, m, nOut, k, in.operands[0], at(in.operands[0]), k,
               in.operands[1], at(in.operands[1]), k, out, at(out))};
      if (in.operands.size() > 2)
        s.push_back(binary(kAdd, out, in.operands[2], out));
      return sequence(std::move(s));
    }
    case Kernel::BatchedMatmul: {
      bool ta = !in.ints.empty() && in.ints[0], tb = in.ints.size() > 1 && in.ints[1];
      const std::vector<int64_t> &as = shape(0), &bs = shape(1);
      const std::vector<int64_t> &os = p.buffers[out].shape;
      size_t aRows = as[as.size() - 2], aCols = as.back();
      size_t bRows = bs[bs.size() - 2], bCols = bs.back();
      size_t m = ta ? aCols : aRows, k = ta ? aRows : aCols;
      size_t nn = tb ? bRows : bCols;
      // Batch dimensions broadcast numpy-style: walk the result's batch
      // and find each operand's matrix.
      size_t batches = 1;
      for (size_t d = 0; d + 2 < os.size(); ++d)
        batches *= os[d];
      std::vector<size_t> aIndex(batches), bIndex(batches);
      for (size_t t = 0; t < batches; ++t) {
        size_t rest = t, aStride = 1, bStride = 1;
        for (int d = static_cast<int>(os.size()) - 3; d >= 0; --d) {
          size_t c = rest % os[d];
          rest /= os[d];
          int ad = d - (static_cast<int>(os.size()) - static_cast<int>(as.size()));
          int bd = d - (static_cast<int>(os.size()) - static_cast<int>(bs.size()));
          if (ad >= 0) {
            aIndex[t] += (as[ad] == 1 ? 0 : c) * aStride;
            aStride *= as[ad];
          }
          if (bd >= 0) {
            bIndex[t] += (bs[bd] == 1 ? 0 : c) * bStride;
            bStride *= bs[bd];
          }
        }
      }
      int a = in.operands[0], b = in.operands[1];
      // Where each operand's matrix index is t times a stride (no
      // broadcast, or a whole operand broadcast), one strided-batched
      // product does them all.
      bool strided = batches > 1;
      for (size_t t = 0; t < batches && strided; ++t)
        strided = aIndex[t] == t * aIndex[1] && bIndex[t] == t * bIndex[1];
      if (strided)
        return backend.gemm(ta, tb, m, nn, k, e.memory[a], at(a), aCols,
                            e.memory[b], at(b), bCols, e.memory[out], at(out),
                            batches, aIndex[1] * aRows * aCols,
                            bIndex[1] * bRows * bCols, m * nn);
      std::vector<Step> s;
      for (size_t t = 0; t < batches; ++t)
        s.push_back(gemm(ta, tb, m, nn, k, a, at(a) + aIndex[t] * aRows * aCols,
                         aCols, b, at(b) + bIndex[t] * bRows * bCols, bCols,
                         out, at(out) + t * m * nn));
      return sequence(std::move(s));
    }
    case Kernel::Cast:
      return convert(in.operands[0], out);
    case Kernel::Slice: { // ints: dim, start, end, step
      const std::vector<int64_t> &s = shape(0);
      int64_t dim = in.ints[0], start = in.ints[1], step = in.ints[3];
      uint64_t outer = 1, inner = elementBytes(p.buffers[out].type);
      for (int64_t d = 0; d < dim; ++d)
        outer *= s[d];
      for (size_t d = dim + 1; d < s.size(); ++d)
        inner *= s[d];
      uint64_t size = s[dim], taken = p.buffers[out].shape[dim];
      int x = in.operands[0];
      return stridedRows(x, e.offset[x] + start * inner, out, e.offset[out],
                         outer, inner, taken, size * inner, step * inner,
                         taken * inner);
    }
    case Kernel::Concat: { // ints: dim; parts one after another along it
      const std::vector<int64_t> &os = p.buffers[out].shape;
      int64_t dim = in.ints[0];
      uint64_t outer = 1, inner = elementBytes(p.buffers[out].type);
      for (int64_t d = 0; d < dim; ++d)
        outer *= os[d];
      for (size_t d = dim + 1; d < os.size(); ++d)
        inner *= os[d];
      std::vector<Step> s;
      uint64_t before = 0; // rows of the parts before this one
      for (size_t i = 0; i < in.operands.size(); ++i) {
        int part = in.operands[i];
        uint64_t rows = shape(i)[dim];
        s.push_back(stridedRows(part, e.offset[part], out,
                                e.offset[out] + before * inner, outer, inner,
                                rows, rows * inner, inner, os[dim] * inner));
        before += rows;
      }
      return sequence(std::move(s));
    }
    case Kernel::SliceGrad: { // ints: dim, start, end, step
      const std::vector<int64_t> &os = p.buffers[out].shape;
      int64_t dim = in.ints[0];
      uint64_t inner = 1;
      for (size_t d = dim + 1; d < os.size(); ++d)
        inner *= os[d];
      KernelRef k = kernel("slice_grad");
      int g = in.operands[0];
      args(k, e.memory[g], at(g), e.memory[out], at(out), n, uint64_t(os[dim]),
           inner, uint64_t(in.ints[1]), uint64_t(in.ints[3]),
           uint64_t(shape(0)[dim]));
      return launch(k, n);
    }
    case Kernel::Clamp:
    case Kernel::ClampGrad: { // floats: min, max
      bool grad = in.kernel == Kernel::ClampGrad;
      KernelRef k = kernel(grad ? "clamp_grad" : "clamp_values");
      unsigned index = bufferArgs(k, in);
      set(k, index++, n);
      set(k, index++, static_cast<float>(in.floats[0]));
      set(k, index, static_cast<float>(in.floats[1]));
      return launch(k, n);
    }
    case Kernel::MseLoss: { // ints: reduction (0 none, 1 mean, 2 sum)
      int x = in.operands[0], target = in.operands[1];
      uint64_t count = p.buffers[x].numElements();
      KernelRef k = kernel("mse_loss");
      args(k, e.memory[x], at(x), e.memory[target], at(target), e.memory[out],
           at(out), count, int32_t(in.ints[0]));
      return launch(k, in.ints[0] == 0 ? count : 1);
    }
    case Kernel::Fp8Quantize:
    case Kernel::Fp8QuantizeScaled:
      return fp8Quantize(in);
    case Kernel::ScaledMatmul:
      return scaledMatmul(in);
    case Kernel::Fp8ScaleUpdate: { // history, scale, amax -> history, scale
      int h = in.operands[0], scale = in.operands[1], amax = in.operands[2];
      int nh = in.results[0], ns = in.results[1];
      KernelRef k = kernel("fp8_scale_update");
      args(k, e.memory[h], at(h), n, e.memory[scale], at(scale), e.memory[amax],
           at(amax), int32_t(in.ints[0]), int32_t(in.ints[1]),
           static_cast<float>(in.floats[0]), e.memory[nh], at(nh), e.memory[ns],
           at(ns));
      return launch(k, 1);
    }
    case Kernel::AllFinite: { // results[0] = every operand's elements finite
      KernelRef set = kernel("set_flag");
      args(set, e.memory[out], uint64_t(e.offset[out]));
      std::vector<Step> s = {launch(set, 1)};
      for (int x : in.operands) {
        uint64_t count = p.buffers[x].numElements();
        KernelRef k = kernel("clear_if_nonfinite");
        args(k, e.memory[x], uint64_t(e.offset[x]), typeCode(x), e.memory[out],
             uint64_t(e.offset[out]), count);
        s.push_back(launch(k, count));
      }
      return sequence(std::move(s));
    }
    case Kernel::BroadcastTo: {
      // x + 0 with x broadcast, as the CPU computes it (-0 becomes +0).
      int x = in.operands[0];
      int32_t rank = static_cast<int32_t>(p.buffers[out].shape.size());
      std::vector<int64_t> meta = broadcastMeta(out, {x});
      meta.insert(meta.end(), rank, 0); // the zero: one element, everywhere
      Memory zero = create(sizeof(float));
      float value = 0.0f;
      backend.write(zero, &value, sizeof(value));
      KernelRef k = kernel("binary");
      args(k, e.memory[x], at(x), zero, uint64_t(0), e.memory[out], at(out),
           constants(meta), rank, n, int32_t(kAdd));
      return launch(k, n);
    }
    case Kernel::AllReduce:
    case Kernel::ReduceScatter:
    case Kernel::AllGather:
      return collective(pc);
    case Kernel::Wait: // collectives complete where they start
      return [] {};
    case Kernel::LocalShard: { // ints: ranks; this rank's shard, zero-padded
      int whole = in.operands[0];
      uint64_t count = p.buffers[whole].numElements();
      uint64_t shard = (count + in.ints[0] - 1) / in.ints[0];
      uint64_t begin = std::min<uint64_t>(count, rankIndex * shard);
      uint64_t end = std::min<uint64_t>(count, begin + shard);
      KernelRef zero = kernel("fill_zero");
      args(zero, e.memory[out], at(out), n);
      // f32 both (16-bit ones are widened around it).
      return sequence({launch(zero, n),
                       backend.copy(e.memory[whole],
                                    e.offset[whole] + begin * sizeof(float),
                                    e.memory[out], e.offset[out],
                                    (end - begin) * sizeof(float))});
    }
    case Kernel::Copy:
      return backend.copy(e.memory[in.operands[0]], e.offset[in.operands[0]],
                          e.memory[out], e.offset[out], p.buffers[out].bytes());
    case Kernel::AddInt:
    case Kernel::MulInt: {
      KernelRef k = kernel("int_op");
      int a = in.operands[0], b = in.operands[1];
      args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
           n, int32_t(in.kernel == Kernel::AddInt ? 0 : 1));
      return launch(k, n);
    }
    case Kernel::EqualInt: {
      KernelRef k = kernel("equal_int");
      int a = in.operands[0], b = in.operands[1];
      args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
           n);
      return launch(k, n);
    }
    case Kernel::BoolToFloat: {
      KernelRef k = kernel("bool_to_float");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n);
      return launch(k, n);
    }
    case Kernel::Select: {
      // results[0] = operands[0] ? operands[1] : operands[2]
      KernelRef k = kernel("select_bytes");
      int flag = in.operands[0], a = in.operands[1], b = in.operands[2];
      uint64_t bytes = p.buffers[out].bytes();
      args(k, e.memory[flag], uint64_t(e.offset[flag]), e.memory[a],
           uint64_t(e.offset[a]), e.memory[b], uint64_t(e.offset[b]),
           e.memory[out], uint64_t(e.offset[out]), bytes);
      return launch(k, bytes);
    }
    case Kernel::Permute: { // ints: result dimension d is input dimension ints[d]
      const std::vector<int64_t> &s = shape(0);
      int rank = static_cast<int>(s.size());
      if (rank > kMaxRank)
        throw Failure{backend.prefix() + "a permutation of rank above 8"};
      std::vector<int64_t> inStrides(rank, 1);
      for (int d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * s[d + 1];
      const std::vector<int64_t> &os = p.buffers[out].shape;
      std::vector<int64_t> meta(os.begin(), os.end());
      for (int d = 0; d < rank; ++d)
        meta.push_back(inStrides[in.ints[d]]);
      KernelRef k = kernel("gather_strided");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), constants(meta),
           int32_t(rank), n);
      return launch(k, n);
    }
    case Kernel::MaskedFill: { // floats: the value
      int x = in.operands[0], mask = in.operands[1];
      if (repeats(x, out) && repeats(mask, out)) {
        KernelRef k = kernel("masked_fill_repeat");
        args(k, e.memory[x], at(x), p.buffers[x].numElements(),
             e.memory[mask], at(mask), p.buffers[mask].numElements(),
             e.memory[out], at(out), n, static_cast<float>(in.floats[0]));
        return launch(k, n);
      }
      KernelRef k = kernel("masked_fill");
      args(k, e.memory[x], at(x), e.memory[mask], at(mask), e.memory[out],
           at(out), constants(broadcastMeta(out, {x, mask})),
           int32_t(p.buffers[out].shape.size()), n,
           static_cast<float>(in.floats[0]));
      return launch(k, n);
    }
    case Kernel::Softmax:
    case Kernel::LogSoftmax: {
      uint64_t cols = shape(0).back(), rows = cols ? n / cols : 0;
      bool wide = cols >= kWideRow;
      KernelRef k = kernel(wide ? "softmax_group" : "softmax");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), rows, cols,
           int32_t(in.kernel == Kernel::LogSoftmax));
      return perRow(k, rows, wide);
    }
    case Kernel::SoftmaxGrad:
    case Kernel::LogSoftmaxGrad: {
      uint64_t cols = shape(0).back(), rows = cols ? n / cols : 0;
      bool wide = cols >= kWideRow;
      KernelRef k = kernel(wide ? "softmax_grad_group" : "softmax_grad");
      int g = in.operands[0], y = in.operands[1];
      args(k, e.memory[g], at(g), e.memory[y], at(y), e.memory[out], at(out),
           rows, cols, int32_t(in.kernel == Kernel::LogSoftmaxGrad));
      return perRow(k, rows, wide);
    }
    case Kernel::LayerNorm: { // ints: has weight, has bias, size; floats: eps
      int x = in.operands[0];
      int w = in.ints[0] ? in.operands[1] : x;
      int b = in.ints[1] ? in.operands[1 + in.ints[0]] : x;
      uint64_t cols = in.ints[2], rows = cols ? n / cols : 0;
      bool wide = cols >= kWideRow;
      KernelRef k = kernel(wide ? "layer_norm_group" : "layer_norm");
      args(k, e.memory[x], at(x), e.memory[w], at(w), e.memory[b], at(b),
           e.memory[out], at(out), rows, cols, double(in.floats[0]),
           int32_t(in.ints[0]), int32_t(in.ints[1]));
      return perRow(k, rows, wide);
    }
    case Kernel::LayerNormGrad: { // operands: grad, input, [weight], [bias]
      int g = in.operands[0], x = in.operands[1];
      int w = in.ints[0] ? in.operands[2] : x;
      int dw = in.results[1], db = in.results[2];
      uint64_t cols = in.ints[2], rows = cols ? n / cols : 0;
      // The CPU's row blocks (kLayerNormGradBlocks), so the parameter
      // gradients sum in its order.
      uint64_t blocks = std::min<uint64_t>(64, std::max<uint64_t>(rows, 1));
      uint64_t perBlock = (rows + blocks - 1) / blocks;
      Memory part = create(2 * blocks * std::max<uint64_t>(cols, 1) *
                           sizeof(float));
      Memory stats = create(2 * std::max<uint64_t>(rows, 1) * sizeof(float));
      bool wide = cols >= kWideRow;
      KernelRef k =
          kernel(wide ? "layer_norm_grad_rows_group" : "layer_norm_grad_rows");
      args(k, e.memory[g], at(g), e.memory[x], at(x), e.memory[w], at(w),
           e.memory[out], at(out), stats, rows, cols, double(in.floats[0]),
           int32_t(in.ints[0]));
      KernelRef partials = kernel("layer_norm_grad_partials");
      args(partials, e.memory[g], at(g), e.memory[x], at(x), stats, part,
           rows, cols, blocks, perBlock);
      KernelRef sum = kernel("layer_norm_grad_params");
      args(sum, part, e.memory[dw], at(dw), e.memory[db], at(db), cols,
           blocks);
      return sequence({perRow(k, rows, wide), launch(partials, blocks * cols),
                       launch(sum, cols)});
    }
    case Kernel::Embedding: {
      int w = in.operands[0], idx = in.operands[1];
      int64_t rows = shape(0)[0];
      uint64_t dim = shape(0)[1];
      KernelRef k = kernel("embedding");
      args(k, e.memory[w], at(w), e.memory[idx], at(idx), e.memory[out],
           at(out), rows, dim, n);
      return launch(k, n);
    }
    case Kernel::EmbeddingGrad: {
      int g = in.operands[0], idx = in.operands[1];
      int64_t rows = p.buffers[out].shape[0];
      uint64_t dim = p.buffers[out].shape[1];
      uint64_t count = p.buffers[idx].numElements();
      Memory offsets = create((rows + 1) * sizeof(int64_t));
      Memory list = create(std::max<uint64_t>(count, 1) * sizeof(int64_t));
      KernelRef counted = kernel("embedding_grad_count");
      args(counted, e.memory[idx], at(idx), offsets, count, rows);
      KernelRef scan = kernel("exclusive_scan");
      args(scan, offsets, uint64_t(rows));
      KernelRef listed = kernel("embedding_grad_list");
      args(listed, e.memory[idx], at(idx), offsets, list, count, rows);
      KernelRef k = kernel("embedding_grad");
      args(k, e.memory[g], at(g), offsets, list, e.memory[out], at(out), dim,
           n);
      return sequence({launch(counted, rows), launch(scan, 1),
                       launch(listed, rows), launch(k, n)});
    }
    case Kernel::Dropout: { // ints: stream, rank stride, mode; floats: p
      int x = in.operands[0], seed = in.operands[1];
      uint64_t first = static_cast<uint64_t>(rankIndex * in.ints[1]);
      KernelRef k = kernel("dropout");
      args(k, e.memory[x], at(x), e.memory[seed], at(seed), e.memory[out],
           at(out), n, double(in.floats[0]), uint64_t(in.ints[0]), first,
           int32_t(in.ints[2]));
      return launch(k, n);
    }
    case Kernel::Conv2d:
    case Kernel::Conv2dGradInput:
    case Kernel::Conv2dGradWeight:
      return convolution(in);
    case Kernel::MaxPool2d:
    case Kernel::AvgPool2d:
    case Kernel::AdaptiveAvgPool2d: {
      int x = in.operands[0];
      KernelRef k = kernel(in.kernel == Kernel::MaxPool2d ? "max_pool"
                                                          : "avg_pool");
      args(k, e.memory[x], at(x), e.memory[out], at(out),
           constants(poolMeta(shape(0), p.buffers[out].shape, in.ints)));
      if (in.kernel != Kernel::MaxPool2d)
        set(k, 5, int32_t(in.kernel == Kernel::AdaptiveAvgPool2d));
      return launch(k, n);
    }
    case Kernel::MaxPool2dGrad: { // operands: grad, input
      int g = in.operands[0], x = in.operands[1];
      std::vector<int64_t> meta = poolMeta(shape(1), shape(0), in.ints);
      KernelRef k = kernel("max_pool_grad");
      args(k, e.memory[g], at(g), e.memory[x], at(x), e.memory[out], at(out),
           constants(meta));
      return launch(k, meta[0]);
    }
    case Kernel::AvgPool2dGrad:
    case Kernel::AdaptiveAvgPool2dGrad: { // operands: grad, input
      int g = in.operands[0];
      std::vector<int64_t> meta = poolMeta(shape(1), shape(0), in.ints);
      KernelRef k = kernel("avg_pool_grad");
      args(k, e.memory[g], at(g), e.memory[out], at(out), constants(meta),
           int32_t(in.kernel == Kernel::AdaptiveAvgPool2dGrad));
      return launch(k, meta[0]);
    }
    case Kernel::BatchNorm:       // operands: input, weight, bias, mean, var
    case Kernel::BatchNormGrad: { // operands: grad, input, weight, mean, var
      bool grad = in.kernel == Kernel::BatchNormGrad;
      const std::vector<int64_t> &s = shape(grad ? 1 : 0);
      int64_t inner = 1;
      for (size_t dim = 2; dim < s.size(); ++dim)
        inner *= s[dim];
      KernelRef k = kernel(grad ? "batch_norm_grad" : "batch_norm");
      unsigned index = bufferArgs(k, in);
      set(k, index++, int64_t(s[0]));
      set(k, index++, int64_t(s[1]));
      set(k, index++, inner);
      set(k, index++, double(in.floats[0]));
      if (!grad)
        set(k, index++,
            double(in.floats.size() > 1 ? in.floats[1] : 0.0));
      set(k, index, int32_t(in.ints[0] != 0));
      return launch(k, s[1]);
    }
    case Kernel::IntToFloat: {
      KernelRef k = kernel("int_to_float");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n);
      return launch(k, n);
    }
    case Kernel::Sum:
    case Kernel::Mean: {
      const std::vector<int64_t> &s = shape(0);
      int rank = static_cast<int>(s.size());
      if (rank > kMaxRank)
        throw Failure{backend.prefix() + "a reduction of rank above 8"};
      std::vector<int64_t> meta(s.begin(), s.end());
      meta.resize(2 * rank, 0);
      uint64_t reduced = 1;
      for (int64_t dim : in.ints) {
        meta[rank + dim] = 1;
        reduced *= s[dim];
      }
      uint64_t whole = p.buffers[in.operands[0]].numElements();
      float scale = in.kernel == Kernel::Mean
                        ? static_cast<float>(n) / static_cast<float>(whole)
                        : 1.0f;
      int x = in.operands[0];
      // Reduced dimensions 0 .. j-1 only: element r * n + o, in the same
      // order, without per-element index arithmetic.
      bool leading = true;
      for (int d = 0; d < rank; ++d)
        leading = leading && (meta[rank + d] || d == rank - 1 ||
                              !meta[rank + d + 1]);
      if (leading && n > 0 && sumBlocks(reduced) > 1) {
        uint64_t blocks = sumBlocks(reduced);
        uint64_t chunk = (reduced + blocks - 1) / blocks;
        KernelRef partials = kernel("sum_leading_partials");
        args(partials, e.memory[x], at(x), sumPartials, n, reduced, chunk,
             blocks);
        KernelRef finish = kernel("sum_leading_finish");
        args(finish, sumPartials, e.memory[out], at(out), n, blocks, scale);
        return sequence({launch(partials, blocks * n), launch(finish, n)});
      }
      if (leading) {
        KernelRef k = kernel("sum_leading");
        args(k, e.memory[x], at(x), e.memory[out], at(out), n, reduced, scale);
        return launch(k, n);
      }
      KernelRef k = kernel("sum");
      args(k, e.memory[x], at(x), e.memory[out], at(out), constants(meta),
           int32_t(rank), n, reduced, scale);
      return launch(k, n);
    }
    case Kernel::CrossEntropy: {
      // ints: reduction, ignore index; floats: label smoothing.
      int logits = in.operands[0], target = in.operands[1];
      uint64_t rows = shape(0)[0];
      int64_t classes = shape(0)[1], ignore = in.ints[1];
      Memory per = create(rows * sizeof(double));
      bool wide = classes >= static_cast<int64_t>(kWideRow);
      KernelRef k =
          kernel(wide ? "cross_entropy_rows_group" : "cross_entropy_rows");
      args(k, e.memory[logits], at(logits), e.memory[target], at(target), per,
           rows, classes, ignore, static_cast<float>(in.floats[0]));
      KernelRef r = kernel("cross_entropy_reduce");
      args(r, per, e.memory[target], at(target), e.memory[out], at(out), rows,
           ignore, int32_t(in.ints[0]));
      return sequence({perRow(k, rows, wide), launch(r, 1)});
    }
    case Kernel::CrossEntropyGrad: {
      int grad = in.operands[0], logits = in.operands[1],
          target = in.operands[2];
      uint64_t rows = shape(1)[0];
      int64_t classes = shape(1)[1], ignore = in.ints[1];
      Memory counted = create(sizeof(int64_t));
      KernelRef c = kernel("count_targets");
      args(c, e.memory[target], at(target), counted, rows, ignore);
      bool wide = classes >= static_cast<int64_t>(kWideRow);
      KernelRef k =
          kernel(wide ? "cross_entropy_grad_group" : "cross_entropy_grad");
      args(k, e.memory[grad], at(grad), e.memory[logits], at(logits),
           e.memory[target], at(target), counted, e.memory[out], at(out), rows,
           classes, ignore, static_cast<float>(in.floats[0]),
           int32_t(in.ints[0]));
      return sequence({launch(c, 1), perRow(k, rows, wide)});
    }
    case Kernel::Fused: {
      std::string name = "fused_" + std::to_string(pc);
      KernelRef k = kernel(name.c_str());
      unsigned index = bufferArgs(k, in);
      set(k, index, n);
      return launch(k, n);
    }
    default:
      throw Failure{backend.prefix() + "no kernel for " +
                    accel::rt::kernelName(in.kernel)};
    }
  }

  /// Rows of `inner` bytes from buffer `x` at byte `xAt` to buffer `y` at
  /// byte `yAt`, as DeviceKernels.cpp's strided_rows (strides in bytes):
  /// in 4-byte words where every size and place allows.
  Step stridedRows(int x, uint64_t xAt, int y, uint64_t yAt, uint64_t outer,
                   uint64_t inner, uint64_t taken, uint64_t xOuter,
                   uint64_t xRow, uint64_t yOuter) {
    uint64_t bytes = outer * taken * inner;
    if (bytes == 0)
      return [] {};
    uint64_t word =
        (inner | xAt | yAt | xOuter | xRow | yOuter) % 4 == 0 ? 4 : 1;
    KernelRef k = kernel(word == 4 ? "strided_rows_u32" : "strided_rows_u8");
    args(k, e.memory[x], xAt / word, e.memory[y], yAt / word, bytes / word,
         inner / word, taken, xOuter / word, xRow / word, yOuter / word);
    return launch(k, bytes / word);
  }

  /// FP8 quantisation (the loader rounds its f32 result to the FP8 type):
  /// Fp8Quantize's scale from the amax of each group (the matrix, a row,
  /// an MX block of 32), Fp8QuantizeScaled's given scale and its amax.
  Step fp8Quantize(const Instruction &in) {
    const Program &p = e.program;
    int x = in.operands[0], data = in.results[0];
    uint64_t n = p.buffers[x].numElements();
    float fp8Max = static_cast<float>(in.floats[0]);
    auto scaleValues = [&](int scale, uint64_t group, bool divide) {
      KernelRef k = kernel("fp8_scale_values");
      args(k, e.memory[x], at(x), e.memory[scale], at(scale), e.memory[data],
           at(data), n, std::max<uint64_t>(group, 1), int32_t(divide), fp8Max);
      return launch(k, n);
    };
    // max |x| over chunks of `chunk` elements into `to` (one per chunk).
    auto absMax = [&](Memory from, uint64_t fromAt, uint64_t count,
                      uint64_t chunk, Memory to, uint64_t toAt) -> Step {
      uint64_t groups = count ? (count + chunk - 1) / chunk : 0;
      if (!groups)
        return [] {};
      KernelRef k = kernel("abs_max_group");
      args(k, from, fromAt, count, chunk, to, toAt);
      return backend.launchGroups(k, groups, kRowGroup);
    };
    // The whole tensor's amax into `to`: chunks' maxima, then theirs.
    auto wholeAbsMax = [&](Memory to, uint64_t toAt) {
      if (n == 0) { // an empty tensor's amax is 0
        KernelRef zero = kernel("fill_zero");
        args(zero, to, toAt, uint64_t(1));
        return launch(zero, 1);
      }
      constexpr uint64_t kChunk = 16384;
      uint64_t chunks = (n + kChunk - 1) / kChunk;
      Memory partial = create(chunks * sizeof(float));
      return sequence({absMax(e.memory[x], at(x), n, kChunk, partial, 0),
                       absMax(partial, 0, chunks, chunks, to, toAt)});
    };
    if (in.kernel == Kernel::Fp8QuantizeScaled) { // operands x, scale
      int amax = in.results[1];
      return sequence({wholeAbsMax(e.memory[amax], at(amax)),
                       scaleValues(in.operands[1], n, false)});
    }
    int scale = in.results[1];
    const std::vector<int64_t> &shape = p.buffers[x].shape;
    uint64_t rows = shape[0], cols = shape[1];
    bool pow2 = in.ints[1] != 0;
    switch (in.ints[0]) {
    case 1: { // a scale per row
      Memory amax = create(std::max<uint64_t>(rows, 1) * sizeof(float));
      KernelRef scales = kernel("fp8_scales");
      args(scales, amax, uint64_t(0), e.memory[scale], at(scale), rows, fp8Max,
           int32_t(pow2));
      return sequence({absMax(e.memory[x], at(x), n, cols, amax, 0),
                       launch(scales, rows), scaleValues(scale, cols, false)});
    }
    case 2: { // MX: a power-of-two scale per block of 32 along a row (rows
              // are whole blocks: accel-fp8 converts only such layers), the
              // values divided by it
      KernelRef k = kernel("mx_scales");
      uint64_t blocks = n / 32;
      args(k, e.memory[x], at(x), e.memory[scale], at(scale), blocks,
           int32_t(std::ilogb(fp8Max)));
      return sequence({launch(k, blocks), scaleValues(scale, 32, true)});
    }
    default: { // one scale
      Memory amax = create(sizeof(float));
      KernelRef scales = kernel("fp8_scales");
      args(scales, amax, uint64_t(0), e.memory[scale], at(scale), uint64_t(1),
           fp8Max, int32_t(pow2));
      return sequence({wholeAbsMax(amax, 0), launch(scales, 1),
                       scaleValues(scale, n, false)});
    }
    }
  }

  /// out [M, N] = lhs [M, K] (rhs [N, K])ᵀ of FP8 values: dequantised
  /// (divided by tensor and row scales, multiplied by MX scales) into one
  /// memory and multiplied as f32, or multiplied as they are and the
  /// product scaled by the scales' inverses (delayed scaling).
  Step scaledMatmul(const Instruction &in) {
    const Program &p = e.program;
    int a = in.operands[0], aScale = in.operands[1], b = in.operands[2],
        bScale = in.operands[3], out = in.results[0];
    const std::vector<int64_t> &as = p.buffers[a].shape;
    uint64_t m = as[0], k = as[1], nOut = p.buffers[b].shape[0];
    if (in.ints[2]) {
      KernelRef k2 = kernel("scale_by_inverses");
      args(k2, e.memory[out], at(out), m * nOut, e.memory[aScale], at(aScale),
           e.memory[bScale], at(bScale));
      return sequence({gemm(false, true, m, nOut, k, a, at(a), k, b, at(b), k,
                            out, at(out)),
                       launch(k2, m * nOut)});
    }
    auto dequantise = [&](int q, int scale, int64_t grouping, uint64_t rows,
                          uint64_t to) {
      uint64_t count = rows * k;
      uint64_t group = grouping == 2 ? 32 : grouping == 1 ? k : count;
      KernelRef d = kernel("fp8_dequantize");
      args(d, e.memory[q], at(q), e.memory[scale], at(scale), dequantised, to,
           count, std::max<uint64_t>(group, 1), int32_t(grouping == 2));
      return launch(d, count);
    };
    return sequence({dequantise(a, aScale, in.ints[0], m, 0),
                     dequantise(b, bScale, in.ints[1], nOut, m * k),
                     gemm(false, true, m, nOut, k, dequantised, 0, k,
                          dequantised, m * k, k, e.memory[out], at(out))});
  }

  /// A collective through the host's: the operands downloaded, combined
  /// by the host's backend in f32 (16-bit operands and results are widened
  /// and rounded around it, which gives the bits of the CPU's 16-bit
  /// collectives: sums in f32, rounded once), the results uploaded. Without
  /// collectives (one rank) the results are the operands.
  Step collective(size_t pc) {
    const Program &p = e.program;
    const Instruction &in = p.code[pc];
    bool reduce = in.kernel == Kernel::AllReduce,
         scatter = in.kernel == Kernel::ReduceScatter;
    if (!collectives) {
      std::vector<Step> s;
      for (size_t i = 0; i < in.operands.size(); ++i)
        s.push_back(
            backend.copy(e.memory[in.operands[i]], e.offset[in.operands[i]],
                         e.memory[in.results[i]], e.offset[in.results[i]],
                         p.buffers[in.results[i]].bytes()));
      return sequence(std::move(s));
    }
    std::vector<accel_collective_buffer> list;
    for (size_t i = 0; i < in.operands.size(); ++i) {
      int from = in.operands[i], to = in.results[i];
      e.staging.emplace_back(p.buffers[from].numElements());
      float *input = e.staging.back().data();
      e.staging.emplace_back(p.buffers[to].numElements());
      float *output = e.staging.back().data();
      // The count is the whole tensor's, whichever side is sharded.
      int64_t count =
          static_cast<int64_t>(p.buffers[scatter ? from : to].numElements());
      list.push_back({input, output, count});
    }
    int32_t reduction = !reduce && !scatter ? 0
                        : in.ints[0]        ? ACCEL_REDUCE_MEAN
                                            : ACCEL_REDUCE_SUM;
    int64_t bucket = in.ints[reduce || scatter ? 1 : 0];
    std::string what = std::string(reduce    ? "all_reduce"
                                   : scatter ? "reduce_scatter"
                                             : "all_gather") +
                       (bucket >= 0 ? " bucket " + std::to_string(bucket)
                                    : std::string(" of batch statistics")) +
                       " (instruction " + std::to_string(pc) + ")";
    // Where each operand and result lives, for the step (the loader is
    // gone when it runs; the backend and the staging stay).
    struct Place {
      Memory memory;
      size_t offset, bytes;
    };
    auto place = [&](int b) {
      return Place{e.memory[b], static_cast<size_t>(e.offset[b]),
                   static_cast<size_t>(p.buffers[b].bytes())};
    };
    std::vector<Place> from, to;
    for (size_t i = 0; i < in.operands.size(); ++i) {
      from.push_back(place(in.operands[i]));
      to.push_back(place(in.results[i]));
    }
    Backend *b = &backend;
    const accel_collectives *c = collectives;
    return [b, c, list, from, to, reduction, what, kind = in.kernel] {
      for (size_t i = 0; i < from.size(); ++i)
        b->download(from[i].memory, from[i].offset,
                    const_cast<float *>(list[i].input), from[i].bytes);
      accel_error error;
      int failed = kind == Kernel::AllReduce
                       ? c->all_reduce(c->context, list.data(), list.size(),
                                       reduction, what.c_str(), &error)
                   : kind == Kernel::ReduceScatter
                       ? c->reduce_scatter(c->context, list.data(), list.size(),
                                           reduction, what.c_str(), &error)
                       : c->all_gather(c->context, list.data(), list.size(),
                                       what.c_str(), &error);
      if (failed)
        throw Failure{error.message};
      for (size_t i = 0; i < to.size(); ++i)
        b->upload(to[i].memory, to[i].offset, list[i].output, to[i].bytes);
    };
  }

  /// Pooling geometry (DeviceKernels.cpp's pg) over the last two
  /// dimensions; ints: kernel, stride, padding, dilation (2 each),
  /// count_include_pad; none for adaptive pools.
  static std::vector<int64_t> poolMeta(const std::vector<int64_t> &input,
                                       const std::vector<int64_t> &out,
                                       const std::vector<int64_t> &ints) {
    int64_t planes = 1;
    for (size_t dim = 0; dim + 2 < input.size(); ++dim)
      planes *= input[dim];
    std::vector<int64_t> meta = {planes, input[input.size() - 2], input.back(),
                                 out[out.size() - 2], out.back()};
    if (ints.empty())
      meta.insert(meta.end(), {1, 1, 1, 1, 0, 0, 1, 1, 0});
    else
      meta.insert(meta.end(), ints.begin(), ints.begin() + 9);
    return meta;
  }

  /// A convolution or one of its gradients, as the CPU computes it: per
  /// group, im2col columns of all samples, one CLBlast product, then the
  /// result unstaged (or the columns added back, col2im).
  Step convolution(const Instruction &in) {
    const Program &p = e.program;
    auto shapeOf = [&](int b) -> const std::vector<int64_t> & {
      return p.buffers[b].shape;
    };
    int input, weight, output;
    switch (in.kernel) {
    case Kernel::Conv2d:
      input = in.operands[0], weight = in.operands[1], output = in.results[0];
      break;
    case Kernel::Conv2dGradInput:
      output = in.operands[0], weight = in.operands[1], input = in.results[0];
      break;
    default: // Conv2dGradWeight
      output = in.operands[0], input = in.operands[1], weight = in.results[0];
      break;
    }
    const std::vector<int64_t> &is = shapeOf(input), &ws = shapeOf(weight),
                               &os = shapeOf(output);
    bool batched = is.size() == 4;
    size_t c0 = batched ? 1 : 0;
    std::vector<int64_t> geo = {batched ? is[0] : 1, is[c0], is[c0 + 1],
                                is[c0 + 2], ws[0], ws[2], ws[3], os[c0 + 1],
                                os[c0 + 2]};
    geo.insert(geo.end(), in.ints.begin(), in.ints.begin() + 7);
    int64_t groups = geo[15], perGroup = geo[1] / groups,
            perOut = geo[4] / groups;
    size_t pixels = geo[7] * geo[8], ld = geo[0] * pixels;
    size_t k = perGroup * geo[5] * geo[6];
    Memory meta = constants(geo);
    Memory columns = create(k * ld * sizeof(float));
    Memory staged = create(perOut * ld * sizeof(float));
    std::vector<Step> steps;
    if (in.kernel == Kernel::Conv2dGradInput) {
      KernelRef zero = kernel("fill_zero");
      uint64_t n = p.buffers[input].numElements();
      args(zero, e.memory[input], at(input), n);
      steps.push_back(launch(zero, n));
    }
    for (int64_t group = 0; group < groups; ++group) {
      size_t wOff = at(weight) + group * perOut * k;
      if (in.kernel != Kernel::Conv2dGradInput) {
        KernelRef im2col = kernel("im2col");
        args(im2col, e.memory[input], at(input), columns, meta, group);
        steps.push_back(launch(im2col, k * ld));
      }
      if (in.kernel != Kernel::Conv2d) {
        KernelRef stage = kernel("conv_stage");
        args(stage, e.memory[output], at(output), staged, meta, group);
        steps.push_back(launch(stage, perOut * ld));
      }
      switch (in.kernel) {
      case Kernel::Conv2d: {
        // staged [O/groups, ld] = W_g [O/groups, k] columns [k, ld]
        steps.push_back(gemm(false, false, perOut, ld, k, e.memory[weight],
                             wOff, k, columns, 0, ld, staged, 0));
        bool bias = in.operands.size() > 2;
        int b = bias ? in.operands[2] : weight;
        KernelRef unstage = kernel("conv_unstage");
        args(unstage, staged, e.memory[output], at(output), e.memory[b], at(b),
             int32_t(bias), meta, group);
        steps.push_back(launch(unstage, perOut * ld));
        break;
      }
      case Kernel::Conv2dGradInput: {
        // columns [k, ld] = W_g^T dY_g, then added back into dX
        steps.push_back(gemm(true, false, k, ld, perOut, e.memory[weight],
                             wOff, k, staged, 0, ld, columns, 0));
        KernelRef col2im = kernel("col2im");
        args(col2im, columns, e.memory[input], at(input), meta, group);
        steps.push_back(launch(col2im, geo[0] * perGroup));
        break;
      }
      default:
        // dW_g [O/groups, k] = dY_g [O/groups, ld] columns^T
        steps.push_back(gemm(false, true, perOut, k, ld, staged, 0, ld,
                             columns, 0, ld, e.memory[weight], wOff));
        break;
      }
    }
    return sequence(std::move(steps));
  }

  Backend &backend;
  DeviceProgram<Memory> &e;
  std::vector<WideningPlan::Shadows> widening; // per instruction
  Memory dequantised{};                        // FP8 products' operands
  Memory sumPartials{};                        // long sums' column blocks
  const accel_collectives *collectives;
  int64_t rankIndex; // this process's rank in the job
};

} // namespace accel::rt::devicekernels

#endif // ACCEL_RUNTIME_HAL_PLUGINS_KERNELS_DEVICELOADER_H
