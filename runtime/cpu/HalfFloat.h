//===- HalfFloat.h - bf16 and fp16 storage conversions ----------*- C++ -*-===//
//
// The 16-bit float formats accel stores activations in under mixed
// precision, converted as c10::BFloat16 and c10::Half do: to 16 bits with
// round-to-nearest-even (overflow becomes infinity, NaN stays NaN, fp16
// keeps subnormals), and back to float exactly. Kernels compute in float
// and round once per op result, as ATen's reduced-precision CPU kernels do.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_CPU_HALFFLOAT_H
#define ACCEL_RUNTIME_CPU_HALFFLOAT_H

#include <cstdint>
#include <cstring>

namespace accel::rt::cpu {

inline uint32_t floatBits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}
inline float bitsFloat(uint32_t u) {
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

/// float -> bfloat16: the upper 16 bits, rounded to nearest even.
inline uint16_t floatToBf16(float f) {
  uint32_t u = floatBits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) // NaN: keep it quiet
    return static_cast<uint16_t>((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}
inline float bf16ToFloat(uint16_t h) { return bitsFloat(uint32_t(h) << 16); }

/// float -> IEEE binary16, rounded to nearest even.
inline uint16_t floatToF16(float f) {
  uint32_t u = floatBits(f);
  uint16_t sign = static_cast<uint16_t>((u >> 16) & 0x8000u);
  uint32_t abs = u & 0x7fffffffu;
  if (abs > 0x7f800000u) // NaN
    return sign | 0x7e00u;
  if (abs >= 0x477ff000u) // >= 65520 (the midpoint above 65504): infinity
    return sign | 0x7c00u;
  if (abs < 0x38800000u) { // below 2^-14: a subnormal (or zero)
    // Align to the subnormal grid of 2^-24 by adding 0.5 (as a float whose
    // ulp at this magnitude is 2^-24): the float adder rounds to nearest
    // even, then the low bits are the subnormal's mantissa.
    float shifted = bitsFloat(abs) + 0.5f;
    return sign | static_cast<uint16_t>(floatBits(shifted) - floatBits(0.5f));
  }
  // Normal: rebias the exponent (127 -> 15) and round 13 mantissa bits away.
  uint32_t rounded = abs + 0xfffu + ((abs >> 13) & 1u);
  return sign | static_cast<uint16_t>((rounded - 0x38000000u) >> 13);
}

inline float f16ToFloat(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
  if (exp == 0) // zero or subnormal: mant * 2^-24, exact in float
    return bitsFloat(sign) +
           (sign ? -1.0f : 1.0f) * static_cast<float>(mant) * 5.9604644775390625e-8f;
  if (exp == 0x1f) // infinity or NaN
    return bitsFloat(sign | 0x7f800000u | (mant << 13));
  return bitsFloat(sign | ((exp + 112u) << 23) | (mant << 13));
}

} // namespace accel::rt::cpu

#endif // ACCEL_RUNTIME_CPU_HALFFLOAT_H
