//===- Float8.h - FP8 storage conversions -----------------------*- C++ -*-===//
//
// The two FP8 formats of FP8 training (OCP 8-bit floating point, as
// PyTorch's float8_e4m3fn and float8_e5m2):
//
//   E4M3FN  sign, 4 exponent bits (bias 7), 3 mantissa bits; no infinity,
//           NaN is S.1111.111; largest finite 448.
//   E5M2    sign, 5 exponent bits (bias 15), 2 mantissa bits; IEEE-like
//           infinities and NaNs; largest finite 57344.
//
// From float: round to nearest, ties to even, then what an out-of-range
// value becomes. By default that is what PyTorch does for
// `x.to(float8_*)` on the CPU (measured with torch 2.15): E4M3FN saturates
// every overflow, infinities included, to +-448; E5M2 overflows to
// infinity (61440 and above). `Overflow::SatFinite` is TransformerEngine's
// satfinite cast: infinities and out-of-range values become +-max. NaN
// stays NaN in both. To float: exact.
//
// Checked against LLVM's APFloat over all 2^32 floats
// (tests/unit/Float8Test.cpp) and against torch 2.15 on boundary values.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_FLOAT8_H
#define ACCEL_RUNTIME_CPU_FLOAT8_H

#include "runtime/cpu/HalfFloat.h"

#include <cstdint>

namespace accel::rt::cpu {

enum class Float8Overflow {
  Torch,     // E4M3FN saturates to max, E5M2 goes to infinity
  SatFinite, // both saturate to max (TransformerEngine's satfinite)
};

namespace detail {

/// Rounds |x| (bits `abs`, not NaN, below the format's overflow threshold)
/// to the format with `manBits` mantissa bits and exponent bias `bias`,
/// nearest even. Returns the 7 magnitude bits.
inline uint8_t roundMagnitude(uint32_t abs, int manBits, int bias) {
  // Smallest normal: 2^(1 - bias).
  uint32_t minNormal = static_cast<uint32_t>(127 + 1 - bias) << 23;
  if (abs < minNormal) {
    // Subnormal (or zero): multiples of 2^(1 - bias - manBits). Adding a
    // float whose ulp is that step rounds to it, nearest even, in the
    // adder; the difference counts steps (2^manBits steps is the smallest
    // normal, whose code is exactly that count).
    float step = bitsFloat(static_cast<uint32_t>(127 + 1 - bias - manBits) << 23);
    float magic = step * 8388608.0f; // ulp(magic) == step
    float rounded = (bitsFloat(abs) + magic) - magic;
    return static_cast<uint8_t>(rounded / step);
  }
  // Normal: round away 23 - manBits mantissa bits (a carry moves to the
  // exponent), then rebias the exponent from 127 to `bias`.
  int drop = 23 - manBits;
  uint32_t rounded =
      abs + ((1u << (drop - 1)) - 1) + ((abs >> drop) & 1u);
  return static_cast<uint8_t>((rounded >> drop) -
                              (static_cast<uint32_t>(127 - bias) << manBits));
}

} // namespace detail

inline uint8_t floatToE4M3(float x, Float8Overflow = Float8Overflow::Torch) {
  uint32_t u = floatBits(x);
  uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) // NaN
    return sign | 0x7f;
  // 448 is the largest finite value; everything at or above it (the
  // rounding tie 464 goes to even, 448, too) saturates, infinity included.
  if (abs >= 0x43e00000u) // 448.0f
    return sign | 0x7e;
  return sign | detail::roundMagnitude(abs, 3, 7);
}

inline uint8_t floatToE5M2(float x, Float8Overflow overflow = Float8Overflow::Torch) {
  uint32_t u = floatBits(x);
  uint8_t sign = static_cast<uint8_t>((u >> 24) & 0x80u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) // NaN
    return sign | 0x7e;
  // 61440, the midpoint between 57344 and 2^16, rounds to even: infinity.
  if (abs >= 0x47700000u) // 61440.0f
    return sign | (overflow == Float8Overflow::SatFinite ? 0x7b : 0x7c);
  return sign | detail::roundMagnitude(abs, 2, 15);
}

inline float e4m3ToFloat(uint8_t c) {
  uint32_t sign = static_cast<uint32_t>(c & 0x80u) << 24;
  uint32_t exp = (c >> 3) & 0xfu, mant = c & 0x7u;
  if (exp == 0xf && mant == 0x7)
    return bitsFloat(sign | 0x7fc00000u);
  if (exp == 0) // subnormal: mant * 2^-9
    return bitsFloat(sign | floatBits(static_cast<float>(mant) * 0.001953125f));
  return bitsFloat(sign | ((exp + 120u) << 23) | (mant << 20));
}

inline float e5m2ToFloat(uint8_t c) {
  // E5M2 is the upper byte of an IEEE binary16.
  return f16ToFloat(static_cast<uint16_t>(c) << 8);
}

/// E8M0 (OCP Microscaling's shared scale): an unsigned, biased exponent;
/// code b is 2^(b - 127), 0xff is NaN. 2^-127 is an f32 subnormal.
inline float e8m0ToFloat(uint8_t c) {
  if (c == 0xff)
    return bitsFloat(0x7fc00000u);
  if (c == 0)
    return bitsFloat(0x00400000u);
  return bitsFloat(static_cast<uint32_t>(c) << 23);
}

/// The E8M0 code of a power of two in [2^-127, 2^127], or NaN (0xff). Other
/// values have their exponent truncated (scales are always powers of two).
inline uint8_t floatToE8M0(float x) {
  uint32_t bits = floatBits(x) & 0x7fffffffu;
  if (bits > 0x7f800000u || bits >= (255u << 23))
    return 0xff; // NaN, infinity and 2^128 and above have no code
  if (bits < 0x00800000u)
    return 0; // 2^-127 (and below: the format's smallest)
  return static_cast<uint8_t>(bits >> 23);
}

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_FLOAT8_H
