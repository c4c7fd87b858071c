//===- VectorMath.cpp - transcendental functions over blocks --------------===//

#include "runtime/cpu/VectorMath.h"

#include <immintrin.h>

#include <algorithm>
#include <cmath>

// glibc's libmvec, under the x86-64 vector function ABI's names: `b` takes
// and returns 4 floats in an SSE register, `d` 8 in an AVX2 register. Each
// is an indirect function that glibc resolves to the best implementation
// for the CPU.
extern "C" {
__m128 _ZGVbN4v_erff(__m128);
__m128 _ZGVbN4v_expf(__m128);
__m256 _ZGVdN8v_erff(__m256);
__m256 _ZGVdN8v_expf(__m256);
}

namespace accel::rt::cpu {
namespace {

const bool kAvx2 = __builtin_cpu_supports("avx2");

/// `groups` groups of 8 (AVX2) or 4 (SSE) values through F.
template <__m256 (*F)(__m256)>
__attribute__((target("avx2"))) void wide8(const float *x, float *y,
                                           int64_t groups) {
  for (int64_t g = 0; g < groups; ++g)
    _mm256_storeu_ps(y + 8 * g, F(_mm256_loadu_ps(x + 8 * g)));
}
template <__m128 (*F)(__m128)>
void wide4(const float *x, float *y, int64_t groups) {
  for (int64_t g = 0; g < groups; ++g)
    _mm_storeu_ps(y + 4 * g, F(_mm_loadu_ps(x + 4 * g)));
}

/// Applies `wide` (groups of `width`) to n values, the tail through a
/// zero-padded group.
void blockwise(void (*wide)(const float *, float *, int64_t), int width,
               const float *x, float *y, int64_t n) {
  int64_t whole = n / width;
  wide(x, y, whole);
  int64_t done = whole * width;
  if (done == n)
    return;
  alignas(32) float in[8] = {}, out[8];
  std::copy(x + done, x + n, in);
  wide(in, out, 1);
  std::copy(out, out + (n - done), y + done);
}

// Blocks of the GELU functions' temporaries: on the stack.
constexpr int64_t kBlock = 256;

} // namespace

int vectorMathWidth() { return kAvx2 ? 8 : 4; }

void erfBlock(const float *x, float *y, int64_t n) {
  if (kAvx2)
    blockwise(wide8<_ZGVdN8v_erff>, 8, x, y, n);
  else
    blockwise(wide4<_ZGVbN4v_erff>, 4, x, y, n);
}

void expBlock(const float *x, float *y, int64_t n) {
  if (kAvx2)
    blockwise(wide8<_ZGVdN8v_expf>, 8, x, y, n);
  else
    blockwise(wide4<_ZGVbN4v_expf>, 4, x, y, n);
}

void geluBlock(const float *x, float *y, int64_t n) {
  const float rsqrt2 = static_cast<float>(M_SQRT1_2);
  alignas(32) float t[kBlock];
  for (int64_t base = 0; base < n; base += kBlock) {
    int64_t len = std::min(kBlock, n - base);
    for (int64_t i = 0; i < len; ++i)
      t[i] = x[base + i] * rsqrt2;
    erfBlock(t, t, len);
    for (int64_t i = 0; i < len; ++i)
      y[base + i] = 0.5f * x[base + i] * (1.0f + t[i]);
  }
}

void geluGradBlock(const float *grad, const float *x, float *out, int64_t n) {
  const float rsqrt2 = static_cast<float>(M_SQRT1_2);
  constexpr float kAlpha = static_cast<float>(M_2_SQRTPI * M_SQRT1_2 * 0.5);
  alignas(32) float cdf[kBlock], pdf[kBlock];
  for (int64_t base = 0; base < n; base += kBlock) {
    int64_t len = std::min(kBlock, n - base);
    for (int64_t i = 0; i < len; ++i) {
      float v = x[base + i];
      cdf[i] = v * rsqrt2;
      pdf[i] = -0.5f * v * v;
    }
    erfBlock(cdf, cdf, len);
    expBlock(pdf, pdf, len);
    for (int64_t i = 0; i < len; ++i) {
      float v = x[base + i];
      out[base + i] =
          grad[base + i] * (0.5f * (1.0f + cdf[i]) + v * (kAlpha * pdf[i]));
    }
  }
}

} // namespace accel::rt::cpu
