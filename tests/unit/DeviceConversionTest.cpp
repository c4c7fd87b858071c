//===- DeviceConversionTest.cpp - the device kernels' 16-bit conversions --===//
//
// The OpenCL and CUDA drivers convert between f32, bf16 and f16 in their
// kernel source (DeviceKernels.cpp), the CPU driver in C++
// (runtime/cpu/HalfFloat.h); mixed-precision runs agree across devices only
// if both give the same bits. This runs the library's `convert` kernel on
// an OpenCL device (PoCL's CPU device where nothing else is installed)
// over every 16-bit pattern and over f32 values around every rounding
// boundary, and compares each result with the CPU's bit for bit.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/HalfFloat.h"
#include "runtime/hal/plugins/kernels/DeviceKernels.h"

#include <CL/cl.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

namespace {

using accel::rt::devicekernels::Language;

/// The kernel library built on the first OpenCL device there is.
class DeviceConversionTest : public ::testing::Test {
protected:
  void SetUp() override {
    // PoCL caches compiled kernels under HOME: the test's scratch space
    // under bazel, as tests/lit/lit.cfg.py does for the lit tests.
    if (const char *scratch = std::getenv("TEST_TMPDIR"))
      setenv("HOME", scratch, 1);
    cl_uint platforms = 0;
    if (clGetPlatformIDs(0, nullptr, &platforms) != CL_SUCCESS || !platforms)
      GTEST_SKIP() << "no OpenCL platform (Debian's pocl-opencl-icd "
                      "provides a CPU device)";
    std::vector<cl_platform_id> ids(platforms);
    clGetPlatformIDs(platforms, ids.data(), nullptr);
    for (cl_platform_id p : ids)
      if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &device, nullptr) ==
          CL_SUCCESS)
        break;
    if (!device)
      GTEST_SKIP() << "no OpenCL device";
    cl_int err;
    context = clCreateContext(nullptr, 1, &device, nullptr, nullptr, &err);
    ASSERT_EQ(err, CL_SUCCESS);
    queue = clCreateCommandQueue(context, device, 0, &err);
    ASSERT_EQ(err, CL_SUCCESS);
    std::string source =
        std::string(accel::rt::devicekernels::prelude(Language::OpenCL)) +
        accel::rt::devicekernels::kernelLibrary();
    const char *text = source.c_str();
    program = clCreateProgramWithSource(context, 1, &text, nullptr, &err);
    ASSERT_EQ(err, CL_SUCCESS);
    if (clBuildProgram(program, 1, &device, "", nullptr, nullptr) !=
        CL_SUCCESS) {
      size_t size = 0;
      clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr,
                            &size);
      std::string log(size, '\0');
      clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size,
                            log.data(), nullptr);
      FAIL() << "the kernel library does not build:\n" << log;
    }
    convert = clCreateKernel(program, "convert", &err);
    ASSERT_EQ(err, CL_SUCCESS);
  }

  void TearDown() override {
    if (convert)
      clReleaseKernel(convert);
    if (program)
      clReleaseProgram(program);
    if (queue)
      clReleaseCommandQueue(queue);
    if (context)
      clReleaseContext(context);
  }

  /// The device's conversion of `n` values of type `from` (0 f32, 1 bf16,
  /// 2 f16, the library's codes) into `to`, as raw bytes.
  std::vector<uint8_t> run(const void *input, cl_ulong n, cl_int from,
                           cl_int to) {
    auto bytes = [](cl_int type) { return type == 0 ? 4 : 2; };
    cl_int err;
    cl_mem x = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                              n * bytes(from), const_cast<void *>(input), &err);
    EXPECT_EQ(err, CL_SUCCESS);
    cl_mem y =
        clCreateBuffer(context, CL_MEM_WRITE_ONLY, n * bytes(to), nullptr, &err);
    EXPECT_EQ(err, CL_SUCCESS);
    cl_ulong zero = 0;
    clSetKernelArg(convert, 0, sizeof(cl_mem), &x);
    clSetKernelArg(convert, 1, sizeof(zero), &zero);
    clSetKernelArg(convert, 2, sizeof(from), &from);
    clSetKernelArg(convert, 3, sizeof(cl_mem), &y);
    clSetKernelArg(convert, 4, sizeof(zero), &zero);
    clSetKernelArg(convert, 5, sizeof(to), &to);
    clSetKernelArg(convert, 6, sizeof(n), &n);
    size_t global = n;
    EXPECT_EQ(clEnqueueNDRangeKernel(queue, convert, 1, nullptr, &global,
                                     nullptr, 0, nullptr, nullptr),
              CL_SUCCESS);
    std::vector<uint8_t> out(n * bytes(to));
    EXPECT_EQ(clEnqueueReadBuffer(queue, y, CL_TRUE, 0, out.size(), out.data(),
                                  0, nullptr, nullptr),
              CL_SUCCESS);
    clReleaseMemObject(x);
    clReleaseMemObject(y);
    return out;
  }

  cl_device_id device = nullptr;
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_program program = nullptr;
  cl_kernel convert = nullptr;
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
  for (cl_int type : {1, 2}) {
    std::vector<uint8_t> out = run(halves.data(), halves.size(), type, 0);
    for (size_t i = 0; i < halves.size(); ++i) {
      uint32_t got;
      std::memcpy(&got, out.data() + 4 * i, 4);
      float want = type == 1 ? accel::rt::cpu::bf16ToFloat(halves[i])
                             : accel::rt::cpu::f16ToFloat(halves[i]);
      ASSERT_EQ(got, accel::rt::cpu::floatBits(want))
          << (type == 1 ? "bf16 " : "f16 ") << std::hex << halves[i];
    }
  }
}

TEST_F(DeviceConversionTest, RoundsF32AsTheCpu) {
  std::vector<uint32_t> values = f32Boundaries();
  for (cl_int type : {1, 2}) {
    std::vector<uint8_t> out = run(values.data(), values.size(), 0, type);
    for (size_t i = 0; i < values.size(); ++i) {
      uint16_t got;
      std::memcpy(&got, out.data() + 2 * i, 2);
      float f = accel::rt::cpu::bitsFloat(values[i]);
      uint16_t want = type == 1 ? accel::rt::cpu::floatToBf16(f)
                                : accel::rt::cpu::floatToF16(f);
      ASSERT_EQ(got, want) << (type == 1 ? "to bf16 " : "to f16 ") << std::hex
                           << values[i];
    }
  }
}

TEST_F(DeviceConversionTest, ConvertsBetween16BitTypesThroughF32) {
  std::vector<uint16_t> halves = allHalves();
  std::vector<uint8_t> out = run(halves.data(), halves.size(), 1, 2);
  for (size_t i = 0; i < halves.size(); ++i) {
    uint16_t got;
    std::memcpy(&got, out.data() + 2 * i, 2);
    ASSERT_EQ(got, accel::rt::cpu::floatToF16(
                       accel::rt::cpu::bf16ToFloat(halves[i])))
        << std::hex << halves[i];
  }
}

} // namespace
