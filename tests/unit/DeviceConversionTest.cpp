//===- DeviceConversionTest.cpp - the device kernels' float conversions ---===//
//
// The OpenCL and CUDA drivers convert between f32, bf16, f16 and the FP8
// types in their kernel source (DeviceKernels.cpp), the CPU driver in C++
// (runtime/cpu/HalfFloat.h, Float8.h); reduced-precision runs agree across
// devices only if both give the same bits. This runs the library's
// `convert` kernel on an OpenCL device (PoCL's CPU device where nothing
// else is installed) over every 16-bit and 8-bit pattern and over f32
// values around every rounding boundary, and compares each result with the
// CPU's bit for bit.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"
#include "runtime/cpu/HalfFloat.h"
#include "tests/unit/OpenClLibrary.h"

#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace {

using namespace accel::rt::cpu;

/// The library's type codes.
enum TypeCode : cl_int { F32, BF16, F16, E4M3, E5M2, E8M0 };

size_t bytesOf(cl_int type) { return type == F32 ? 4 : type <= F16 ? 2 : 1; }

class DeviceConversionTest : public OpenClLibrary {
protected:
  /// The device's conversion of `n` values of type `from` into `to`, as
  /// raw bytes.
  std::vector<uint8_t> run(const void *input, cl_ulong n, cl_int from,
                           cl_int to) {
    cl_mem x = buffer(input, n * bytesOf(from));
    cl_mem y = buffer(nullptr, n * bytesOf(to));
    cl_ulong zero = 0;
    OpenClLibrary::run("convert", n, 0, x, zero, from, y, zero, to, n);
    return read<uint8_t>(y, n * bytesOf(to));
  }
};

/// Every 16-bit pattern (NaNs, infinities, subnormals, both zeros).
std::vector<uint16_t> allHalves() {
  std::vector<uint16_t> v(65536);
  for (uint32_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<uint16_t>(i);
  return v;
}

/// f32 values around every rounding boundary of both 16-bit formats: each
/// upper half with lower halves at, just below and just above bf16's tie,
/// f16's (13 dropped bits) tie and the ends, plus random ones.
std::vector<uint32_t> f32Boundaries() {
  std::vector<uint32_t> v;
  std::mt19937 random(7);
  for (uint32_t hi = 0; hi < 65536; ++hi)
    for (uint32_t lo : {0x0000u, 0x0001u, 0x0fffu, 0x1000u, 0x1001u, 0x7fffu,
                        0x8000u, 0x8001u, 0xefffu, 0xf000u, 0xffffu,
                        static_cast<uint32_t>(random() & 0xffffu)})
      v.push_back(hi << 16 | lo);
  return v;
}

TEST_F(DeviceConversionTest, WidensEvery16BitPatternAsTheCpu) {
  std::vector<uint16_t> halves = allHalves();
  for (cl_int type : {BF16, F16}) {
    std::vector<uint8_t> out = run(halves.data(), halves.size(), type, F32);
    for (size_t i = 0; i < halves.size(); ++i) {
      uint32_t got;
      std::memcpy(&got, out.data() + 4 * i, 4);
      float want =
          type == BF16 ? bf16ToFloat(halves[i]) : f16ToFloat(halves[i]);
      ASSERT_EQ(got, floatBits(want))
          << (type == BF16 ? "bf16 " : "f16 ") << std::hex << halves[i];
    }
  }
}

TEST_F(DeviceConversionTest, RoundsF32AsTheCpu) {
  std::vector<uint32_t> values = f32Boundaries();
  for (cl_int type : {BF16, F16}) {
    std::vector<uint8_t> out = run(values.data(), values.size(), F32, type);
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t got;
      std::memcpy(&got, out.data() + 2 * i, 2);
      float f = bitsFloat(values[i]);
      uint16_t want = type == BF16 ? floatToBf16(f) : floatToF16(f);
      ASSERT_EQ(got, want) << (type == BF16 ? "to bf16 " : "to f16 ")
                           << std::hex << values[i];
    }
  }
}

TEST_F(DeviceConversionTest, ConvertsBetween16BitTypesThroughF32) {
  std::vector<uint16_t> halves = allHalves();
  std::vector<uint8_t> out = run(halves.data(), halves.size(), BF16, F16);
  for (size_t i = 0; i < halves.size(); ++i) {
    uint16_t got;
    std::memcpy(&got, out.data() + 2 * i, 2);
    ASSERT_EQ(got, floatToF16(bf16ToFloat(halves[i]))) << std::hex << halves[i];
  }
}

TEST_F(DeviceConversionTest, WidensEvery8BitPatternAsTheCpu) {
  std::vector<uint8_t> codes(256);
  for (int i = 0; i < 256; ++i)
    codes[i] = static_cast<uint8_t>(i);
  for (cl_int type : {E4M3, E5M2, E8M0}) {
    std::vector<uint8_t> out = run(codes.data(), codes.size(), type, F32);
    for (int i = 0; i < 256; ++i) {
      uint32_t got;
      std::memcpy(&got, out.data() + 4 * i, 4);
      float want = type == E4M3   ? e4m3ToFloat(codes[i])
                   : type == E5M2 ? e5m2ToFloat(codes[i])
                                  : e8m0ToFloat(codes[i]);
      ASSERT_EQ(got, floatBits(want)) << "type " << type << " code " << i;
    }
  }
}

TEST_F(DeviceConversionTest, RoundsF32ToFp8AsTheCpu) {
  // Every upper half with lower halves at and around the ends: E4M3's
  // ties (20 dropped bits) and E5M2's (21) lie in the upper half, so each
  // tie, the values just below and above it, subnormals, overflow
  // thresholds, infinities and NaNs are all among them.
  std::vector<uint32_t> values = f32Boundaries();
  for (cl_int type : {E4M3, E5M2, E8M0}) {
    std::vector<uint8_t> out = run(values.data(), values.size(), F32, type);
    for (size_t i = 0; i < values.size(); ++i) {
      float f = bitsFloat(values[i]);
      uint8_t want = type == E4M3   ? floatToE4M3(f)
                     : type == E5M2 ? floatToE5M2(f)
                                    : floatToE8M0(f);
      ASSERT_EQ(out[i], want)
          << "type " << type << " from " << std::hex << values[i];
    }
  }
}

TEST_F(DeviceConversionTest, ConvertsFp8ToBf16ThroughF32) {
  std::vector<uint8_t> codes(256);
  for (int i = 0; i < 256; ++i)
    codes[i] = static_cast<uint8_t>(i);
  std::vector<uint8_t> out = run(codes.data(), codes.size(), E4M3, BF16);
  for (int i = 0; i < 256; ++i) {
    uint16_t got;
    std::memcpy(&got, out.data() + 2 * i, 2);
    ASSERT_EQ(got, floatToBf16(e4m3ToFloat(codes[i]))) << i;
  }
}

} // namespace
