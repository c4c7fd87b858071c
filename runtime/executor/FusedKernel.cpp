//===- FusedKernel.cpp - runs a fused elementwise chain -------------------===//

#include "runtime/executor/FusedKernel.h"

#include "runtime/cpu/ElementOps.h"
#include "runtime/cpu/HalfFloat.h"
#include "runtime/cpu/VectorMath.h"

#include <algorithm>
#include <cmath>

namespace accel::rt {

namespace {
// Elements per chunk: a register of 256 floats is 1 KiB, so the twenty or
// so registers of a long chain (an AdamW update) stay in L1 while each
// step's dispatch is paid once per 256 elements.
constexpr int64_t kChunk = 256;

// F is a lambda: a function pointer would stay an indirect call per element.
template <typename F> inline void map1(float *d, const float *a, F f) {
  for (int64_t i = 0; i < kChunk; ++i)
    d[i] = f(a[i]);
}
template <typename F>
inline void map2(float *d, const float *a, const float *b, F f) {
  for (int64_t i = 0; i < kChunk; ++i)
    d[i] = f(a[i], b[i]);
}

/// One thread's chunks [begin, end). Inlined into a baseline and an AVX2
/// copy below: the same IEEE operations in wider registers (no FMA, and the
/// library copts forbid contraction), so both give the same bits.
struct Chunks {
  const FusedBody &body;
  llvm::ArrayRef<const float *> inputs;
  llvm::ArrayRef<bool> scalar;
  llvm::ArrayRef<float *> outputs;
  int64_t n;

  __attribute__((always_inline)) inline void run(int64_t begin, int64_t end) const {
    namespace e = cpu::element;
    alignas(64) float regs[kFusedMaxRegisters][kChunk];
    size_t numInputs = inputs.size();
    // One-element operands are the same in every chunk: broadcast once.
    for (size_t i = 0; i < numInputs; ++i)
      if (scalar[i])
        std::fill(regs[i], regs[i] + kChunk, inputs[i][0]);
    for (int64_t c = begin; c < end; ++c) {
      int64_t base = c * kChunk, len = std::min(kChunk, n - base);
      for (size_t i = 0; i < numInputs; ++i) {
        if (scalar[i])
          continue;
        std::copy(inputs[i] + base, inputs[i] + base + len, regs[i]);
        // The last chunk's tail is computed too, on harmless ones.
        std::fill(regs[i] + len, regs[i] + kChunk, 1.0f);
      }
      for (size_t s = 0; s < body.steps.size(); ++s) {
        const FusedStep &st = body.steps[s];
        float *d = regs[numInputs + s];
        const float *a = regs[st.lhs];
        const float *b = st.rhs >= 0 ? regs[st.rhs] : a;
        switch (st.kernel) {
        case Kernel::Add: map2(d, a, b, [](float x, float y) { return x + y; }); break;
        case Kernel::Sub: map2(d, a, b, [](float x, float y) { return x - y; }); break;
        case Kernel::Mul: map2(d, a, b, [](float x, float y) { return x * y; }); break;
        case Kernel::Div: map2(d, a, b, [](float x, float y) { return x / y; }); break;
        case Kernel::ReluGrad:
          map2(d, a, b, [](float x, float y) { return e::reluGrad(x, y); });
          break;
        case Kernel::GeluGrad: cpu::geluGradBlock(a, b, d, kChunk); break;
        case Kernel::GeluTanhGrad:
          map2(d, a, b, [](float x, float y) { return e::geluTanhGrad(x, y); });
          break;
        case Kernel::Neg: map1(d, a, [](float x) { return -x; }); break;
        case Kernel::Relu: map1(d, a, [](float x) { return e::relu(x); }); break;
        case Kernel::Tanh: map1(d, a, [](float x) { return std::tanh(x); }); break;
        case Kernel::Sigmoid: map1(d, a, [](float x) { return e::sigmoid(x); }); break;
        case Kernel::Exp: map1(d, a, [](float x) { return std::exp(x); }); break;
        case Kernel::Log: map1(d, a, [](float x) { return std::log(x); }); break;
        case Kernel::Sqrt: map1(d, a, [](float x) { return std::sqrt(x); }); break;
        case Kernel::Rsqrt: map1(d, a, [](float x) { return e::rsqrt(x); }); break;
        case Kernel::Gelu: cpu::geluBlock(a, d, kChunk); break;
        case Kernel::GeluTanh: map1(d, a, [](float x) { return e::geluTanh(x); }); break;
        default: break; // the loader admits only the kernels above
        }
        if (st.round == ElementType::BF16)
          for (int64_t i = 0; i < kChunk; ++i)
            d[i] = cpu::bf16ToFloat(cpu::floatToBf16(d[i]));
        else if (st.round == ElementType::F16)
          for (int64_t i = 0; i < kChunk; ++i)
            d[i] = cpu::f16ToFloat(cpu::floatToF16(d[i]));
      }
      for (size_t r = 0; r < outputs.size(); ++r)
        std::copy(regs[body.results[r]], regs[body.results[r]] + len,
                  outputs[r] + base);
    }
  }
};

void chunksBaseline(const Chunks &chunks, int64_t begin, int64_t end) {
  chunks.run(begin, end);
}
__attribute__((target("avx2"))) void chunksAvx2(const Chunks &chunks, int64_t begin,
                                                int64_t end) {
  chunks.run(begin, end);
}
const bool kAvx2 = __builtin_cpu_supports("avx2");
} // namespace

int fusedStepArity(Kernel kernel) {
  switch (kernel) {
  case Kernel::Add:
  case Kernel::Sub:
  case Kernel::Mul:
  case Kernel::Div:
  case Kernel::ReluGrad:
  case Kernel::GeluGrad:
  case Kernel::GeluTanhGrad:
    return 2;
  case Kernel::Neg:
  case Kernel::Relu:
  case Kernel::Tanh:
  case Kernel::Sigmoid:
  case Kernel::Exp:
  case Kernel::Log:
  case Kernel::Sqrt:
  case Kernel::Rsqrt:
  case Kernel::Gelu:
  case Kernel::GeluTanh:
    return 1;
  default:
    return 0;
  }
}

void runFused(cpu::ThreadPool &pool, const FusedBody &body,
              llvm::ArrayRef<const float *> inputs, llvm::ArrayRef<bool> scalar,
              llvm::ArrayRef<float *> outputs, int64_t n) {
  if (body.compiled) {
    pool.parallelFor(n, 4096, [&](int64_t begin, int64_t end) {
      body.compiled(inputs.data(), outputs.data(), begin, end);
    });
    return;
  }
  int64_t chunks = (n + kChunk - 1) / kChunk;
  Chunks work{body, inputs, scalar, outputs, n};
  auto *run = kAvx2 ? chunksAvx2 : chunksBaseline;
  pool.parallelFor(chunks, 16, [&](int64_t begin, int64_t end) { run(work, begin, end); });
}

} // namespace accel::rt
