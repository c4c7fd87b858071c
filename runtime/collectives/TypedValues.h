//===- TypedValues.h - values widened to f32 and rounded back ---*- C++ -*-===//
//
// What the backends' reductions share: a tensor's values of any ValueType
// read as f32 (exactly) and results rounded back to it (to nearest even),
// so every reduction adds in f32. Values are read and written byte-wise,
// since a packed bucket may put an f32 tensor after an odd number of
// 16-bit values, off a 4-byte boundary.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_COLLECTIVES_TYPEDVALUES_H
#define ACCEL_RUNTIME_COLLECTIVES_TYPEDVALUES_H

#include "runtime/collectives/Communicator.h"
#include "runtime/cpu/HalfFloat.h"

#include <cstdint>
#include <cstring>

namespace accel::rt {

/// Value `index` of a `type` array at `values`.
inline const char *valueAt(const void *values, ValueType type, int64_t index) {
  return static_cast<const char *>(values) + index * valueBytes(type);
}
inline char *valueAt(void *values, ValueType type, int64_t index) {
  return static_cast<char *>(values) + index * valueBytes(type);
}

namespace detail {

/// Calls `fn(load)`, where load(p, e) reads value e of a `type` array at p
/// as f32: one instantiation per type keeps the switch out of the loops.
template <typename Fn> void withLoad(ValueType type, Fn &&fn) {
  switch (type) {
  case ValueType::F32:
    return fn([](const char *p, int64_t e) {
      float f;
      std::memcpy(&f, p + 4 * e, 4);
      return f;
    });
  case ValueType::BF16:
    return fn([](const char *p, int64_t e) {
      uint16_t h;
      std::memcpy(&h, p + 2 * e, 2);
      return cpu::bf16ToFloat(h);
    });
  case ValueType::F16:
    return fn([](const char *p, int64_t e) {
      uint16_t h;
      std::memcpy(&h, p + 2 * e, 2);
      return cpu::f16ToFloat(h);
    });
  }
}

} // namespace detail

/// out[e] = value e of `values`, for e < n.
inline void widenValues(const void *values, ValueType type, int64_t n,
                        float *out) {
  const char *p = static_cast<const char *>(values);
  detail::withLoad(type, [&](auto load) {
    for (int64_t e = 0; e < n; ++e)
      out[e] = load(p, e);
  });
}

/// out[e] += value e of `values`, for e < n: one f32 addition each.
inline void addWidenedValues(const void *values, ValueType type, int64_t n,
                             float *out) {
  const char *p = static_cast<const char *>(values);
  detail::withLoad(type, [&](auto load) {
    for (int64_t e = 0; e < n; ++e)
      out[e] += load(p, e);
  });
}

/// Value e of `out` = values[e] rounded to `type`, for e < n (f32: copied).
inline void narrowValues(const float *values, int64_t n, ValueType type,
                         void *out) {
  char *p = static_cast<char *>(out);
  switch (type) {
  case ValueType::F32:
    std::memcpy(p, values, n * sizeof(float));
    return;
  case ValueType::BF16:
    for (int64_t e = 0; e < n; ++e) {
      uint16_t h = cpu::floatToBf16(values[e]);
      std::memcpy(p + 2 * e, &h, 2);
    }
    return;
  case ValueType::F16:
    for (int64_t e = 0; e < n; ++e) {
      uint16_t h = cpu::floatToF16(values[e]);
      std::memcpy(p + 2 * e, &h, 2);
    }
    return;
  }
}

} // namespace accel::rt

#endif // ACCEL_RUNTIME_COLLECTIVES_TYPEDVALUES_H
