//===- OpenClDriver.cpp - OpenCL devices behind the driver ABI ------------===//
//
// libaccel_driver_opencl.so: runs programs on an OpenCL 1.2+ device (PoCL's
// CPU device in CI; any GPU with an ICD). Buffers live in device memory: one
// buffer for the planned arena, one per piece of state, input and scalar;
// the host stages them (map_buffer returns NULL). Products go through
// CLBlast; the other kernels are OpenCL C compiled at load time
// (kernels/DeviceKernels.cpp, shared with the CUDA driver), a kernel
// generated per fused instruction. Each instruction's kernel objects and
// arguments are made once at load (kernels/DeviceLoader.h), so a step only
// enqueues.
//
// This version runs programs of the MLP, CNN and Transformer families
// (products, elementwise and fused chains, sums, convolutions, pooling,
// batch and layer norm, softmax, embeddings, masked fill, Philox dropout
// with the CPU's masks, cross-entropy) in f32 or mixed precision (bf16/f16
// values widened to f32 around each kernel) and under data parallelism
// (the host's collectives, staged through host memory); load_program
// refuses anything else, naming the kernels it lacks.
//
// ACCEL_OPENCL_DEVICE=P:D picks device D of platform P (default: the first
// device of the first platform that has one).
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/accel_driver.h"

#include "runtime/hal/plugins/kernels/DeviceLoader.h"
#include "runtime/io/ProgramFile.h"

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace {

int fail(accel_error *error, const std::string &message) {
  std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
  return 1;
}

std::string clError(const char *what, cl_int code) {
  return std::string("opencl: ") + what + " failed (OpenCL error " +
         std::to_string(code) + ")";
}

using accel::rt::devicekernels::Failure;
using accel::rt::devicekernels::Step;

void check(cl_int code, const char *what) {
  if (code != CL_SUCCESS)
    throw Failure{clError(what, code)};
}

std::string deviceString(cl_device_id d, cl_device_info what) {
  size_t size = 0;
  clGetDeviceInfo(d, what, 0, nullptr, &size);
  std::string s(size, '\0');
  clGetDeviceInfo(d, what, size, s.data(), nullptr);
  while (!s.empty() && s.back() == '\0')
    s.pop_back();
  return s;
}

} // namespace

struct accel_device {
  cl_context context = nullptr;
  cl_command_queue queue = nullptr;
  cl_device_id device = nullptr;
  std::string name;
  /// This rank's collectives (the host's), or null for one rank.
  const accel_collectives *collectives = nullptr;
  ~accel_device() {
    if (queue)
      clReleaseCommandQueue(queue);
    if (context)
      clReleaseContext(context);
  }
};

namespace {

/// OpenCL's primitives for the shared DeviceLoader.
class OpenClBackend {
public:
  using Memory = cl_mem;
  using KernelRef = cl_kernel;

  explicit OpenClBackend(accel_device &d) : d(d) {}
  OpenClBackend(const OpenClBackend &) = delete;
  ~OpenClBackend() {
    for (cl_kernel k : kernels)
      clReleaseKernel(k);
    if (library)
      clReleaseProgram(library);
    for (cl_mem m : owned)
      clReleaseMemObject(m);
  }

  std::string prefix() const { return "opencl: "; }

  cl_mem create(size_t bytes) {
    cl_int err;
    cl_mem m = clCreateBuffer(d.context, CL_MEM_READ_WRITE,
                              std::max<size_t>(bytes, 4), nullptr, &err);
    check(err, "clCreateBuffer");
    owned.push_back(m);
    return m;
  }

  void write(cl_mem m, const void *data, size_t bytes) {
    check(clEnqueueWriteBuffer(d.queue, m, CL_TRUE, 0, bytes, data, 0, nullptr,
                               nullptr),
          "clEnqueueWriteBuffer");
  }

  /// Blocking, after everything enqueued before.
  void download(cl_mem m, size_t from, void *host, size_t bytes) {
    if (bytes > 0)
      check(clEnqueueReadBuffer(d.queue, m, CL_TRUE, from, bytes, host, 0,
                                nullptr, nullptr),
            "clEnqueueReadBuffer");
  }
  void upload(cl_mem m, size_t to, const void *host, size_t bytes) {
    if (bytes > 0)
      check(clEnqueueWriteBuffer(d.queue, m, CL_TRUE, to, bytes, host, 0,
                                 nullptr, nullptr),
            "clEnqueueWriteBuffer");
  }

  void compile(const std::string &kernels) {
    using accel::rt::devicekernels::Language;
    std::string source =
        accel::rt::devicekernels::prelude(Language::OpenCL) + kernels;
    const char *text = source.c_str();
    cl_int err;
    library = clCreateProgramWithSource(d.context, 1, &text, nullptr, &err);
    check(err, "clCreateProgramWithSource");
    // Division and square roots correctly rounded, as on the CPU, where
    // the device offers it.
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d.device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(fp), &fp,
                    nullptr);
    const char *options = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
                              ? "-cl-fp32-correctly-rounded-divide-sqrt"
                              : "";
    if (clBuildProgram(library, 1, &d.device, options, nullptr, nullptr) !=
        CL_SUCCESS) {
      size_t size = 0;
      clGetProgramBuildInfo(library, d.device, CL_PROGRAM_BUILD_LOG, 0,
                            nullptr, &size);
      std::string log(size, '\0');
      clGetProgramBuildInfo(library, d.device, CL_PROGRAM_BUILD_LOG, size,
                            log.data(), nullptr);
      throw Failure{"opencl: " + d.name +
                    " cannot compile the step's kernels; its build log:\n" +
                    log};
    }
  }

  cl_kernel kernel(const char *name) {
    cl_int err;
    cl_kernel k = clCreateKernel(library, name, &err);
    check(err, "clCreateKernel");
    kernels.push_back(k);
    return k;
  }

  template <typename T> void set(cl_kernel k, unsigned index, T value) {
    check(clSetKernelArg(k, index, sizeof(T), &value), "clSetKernelArg");
  }

  Step launch(cl_kernel k, size_t n) {
    cl_command_queue q = d.queue;
    size_t global = std::max<size_t>(n, 1);
    return [=] {
      check(clEnqueueNDRangeKernel(q, k, 1, nullptr, &global, nullptr, 0,
                                   nullptr, nullptr),
            "clEnqueueNDRangeKernel");
    };
  }

  Step launchGroups(cl_kernel k, size_t groups, size_t size) {
    cl_command_queue q = d.queue;
    size_t global = groups * size, local = size;
    return [=] {
      check(clEnqueueNDRangeKernel(q, k, 1, nullptr, &global, &local, 0,
                                   nullptr, nullptr),
            "clEnqueueNDRangeKernel");
    };
  }

  /// Row-major C[m, n] = op(A) op(B) through CLBlast, `batches` times
  /// over strided matrices.
  Step gemm(bool transA, bool transB, size_t m, size_t n, size_t k, cl_mem a,
            size_t aOff, size_t lda, cl_mem b, size_t bOff, size_t ldb,
            cl_mem c, size_t cOff, size_t batches, size_t aStride,
            size_t bStride, size_t cStride) {
    cl_command_queue q = d.queue;
    CLBlastTranspose ta = transA ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb = transB ? CLBlastTransposeYes : CLBlastTransposeNo;
    return [=]() mutable {
      // One CLBlast call at a time in the process: CLBlast 1.5 (Debian's)
      // stores the kernels it compiles in a cache that two threads can
      // corrupt (CLBlast issue 486, fixed upstream in 2023), and the
      // ranks of a data-parallel job call it from threads of their own.
      // After its first call for a shape a call only enqueues.
      static std::mutex clblast;
      std::lock_guard<std::mutex> lock(clblast);
      CLBlastStatusCode s =
          batches == 1
              ? CLBlastSgemm(CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a,
                             aOff, lda, b, bOff, ldb, 0.0f, c, cOff, n, &q,
                             nullptr)
              : CLBlastSgemmStridedBatched(
                    CLBlastLayoutRowMajor, ta, tb, m, n, k, 1.0f, a, aOff, lda,
                    aStride, b, bOff, ldb, bStride, 0.0f, c, cOff, n, cStride,
                    batches, &q, nullptr);
      if (s != CLBlastSuccess)
        throw Failure{"opencl: CLBlast's sgemm failed (status " +
                      std::to_string(s) + ")"};
    };
  }

  Step copy(cl_mem src, size_t from, cl_mem dst, size_t to, size_t bytes) {
    cl_command_queue q = d.queue;
    return [=] {
      if (bytes > 0)
        check(clEnqueueCopyBuffer(q, src, dst, from, to, bytes, 0, nullptr,
                                  nullptr),
              "clEnqueueCopyBuffer");
    };
  }

private:
  accel_device &d;
  cl_program library = nullptr;
  std::vector<cl_kernel> kernels;
  std::vector<cl_mem> owned; // released at destruction
};

} // namespace

struct accel_executable {
  explicit accel_executable(accel_device *device)
      : device(device), backend(*device) {}
  accel_device *device;
  OpenClBackend backend;
  accel::rt::devicekernels::DeviceProgram<cl_mem> loaded;
  bool profiling = false;
  std::vector<double> seconds;
};

namespace {

//===----------------------------------------------------------------------===//
// The ABI
//===----------------------------------------------------------------------===//

int createDevice(const accel_device_options *options, accel_device **device,
                 accel_error *error) {
  if (!options || options->struct_size < sizeof(accel_device_options))
    return fail(error, "opencl: device options of an older ABI");
  cl_uint platforms = 0;
  if (clGetPlatformIDs(0, nullptr, &platforms) != CL_SUCCESS || platforms == 0)
    return fail(error, "opencl: no OpenCL platform (is an ICD installed? "
                       "Debian's pocl-opencl-icd provides a CPU device)");
  std::vector<cl_platform_id> ids(platforms);
  clGetPlatformIDs(platforms, ids.data(), nullptr);
  int wantPlatform = -1, wantDevice = 0;
  if (const char *pick = std::getenv("ACCEL_OPENCL_DEVICE"))
    if (std::sscanf(pick, "%d:%d", &wantPlatform, &wantDevice) != 2)
      return fail(error, std::string("opencl: ACCEL_OPENCL_DEVICE='") + pick +
                             "' is not PLATFORM:DEVICE");
  cl_device_id chosen = nullptr;
  for (cl_uint p = 0; p < platforms && !chosen; ++p) {
    if (wantPlatform >= 0 && static_cast<int>(p) != wantPlatform)
      continue;
    cl_uint count = 0;
    if (clGetDeviceIDs(ids[p], CL_DEVICE_TYPE_ALL, 0, nullptr, &count) !=
            CL_SUCCESS ||
        count == 0)
      continue;
    std::vector<cl_device_id> devices(count);
    clGetDeviceIDs(ids[p], CL_DEVICE_TYPE_ALL, count, devices.data(), nullptr);
    if (wantDevice < static_cast<int>(count))
      chosen = devices[wantDevice];
  }
  if (!chosen)
    return fail(error, wantPlatform >= 0
                           ? "opencl: no device " + std::to_string(wantDevice) +
                                 " on platform " + std::to_string(wantPlatform)
                           : "opencl: no OpenCL platform has a device");
  auto d = std::make_unique<accel_device>();
  d->device = chosen;
  d->collectives = options->collectives;
  d->name = "opencl:" + deviceString(chosen, CL_DEVICE_NAME);
  cl_int err;
  d->context = clCreateContext(nullptr, 1, &chosen, nullptr, nullptr, &err);
  if (err != CL_SUCCESS)
    return fail(error, clError("clCreateContext", err));
  d->queue = clCreateCommandQueue(d->context, chosen, 0, &err);
  if (err != CL_SUCCESS)
    return fail(error, clError("clCreateCommandQueue", err));
  *device = d.release();
  return 0;
}

void destroyDevice(accel_device *device) { delete device; }

const char *deviceName(accel_device *device) { return device->name.c_str(); }

int deviceMemory(accel_device *device, uint64_t *total, uint64_t *free,
                 accel_error *error) {
  cl_ulong bytes = 0;
  cl_int err = clGetDeviceInfo(device->device, CL_DEVICE_GLOBAL_MEM_SIZE,
                               sizeof(bytes), &bytes, nullptr);
  if (err != CL_SUCCESS)
    return fail(error, clError("clGetDeviceInfo", err));
  // OpenCL does not say how much is free.
  *total = *free = bytes;
  return 0;
}

int loadProgram(accel_device *device, const uint8_t *bytes, size_t size,
                accel_executable **executable, accel_error *error) {
  llvm::Expected<accel::rt::StepPrograms> programs =
      accel::rt::parseProgramFile(
          llvm::StringRef(reinterpret_cast<const char *>(bytes), size),
          "the program");
  if (!programs)
    return fail(error, llvm::toString(programs.takeError()));
  if (std::string why = accel::rt::devicekernels::unsupported(
          programs->trainStep, "OpenCL",
          device->collectives ? device->collectives->size : 1);
      !why.empty())
    return fail(error, why);
  auto e = std::make_unique<accel_executable>(device);
  e->loaded.program = std::move(programs->trainStep);
  try {
    accel::rt::devicekernels::DeviceLoader<OpenClBackend>(e->backend, e->loaded,
                                                          device->collectives)
        .load();
    e->seconds.assign(e->loaded.program.code.size(), 0.0);
  } catch (const Failure &f) {
    return fail(error, f.message);
  }
  *executable = e.release();
  return 0;
}

void destroyExecutable(accel_executable *executable) { delete executable; }

void *mapBuffer(accel_executable *, int32_t) { return nullptr; }

bool inRange(accel_executable *e, int32_t index, uint64_t offset,
             uint64_t bytes) {
  if (index < 0 || static_cast<size_t>(index) >= e->loaded.program.buffers.size())
    return false;
  uint64_t size = e->loaded.program.buffers[index].bytes();
  return offset <= size && bytes <= size - offset;
}

int readBuffer(accel_executable *e, int32_t index, uint64_t offset,
               void *destination, uint64_t bytes, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error, "opencl: read outside buffer #" + std::to_string(index));
  if (bytes == 0)
    return 0;
  cl_int err = clEnqueueReadBuffer(e->device->queue, e->loaded.memory[index], CL_TRUE,
                                   e->loaded.offset[index] + offset, bytes,
                                   destination, 0, nullptr, nullptr);
  return err == CL_SUCCESS ? 0 : fail(error, clError("clEnqueueReadBuffer", err));
}

int writeBuffer(accel_executable *e, int32_t index, uint64_t offset,
                const void *source, uint64_t bytes, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error,
                "opencl: write outside buffer #" + std::to_string(index));
  if (bytes == 0)
    return 0;
  cl_int err = clEnqueueWriteBuffer(e->device->queue, e->loaded.memory[index], CL_TRUE,
                                    e->loaded.offset[index] + offset, bytes, source, 0,
                                    nullptr, nullptr);
  return err == CL_SUCCESS ? 0
                           : fail(error, clError("clEnqueueWriteBuffer", err));
}

int run(accel_executable *e, accel_error *error) {
  try {
    for (size_t pc = 0; pc < e->loaded.steps.size(); ++pc) {
      auto started = std::chrono::steady_clock::now();
      e->loaded.steps[pc]();
      if (e->profiling) {
        check(clFinish(e->device->queue), "clFinish");
        e->seconds[pc] += std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - started)
                              .count();
      }
    }
    check(clFinish(e->device->queue), "clFinish");
  } catch (const Failure &f) {
    return fail(error, f.message);
  }
  return 0;
}

int commitState(accel_executable *e, accel_error *error) {
  for (auto [result, state] : e->loaded.commits) {
    cl_int err = clEnqueueCopyBuffer(
        e->device->queue, e->loaded.memory[result], e->loaded.memory[state],
        e->loaded.offset[result], e->loaded.offset[state],
        e->loaded.program.buffers[state].bytes(), 0, nullptr, nullptr);
    if (err != CL_SUCCESS)
      return fail(error, clError("clEnqueueCopyBuffer", err));
  }
  cl_int err = clFinish(e->device->queue);
  return err == CL_SUCCESS ? 0 : fail(error, clError("clFinish", err));
}

void setProfiling(accel_executable *e, int32_t on) { e->profiling = on != 0; }

int readProfile(accel_executable *e, double *seconds, uint64_t count,
                accel_error *error) {
  if (count > e->seconds.size())
    return fail(error, "opencl: the profile has " +
                           std::to_string(e->seconds.size()) + " instructions");
  std::copy(e->seconds.begin(), e->seconds.begin() + count, seconds);
  return 0;
}

const std::string kKernels = accel::rt::devicekernels::supportedKernelList();

const accel_driver kDriver = {
    ACCEL_DRIVER_ABI_VERSION,
    sizeof(accel_driver),
    "opencl",
    "OpenCL 1.2+ devices (kernels compiled at load; products by CLBlast)",
    createDevice,
    destroyDevice,
    deviceName,
    deviceMemory,
    loadProgram,
    destroyExecutable,
    mapBuffer,
    readBuffer,
    writeBuffer,
    run,
    commitState,
    setProfiling,
    readProfile,
    kKernels.c_str(),
    "f32,i64,i1,bf16,f16,f8E4M3FN,f8E5M2,f8E8M0FNU",
};

} // namespace

extern "C" __attribute__((visibility("default"))) const accel_driver *
accel_driver_entry(uint32_t) {
  return &kDriver;
}
