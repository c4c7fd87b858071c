//===- OpenClLibrary.h - the device kernel library on an OpenCL device ----===//
//
// A test fixture that builds the OpenCL and CUDA drivers' kernel library
// (DeviceKernels.cpp) on the first OpenCL device there is (PoCL's CPU
// device where nothing else is installed) and runs its kernels one at a
// time, so tests can hold them to the CPU driver's bits.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_TESTS_UNIT_OPENCLLIBRARY_H
#define ACCEL_TESTS_UNIT_OPENCLLIBRARY_H

#include "runtime/hal/plugins/kernels/DeviceKernels.h"

#include <CL/cl.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <type_traits>
#include <vector>

class OpenClLibrary : public ::testing::Test {
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
    std::string source = std::string(accel::rt::devicekernels::prelude(
                             accel::rt::devicekernels::Language::OpenCL)) +
                         accel::rt::devicekernels::kernelLibrary();
    const char *text = source.c_str();
    program = clCreateProgramWithSource(context, 1, &text, nullptr, &err);
    ASSERT_EQ(err, CL_SUCCESS);
    // As the OpenCL driver builds it where the device offers it.
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(fp), &fp,
                    nullptr);
    const char *options = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
                              ? "-cl-fp32-correctly-rounded-divide-sqrt"
                              : "";
    if (clBuildProgram(program, 1, &device, options, nullptr, nullptr) !=
        CL_SUCCESS) {
      size_t size = 0;
      clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, 0, nullptr,
                            &size);
      std::string log(size, '\0');
      clGetProgramBuildInfo(program, device, CL_PROGRAM_BUILD_LOG, size,
                            log.data(), nullptr);
      FAIL() << "the kernel library does not build:\n" << log;
    }
  }

  void TearDown() override {
    for (cl_mem m : memories)
      clReleaseMemObject(m);
    if (program)
      clReleaseProgram(program);
    if (queue)
      clReleaseCommandQueue(queue);
    if (context)
      clReleaseContext(context);
  }

  /// A device buffer holding `bytes` bytes copied from `data` (zeros when
  /// null), released at the end of the test.
  cl_mem buffer(const void *data, size_t bytes) {
    cl_int err;
    cl_mem m = clCreateBuffer(
        context, CL_MEM_READ_WRITE | (data ? CL_MEM_COPY_HOST_PTR : 0),
        bytes ? bytes : 1, const_cast<void *>(data), &err);
    EXPECT_EQ(err, CL_SUCCESS);
    if (!data) {
      std::vector<char> zeros(bytes ? bytes : 1, 0);
      clEnqueueWriteBuffer(queue, m, CL_TRUE, 0, zeros.size(), zeros.data(), 0,
                           nullptr, nullptr);
    }
    memories.push_back(m);
    return m;
  }
  template <typename T> cl_mem buffer(const std::vector<T> &values) {
    return buffer(values.data(), values.size() * sizeof(T));
  }

  /// `count` elements of type T read back from `m`.
  template <typename T> std::vector<T> read(cl_mem m, size_t count) {
    std::vector<T> out(count);
    EXPECT_EQ(clEnqueueReadBuffer(queue, m, CL_TRUE, 0, count * sizeof(T),
                                  out.data(), 0, nullptr, nullptr),
              CL_SUCCESS);
    return out;
  }

  /// Runs kernel `name` over `global` work items in groups of `local` (0:
  /// the implementation's choice) with `args` in order (cl_mem buffers and
  /// scalars of the kernel's parameter types), and waits for it.
  template <typename... Args>
  void run(const char *name, size_t global, size_t local, Args... args) {
    cl_int err;
    cl_kernel k = clCreateKernel(program, name, &err);
    ASSERT_EQ(err, CL_SUCCESS) << name;
    cl_uint index = 0;
    cl_int status[] = {clSetKernelArg(k, index++, sizeof(Args), &args)...,
                       CL_SUCCESS};
    for (cl_uint i = 0; i < index; ++i)
      EXPECT_EQ(status[i], CL_SUCCESS) << name << " argument " << i;
    EXPECT_EQ(clEnqueueNDRangeKernel(queue, k, 1, nullptr, &global,
                                     local ? &local : nullptr, 0, nullptr,
                                     nullptr),
              CL_SUCCESS)
        << name;
    EXPECT_EQ(clFinish(queue), CL_SUCCESS);
    clReleaseKernel(k);
  }

  cl_device_id device = nullptr;
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_program program = nullptr;
  std::vector<cl_mem> memories;
};

#endif // ACCEL_TESTS_UNIT_OPENCLLIBRARY_H
