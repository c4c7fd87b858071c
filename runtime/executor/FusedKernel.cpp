//===- FusedKernel.cpp - runs a fused elementwise chain -------------------===//

#include "runtime/executor/FusedKernel.h"

#include "runtime/cpu/ElementOps.h"
#include "runtime/cpu/HalfFloat.h"
#include "runtime/cpu/VectorMath.h"

#include <algorithm>
#include <cmath>

namespace accel::rt {

namespace {
// Elements per chunk: 64 registers of 64 floats are 16 KiB of stack, so a
// long chain's registers stay in L1.
constexpr int64_t kChunk = 64;

template <typename F> inline void map1(float *d, const float *a, F f) {
  for (int64_t i = 0; i < kChunk; ++i)
    d[i] = f(a[i]);
}
template <typename F>
inline void map2(float *d, const float *a, const float *b, F f) {
  for (int64_t i = 0; i < kChunk; ++i)
    d[i] = f(a[i], b[i]);
}
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
  namespace e = cpu::element;
  int64_t chunks = (n + kChunk - 1) / kChunk;
  size_t numInputs = inputs.size();
  pool.parallelFor(chunks, 64, [&](int64_t begin, int64_t end) {
    alignas(64) float regs[kFusedMaxRegisters][kChunk];
    for (int64_t c = begin; c < end; ++c) {
      int64_t base = c * kChunk, len = std::min(kChunk, n - base);
      for (size_t i = 0; i < numInputs; ++i) {
        if (scalar[i]) {
          std::fill(regs[i], regs[i] + kChunk, inputs[i][0]);
          continue;
        }
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
        case Kernel::ReluGrad: map2(d, a, b, e::reluGrad); break;
        case Kernel::GeluGrad: cpu::geluGradBlock(a, b, d, kChunk); break;
        case Kernel::GeluTanhGrad: map2(d, a, b, e::geluTanhGrad); break;
        case Kernel::Neg: map1(d, a, [](float x) { return -x; }); break;
        case Kernel::Relu: map1(d, a, e::relu); break;
        case Kernel::Tanh: map1(d, a, [](float x) { return std::tanh(x); }); break;
        case Kernel::Sigmoid: map1(d, a, e::sigmoid); break;
        case Kernel::Exp: map1(d, a, [](float x) { return std::exp(x); }); break;
        case Kernel::Log: map1(d, a, [](float x) { return std::log(x); }); break;
        case Kernel::Sqrt: map1(d, a, [](float x) { return std::sqrt(x); }); break;
        case Kernel::Rsqrt: map1(d, a, e::rsqrt); break;
        case Kernel::Gelu: cpu::geluBlock(a, d, kChunk); break;
        case Kernel::GeluTanh: map1(d, a, e::geluTanh); break;
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
  });
}

} // namespace accel::rt
