//===- elementwise_bench.cpp - vectorised GELU, dropout masks, AdamW ------===//
//
//   bazel run -c opt //bench:elementwise_bench [-- ELEMENTS]
//
// Times, on one thread, over ELEMENTS floats (default 9,437,184: the
// mid-size GPT's hidden activations of one step, 8 x 128 x 1536 x 6
// layers), what the CPU kernels compute against the scalar code of the
// same arithmetic: GELU and its gradient (runtime/cpu/VectorMath: glibc's
// vector erf and exp, against erff/expf loops) and dropout's Philox
// uniforms (runtime/cpu/PhiloxBatch, against one block at a time); and the
// fused-chain interpreter (runtime/executor/FusedKernel) on AdamW's update
// over one parameter of ResNet-18's size (2,359,296 floats: 512 x 512 x 3 x
// 3), against the same chain compiled (compiler/lowering/FusedChainJit), in
// ns per element. Best of 3 rounds each.
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/FusedChainJit.h"
#include "runtime/cpu/Philox.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/cpu/VectorMath.h"
#include "runtime/executor/FusedKernel.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

namespace {

float scalarGelu(float x) {
  return 0.5f * x * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
}

float scalarGeluGrad(float grad, float x) {
  constexpr float kAlpha = static_cast<float>(M_2_SQRTPI * M_SQRT1_2 * 0.5);
  float cdf = 0.5f * (1.0f + std::erf(x * static_cast<float>(M_SQRT1_2)));
  return grad * (cdf + x * (kAlpha * std::exp(-0.5f * x * x)));
}

template <typename F> double bestMs(F f) {
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    auto start = std::chrono::steady_clock::now();
    f();
    best = std::min(best, std::chrono::duration<double, std::milli>(
                              std::chrono::steady_clock::now() - start)
                              .count());
  }
  return best;
}

/// AdamW's update as the optimizer pass writes it and the loader fuses it:
/// operands param, grad, m, v, then the scalars (1 - lr wd), beta1,
/// 1 - beta1, beta2, 1 - beta2, sqrt(1 - beta2^t), eps, lr / (1 - beta1^t);
/// results param, m, v.
accel::rt::FusedBody adamwBody() {
  using accel::rt::Kernel;
  accel::rt::FusedBody body;
  auto step = [&](Kernel k, int lhs, int rhs = -1) {
    body.steps.push_back({k, lhs, rhs});
    return 12 + static_cast<int>(body.steps.size()) - 1;
  };
  int decayed = step(Kernel::Mul, 0, 4);
  int m = step(Kernel::Add, step(Kernel::Mul, 2, 5), step(Kernel::Mul, 1, 6));
  int v = step(Kernel::Add, step(Kernel::Mul, 3, 7),
               step(Kernel::Mul, step(Kernel::Mul, 1, 1), 8));
  int denom = step(Kernel::Add, step(Kernel::Div, step(Kernel::Sqrt, v), 9), 10);
  int param = step(Kernel::Sub, decayed, step(Kernel::Mul, 11, step(Kernel::Div, m, denom)));
  body.results = {param, m, v};
  return body;
}

} // namespace

int main(int argc, char **argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 9437184;
  if (n <= 0) {
    std::fprintf(stderr, "elementwise_bench: ELEMENTS must be positive\n");
    return 1;
  }
  std::vector<float> x(n), grad(n, 1.0f), y(n);
  for (long i = 0; i < n; ++i)
    x[i] = 3.0f * std::sin(0.001f * static_cast<float>(i));
  using namespace accel::rt::cpu;
  double scalar = bestMs([&] {
    for (long i = 0; i < n; ++i)
      y[i] = scalarGelu(x[i]);
  });
  double vector = bestMs([&] { geluBlock(x.data(), y.data(), n); });
  double scalarGrad = bestMs([&] {
    for (long i = 0; i < n; ++i)
      y[i] = scalarGeluGrad(grad[i], x[i]);
  });
  double vectorGrad =
      bestMs([&] { geluGradBlock(grad.data(), x.data(), y.data(), n); });
  // Dropout's uniforms: a sum of some of them keeps the work observable.
  long blocks = n / 4;
  float sink = 0;
  double scalarMasks = bestMs([&] {
    for (long b = 0; b < blocks; ++b)
      sink += dropoutUniforms(1234, 5, b)[0];
  });
  double batchMasks = 0;
  if (philoxBatchAvailable())
    batchMasks = bestMs([&] {
      float u[4 * kPhiloxBatch];
      for (long b = 0; b + kPhiloxBatch <= blocks; b += kPhiloxBatch) {
        dropoutUniformsBatch(1234, 5, b, u);
        sink += u[0];
      }
    });
  // AdamW over one parameter tensor, in place as the executor runs it
  // (results alias the state operands).
  long params = 2359296;
  std::vector<float> p(params), g(params), m(params), v(params);
  for (long i = 0; i < params; ++i) {
    p[i] = std::sin(0.37f * i);
    g[i] = 1e-3f * std::cos(0.11f * i);
  }
  float scalars[8] = {1 - 1e-3f * 1e-2f, 0.9f, 0.1f, 0.999f, 0.001f, 0.0447f, 1e-8f, 1e-2f};
  accel::rt::FusedBody adamw = adamwBody();
  ThreadPool pool(1);
  const float *inputs[12] = {p.data(), g.data(), m.data(), v.data()};
  bool isScalar[12] = {};
  for (int i = 0; i < 8; ++i) {
    inputs[4 + i] = &scalars[i];
    isScalar[4 + i] = true;
  }
  float *outputs[3] = {p.data(), m.data(), v.data()};
  double adamwMs = bestMs([&] {
    accel::rt::runFused(pool, adamw, inputs, isScalar, outputs, params);
  });
  // The same body compiled, as accel-run's loader does: a program holding
  // the one instruction says which operands are scalars.
  accel::rt::Program program;
  accel::rt::Instruction fused{accel::rt::Kernel::Fused, {}, {}, {0}, {}};
  for (int i = 0; i < 15; ++i) {
    program.buffers.push_back({accel::rt::BufferDesc::Role::Arena, "",
                               accel::rt::ElementType::F32,
                               {i >= 4 && i < 12 ? 1 : params}});
    (i < 12 ? fused.operands : fused.results).push_back(i);
  }
  program.code.push_back(fused);
  program.fusedBodies.push_back(adamw);
  double compiledMs = 0;
  if (llvm::Expected<accel::lowering::FusedChainStats> stats =
          accel::lowering::compileFusedChains(program);
      !stats || stats->compiled != 1) {
    std::fprintf(stderr, "elementwise_bench: AdamW's chain was not compiled%s\n",
                 stats ? "" : (": " + llvm::toString(stats.takeError())).c_str());
    return 1;
  }
  compiledMs = bestMs([&] {
    accel::rt::runFused(pool, program.fusedBodies[0], inputs, isScalar, outputs, params);
  });
  std::printf("%ld elements, vector width %d, one thread\n", n,
              vectorMathWidth());
  std::printf("gelu:      scalar %.1f ms, vector %.1f ms (%.1fx)\n", scalar,
              vector, scalar / vector);
  std::printf("gelu grad: scalar %.1f ms, vector %.1f ms (%.1fx)\n",
              scalarGrad, vectorGrad, scalarGrad / vectorGrad);
  if (batchMasks > 0)
    std::printf("dropout uniforms: scalar %.1f ms, AVX2 %.1f ms (%.1fx)\n",
                scalarMasks, batchMasks, scalarMasks / batchMasks);
  else
    std::printf("dropout uniforms: scalar %.1f ms (no AVX2)\n", scalarMasks);
  std::printf("fused AdamW, %ld parameters: interpreted %.2f ms (%.2f ns per element), "
              "compiled %.2f ms (%.2f ns; %.1fx)\n",
              params, adamwMs, 1e6 * adamwMs / params, compiledMs, 1e6 * compiledMs / params,
              adamwMs / compiledMs);
  return sink == -1.0f; // never: the uniforms are in [0, 1)
}
