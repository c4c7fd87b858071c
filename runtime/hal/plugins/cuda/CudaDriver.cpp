//===- CudaDriver.cpp - NVIDIA GPUs behind the driver ABI -----------------===//
//
// libaccel_driver_cuda.so: runs programs on an NVIDIA GPU. Buffers live in
// device memory (cudaMalloc: one arena for the planned values, one
// allocation per piece of state, input and scalar); state stays on the
// device between steps and the host stages inputs and reads results
// through read_buffer/write_buffer (map_buffer returns NULL). Products go
// through cuBLASLt in fp32 with TF32 off (CUBLAS_COMPUTE_32F); the other
// kernels are the OpenCL driver's source (kernels/DeviceKernels.cpp) read
// as CUDA C++, compiled by NVRTC to a CUBIN for the device when the
// program loads, and launched on one stream in program order. Mixed
// precision and data parallelism as the OpenCL driver (the same loader).
//
// It links the CUDA runtime statically, so the library loads where no
// NVIDIA driver is installed and says "no CUDA device" instead; NVRTC and
// cuBLASLt come from the CUDA toolkit (/usr/local/cuda/lib64).
//
// ACCEL_CUDA_DEVICE=N picks device N (default 0).
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/accel_driver.h"

#include "runtime/hal/plugins/cuda/CudaCompiler.h"
#include "runtime/hal/plugins/kernels/DeviceLoader.h"
#include "runtime/io/ProgramFile.h"

#include <cublasLt.h>
#include <cuda_runtime.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <vector>

namespace {

using accel::rt::devicekernels::Failure;
using accel::rt::devicekernels::Step;

int fail(accel_error *error, const std::string &message) {
  std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
  return 1;
}

std::string cudaFailure(const char *what, cudaError_t code) {
  return std::string("cuda: ") + what + " failed (" + cudaGetErrorName(code) +
         ": " + cudaGetErrorString(code) + ")";
}

void check(cudaError_t code, const char *what) {
  if (code != cudaSuccess)
    throw Failure{cudaFailure(what, code)};
}

void check(cublasStatus_t status, const char *what) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw Failure{std::string("cuda: ") + what + " failed (" +
                  cublasLtGetStatusName(status) + ")"};
}

/// cuBLASLt's workspace: enough for its fp32 kernels' split reductions.
constexpr size_t kWorkspaceBytes = 32u << 20;

} // namespace

struct accel_device {
  int ordinal = 0;
  std::string name;
  std::string arch; // "sm_90"
  cudaStream_t stream = nullptr;
  cublasLtHandle_t blas = nullptr;
  void *workspace = nullptr;
  /// This rank's collectives (the host's), or null for one rank.
  const accel_collectives *collectives = nullptr;
  ~accel_device() {
    cudaSetDevice(ordinal);
    if (workspace)
      cudaFree(workspace);
    if (blas)
      cublasLtDestroy(blas);
    if (stream)
      cudaStreamDestroy(stream);
  }
};

namespace {

/// A kernel with its arguments, made once at load: CUDA passes arguments
/// by address at each launch, so they are kept here.
struct CudaLaunch {
  cudaKernel_t kernel = nullptr;
  std::vector<uint64_t> slots; // one 8-byte slot per argument
  std::vector<void *> pointers;
};

/// One product's cuBLASLt descriptors and chosen algorithm.
struct CudaGemm {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo;
  ~CudaGemm() {
    if (c)
      cublasLtMatrixLayoutDestroy(c);
    if (b)
      cublasLtMatrixLayoutDestroy(b);
    if (a)
      cublasLtMatrixLayoutDestroy(a);
    if (op)
      cublasLtMatmulDescDestroy(op);
  }
};

/// The largest power of two (at most 256, at least 4) dividing `address`:
/// what cuBLASLt may assume of a pointer's alignment.
uint32_t alignmentOf(const void *address) {
  uint64_t a = reinterpret_cast<uint64_t>(address);
  uint32_t alignment = 256;
  while (alignment > 4 && a % alignment)
    alignment /= 2;
  return alignment;
}

/// CUDA's primitives for the shared DeviceLoader.
class CudaBackend {
public:
  using Memory = char *;
  using KernelRef = CudaLaunch *;

  explicit CudaBackend(accel_device &d) : d(d) {}
  CudaBackend(const CudaBackend &) = delete;
  ~CudaBackend() {
    cudaSetDevice(d.ordinal);
    cudaStreamSynchronize(d.stream);
    gemms.clear();
    if (library)
      cudaLibraryUnload(library);
    for (char *m : owned)
      cudaFree(m);
  }

  std::string prefix() const { return "cuda: "; }

  char *create(size_t bytes) {
    void *m = nullptr;
    check(cudaMalloc(&m, std::max<size_t>(bytes, 4)), "cudaMalloc");
    owned.push_back(static_cast<char *>(m));
    // Zeroed, so that a value the program reads before writing (none
    // should) reads the same on every run. On the driver's stream, which
    // does not wait for the legacy default stream.
    check(cudaMemsetAsync(m, 0, std::max<size_t>(bytes, 4), d.stream),
          "cudaMemsetAsync");
    return static_cast<char *>(m);
  }

  /// Synchronous: `data` may be gone when this returns.
  void write(char *m, const void *data, size_t bytes) {
    check(cudaMemcpyAsync(m, data, bytes, cudaMemcpyHostToDevice, d.stream),
          "cudaMemcpyAsync");
    check(cudaStreamSynchronize(d.stream), "cudaStreamSynchronize");
  }

  /// Blocking, after everything enqueued on the stream before.
  void download(char *m, size_t from, void *host, size_t bytes) {
    if (bytes == 0)
      return;
    check(cudaMemcpyAsync(host, m + from, bytes, cudaMemcpyDeviceToHost,
                          d.stream),
          "cudaMemcpyAsync");
    check(cudaStreamSynchronize(d.stream), "cudaStreamSynchronize");
  }
  void upload(char *m, size_t to, const void *host, size_t bytes) {
    if (bytes == 0)
      return;
    check(
        cudaMemcpyAsync(m + to, host, bytes, cudaMemcpyHostToDevice, d.stream),
        "cudaMemcpyAsync");
    check(cudaStreamSynchronize(d.stream), "cudaStreamSynchronize");
  }

  /// NVRTC compiles the step's kernels for this device; the CUBIN loads
  /// as one library.
  void compile(const std::string &kernels) {
    llvm::Expected<std::string> cubin =
        accel::rt::cuda::compileKernels(kernels, d.arch);
    if (!cubin)
      throw Failure{llvm::toString(cubin.takeError())};
    check(cudaLibraryLoadData(&library, cubin->data(), nullptr, nullptr, 0,
                              nullptr, nullptr, 0),
          "cudaLibraryLoadData");
  }

  CudaLaunch *kernel(const char *name) {
    auto launch = std::make_unique<CudaLaunch>();
    cudaError_t found = cudaLibraryGetKernel(&launch->kernel, library, name);
    if (found != cudaSuccess)
      throw Failure{std::string("cuda: the compiled kernels lack '") + name +
                    "' (" + cudaGetErrorString(found) + ")"};
    launches.push_back(std::move(launch));
    return launches.back().get();
  }

  template <typename T> void set(CudaLaunch *k, unsigned index, T value) {
    static_assert(sizeof(T) <= sizeof(uint64_t), "one slot per argument");
    if (k->slots.size() <= index)
      k->slots.resize(index + 1, 0);
    std::memcpy(&k->slots[index], &value, sizeof(T));
  }

  /// The argument addresses cudaLaunchKernel takes. Arguments are all set
  /// before the launch is made (DeviceLoader's order), so their slots no
  /// longer move.
  static void pointArguments(CudaLaunch *k) {
    k->pointers.clear();
    for (uint64_t &slot : k->slots)
      k->pointers.push_back(&slot);
  }

  Step launch(CudaLaunch *k, size_t n) {
    pointArguments(k);
    constexpr unsigned kThreads = 256;
    size_t blocks = std::max<size_t>((n + kThreads - 1) / kThreads, 1);
    if (blocks > 0x7fffffff)
      throw Failure{"cuda: a kernel over " + std::to_string(n) +
                    " elements exceeds one grid"};
    cudaStream_t stream = d.stream;
    return [k, blocks, stream] {
      check(cudaLaunchKernel(reinterpret_cast<const void *>(k->kernel),
                             dim3(static_cast<unsigned>(blocks)),
                             dim3(kThreads), k->pointers.data(), 0, stream),
            "cudaLaunchKernel");
    };
  }

  Step launchGroups(CudaLaunch *k, size_t groups, size_t size) {
    pointArguments(k);
    if (groups > 0x7fffffff)
      throw Failure{"cuda: " + std::to_string(groups) +
                    " rows exceed one grid"};
    cudaStream_t stream = d.stream;
    return [k, groups, size, stream] {
      check(cudaLaunchKernel(reinterpret_cast<const void *>(k->kernel),
                             dim3(static_cast<unsigned>(groups)),
                             dim3(static_cast<unsigned>(size)),
                             k->pointers.data(), 0, stream),
            "cudaLaunchKernel");
    };
  }

  /// Row-major C[m, n] = op(A) op(B), `batches` times over strided
  /// matrices, as cuBLASLt's column-major C^T = op(B)^T op(A)^T: the
  /// operands swap, their transposes stay.
  Step gemm(bool transA, bool transB, size_t m, size_t n, size_t k, char *a,
            size_t aOff, size_t lda, char *b, size_t bOff, size_t ldb,
            char *c, size_t cOff, size_t batches, size_t aStride,
            size_t bStride, size_t cStride) {
    const float *aPtr = reinterpret_cast<const float *>(a) + aOff;
    const float *bPtr = reinterpret_cast<const float *>(b) + bOff;
    float *cPtr = reinterpret_cast<float *>(c) + cOff;
    if (m == 0 || n == 0 || batches == 0)
      return [] {};
    if (k == 0) { // empty sums: C is zero
      cudaStream_t stream = d.stream;
      size_t bytes = ((batches - 1) * cStride + m * n) * sizeof(float);
      return [=] {
        check(cudaMemsetAsync(cPtr, 0, bytes, stream), "cudaMemsetAsync");
      };
    }
    // Every batch's matrix is as aligned as the first and its stride allow.
    auto aligned = [batches](const float *p, size_t stride) {
      uint32_t a = alignmentOf(p);
      if (batches > 1 && stride > 0)
        a = std::min(a, alignmentOf(reinterpret_cast<const void *>(
                            stride * sizeof(float))));
      return a;
    };
    GemmShape shape{transA, transB, m, n, k, lda, ldb, batches, aStride,
                    bStride, cStride, aligned(aPtr, aStride),
                    aligned(bPtr, bStride), aligned(cPtr, cStride)};
    CudaGemm *g = plan(shape);
    cublasLtHandle_t blas = d.blas;
    void *workspace = d.workspace;
    cudaStream_t stream = d.stream;
    return [=] {
      const float one = 1.0f, zero = 0.0f;
      check(cublasLtMatmul(blas, g->op, &one, bPtr, g->a, aPtr, g->b, &zero,
                           cPtr, g->c, cPtr, g->c, &g->algo, workspace,
                           kWorkspaceBytes, stream),
            "cublasLtMatmul");
    };
  }

  Step copy(char *src, size_t from, char *dst, size_t to, size_t bytes) {
    cudaStream_t stream = d.stream;
    return [=] {
      if (bytes > 0)
        check(cudaMemcpyAsync(dst + to, src + from, bytes,
                              cudaMemcpyDeviceToDevice, stream),
              "cudaMemcpyAsync");
    };
  }

private:
  /// What decides a product's descriptors and algorithm.
  struct GemmShape {
    bool transA, transB;
    size_t m, n, k, lda, ldb, batches, aStride, bStride, cStride;
    uint32_t alignA, alignB, alignC;
    auto key() const {
      return std::make_tuple(transA, transB, m, n, k, lda, ldb, batches,
                             aStride, bStride, cStride, alignA, alignB,
                             alignC);
    }
    bool operator<(const GemmShape &o) const { return key() < o.key(); }
  };

  static void layout(cublasLtMatrixLayout_t *l, size_t rows, size_t cols,
                     size_t ld, size_t batches, size_t stride) {
    check(cublasLtMatrixLayoutCreate(l, CUDA_R_32F, rows, cols, ld),
          "cublasLtMatrixLayoutCreate");
    if (batches == 1)
      return;
    int32_t count = static_cast<int32_t>(batches);
    int64_t offset = static_cast<int64_t>(stride);
    check(cublasLtMatrixLayoutSetAttribute(
              *l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)),
          "cublasLtMatrixLayoutSetAttribute");
    check(cublasLtMatrixLayoutSetAttribute(
              *l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &offset,
              sizeof(offset)),
          "cublasLtMatrixLayoutSetAttribute");
  }

  /// Descriptors and an algorithm per product shape and alignment, found
  /// once at load (a GPT's products share a few).
  CudaGemm *plan(const GemmShape &s) {
    auto found = gemms.find(s);
    if (found != gemms.end())
      return found->second.get();
    bool transA = s.transA, transB = s.transB;
    size_t m = s.m, n = s.n, k = s.k;
    uint32_t alignA = s.alignA, alignB = s.alignB, alignC = s.alignC;
    auto g = std::make_unique<CudaGemm>();
    check(cublasLtMatmulDescCreate(&g->op, CUBLAS_COMPUTE_32F, CUDA_R_32F),
          "cublasLtMatmulDescCreate");
    cublasOperation_t opA = transB ? CUBLAS_OP_T : CUBLAS_OP_N;
    cublasOperation_t opB = transA ? CUBLAS_OP_T : CUBLAS_OP_N;
    check(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSA,
                                         &opA, sizeof(opA)),
          "cublasLtMatmulDescSetAttribute");
    check(cublasLtMatmulDescSetAttribute(g->op, CUBLASLT_MATMUL_DESC_TRANSB,
                                         &opB, sizeof(opB)),
          "cublasLtMatmulDescSetAttribute");
    // Column-major views: cuBLASLt's A is our B, stored [n, k] (or [k, n]
    // transposed); its B is our A, stored [k, m] (or [m, k]).
    layout(&g->a, transB ? k : n, transB ? n : k, s.ldb, s.batches, s.bStride);
    layout(&g->b, transA ? m : k, transA ? k : m, s.lda, s.batches, s.aStride);
    layout(&g->c, n, m, n, s.batches, s.cStride);
    cublasLtMatmulPreference_t preference;
    check(cublasLtMatmulPreferenceCreate(&preference),
          "cublasLtMatmulPreferenceCreate");
    size_t workspace = kWorkspaceBytes;
    cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
        sizeof(workspace));
    // Our A is cuBLASLt's B and vice versa.
    cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &alignB,
        sizeof(alignB));
    cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &alignA,
        sizeof(alignA));
    cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &alignC,
        sizeof(alignC));
    cublasLtMatmulPreferenceSetAttribute(
        preference, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &alignC,
        sizeof(alignC));
    cublasLtMatmulHeuristicResult_t result;
    int algorithms = 0;
    cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
        d.blas, g->op, g->a, g->b, g->c, g->c, preference, 1, &result,
        &algorithms);
    cublasLtMatmulPreferenceDestroy(preference);
    check(status, "cublasLtMatmulAlgoGetHeuristic");
    if (algorithms == 0)
      throw Failure{"cuda: cuBLASLt has no fp32 algorithm for a " +
                    std::to_string(m) + "x" + std::to_string(n) + "x" +
                    std::to_string(k) + " product"};
    g->algo = result.algo;
    CudaGemm *raw = g.get();
    gemms.emplace(s, std::move(g));
    return raw;
  }

  accel_device &d;
  cudaLibrary_t library = nullptr;
  std::vector<std::unique_ptr<CudaLaunch>> launches;
  std::map<GemmShape, std::unique_ptr<CudaGemm>> gemms;
  std::vector<char *> owned; // freed at destruction
};

} // namespace

struct accel_executable {
  explicit accel_executable(accel_device *device)
      : device(device), backend(*device) {}
  accel_device *device;
  CudaBackend backend;
  accel::rt::devicekernels::DeviceProgram<char *> loaded;
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
    return fail(error, "cuda: device options of an older ABI");
  int count = 0;
  cudaError_t counted = cudaGetDeviceCount(&count);
  if (counted != cudaSuccess || count == 0) {
    // Without libcuda.so.1 the runtime reports an "insufficient" driver.
    std::string why = counted == cudaErrorInsufficientDriver
                          ? "no NVIDIA driver is loaded, or it predates the "
                            "CUDA 13 runtime"
                      : counted != cudaSuccess ? cudaGetErrorString(counted)
                                               : "the driver reports none";
    return fail(error, "cuda: no CUDA device (" + why + ")");
  }
  int ordinal = 0;
  if (const char *pick = std::getenv("ACCEL_CUDA_DEVICE")) {
    char *end = nullptr;
    long n = std::strtol(pick, &end, 10);
    if (!*pick || *end || n < 0)
      return fail(error, std::string("cuda: ACCEL_CUDA_DEVICE='") + pick +
                             "' is not a device number");
    if (n >= count)
      return fail(error, "cuda: no device " + std::to_string(n) + " (" +
                             std::to_string(count) + " found)");
    ordinal = static_cast<int>(n);
  }
  auto d = std::make_unique<accel_device>();
  d->ordinal = ordinal;
  d->collectives = options->collectives;
  try {
    check(cudaSetDevice(ordinal), "cudaSetDevice");
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, ordinal), "cudaGetDeviceProperties");
    d->name = "cuda:" + std::to_string(ordinal) + " " + prop.name;
    d->arch = "sm_" + std::to_string(prop.major) + std::to_string(prop.minor);
    check(cudaStreamCreateWithFlags(&d->stream, cudaStreamNonBlocking),
          "cudaStreamCreate");
    check(cublasLtCreate(&d->blas), "cublasLtCreate");
    check(cudaMalloc(&d->workspace, kWorkspaceBytes), "cudaMalloc");
  } catch (const Failure &f) {
    return fail(error, f.message);
  }
  *device = d.release();
  return 0;
}

void destroyDevice(accel_device *device) { delete device; }

const char *deviceName(accel_device *device) { return device->name.c_str(); }

int deviceMemory(accel_device *device, uint64_t *total, uint64_t *free,
                 accel_error *error) {
  size_t freeBytes = 0, totalBytes = 0;
  cudaSetDevice(device->ordinal);
  cudaError_t err = cudaMemGetInfo(&freeBytes, &totalBytes);
  if (err != cudaSuccess)
    return fail(error, cudaFailure("cudaMemGetInfo", err));
  *total = totalBytes;
  *free = freeBytes;
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
          programs->trainStep, "CUDA",
          device->collectives ? device->collectives->size : 1);
      !why.empty())
    return fail(error, why);
  cudaSetDevice(device->ordinal);
  auto e = std::make_unique<accel_executable>(device);
  e->loaded.program = std::move(programs->trainStep);
  try {
    accel::rt::devicekernels::DeviceLoader<CudaBackend>(e->backend, e->loaded,
                                                        device->collectives)
        .load();
    check(cudaStreamSynchronize(device->stream), "cudaStreamSynchronize");
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
  if (index < 0 ||
      static_cast<size_t>(index) >= e->loaded.program.buffers.size())
    return false;
  uint64_t size = e->loaded.program.buffers[index].bytes();
  return offset <= size && bytes <= size - offset;
}

/// Copies between the host and buffer `index`, in stream order.
int transfer(accel_executable *e, int32_t index, uint64_t offset, void *host,
             uint64_t bytes, bool toDevice, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error, std::string("cuda: ") + (toDevice ? "write" : "read") +
                           " outside buffer #" + std::to_string(index));
  if (bytes == 0)
    return 0;
  cudaSetDevice(e->device->ordinal);
  char *device = e->loaded.memory[index] + e->loaded.offset[index] + offset;
  cudaError_t err =
      toDevice ? cudaMemcpyAsync(device, host, bytes, cudaMemcpyHostToDevice,
                                 e->device->stream)
               : cudaMemcpyAsync(host, device, bytes, cudaMemcpyDeviceToHost,
                                 e->device->stream);
  if (err == cudaSuccess)
    err = cudaStreamSynchronize(e->device->stream);
  return err == cudaSuccess ? 0 : fail(error, cudaFailure("cudaMemcpy", err));
}

int readBuffer(accel_executable *e, int32_t index, uint64_t offset,
               void *destination, uint64_t bytes, accel_error *error) {
  return transfer(e, index, offset, destination, bytes, false, error);
}

int writeBuffer(accel_executable *e, int32_t index, uint64_t offset,
                const void *source, uint64_t bytes, accel_error *error) {
  return transfer(e, index, offset, const_cast<void *>(source), bytes, true,
                  error);
}

int run(accel_executable *e, accel_error *error) {
  cudaSetDevice(e->device->ordinal);
  cudaStream_t stream = e->device->stream;
  try {
    for (size_t pc = 0; pc < e->loaded.steps.size(); ++pc) {
      auto started = std::chrono::steady_clock::now();
      e->loaded.steps[pc]();
      if (e->profiling) {
        check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
        e->seconds[pc] += std::chrono::duration<double>(
                              std::chrono::steady_clock::now() - started)
                              .count();
      }
    }
    check(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
  } catch (const Failure &f) {
    return fail(error, f.message);
  }
  return 0;
}

int commitState(accel_executable *e, accel_error *error) {
  cudaSetDevice(e->device->ordinal);
  cudaStream_t stream = e->device->stream;
  for (auto [result, state] : e->loaded.commits) {
    cudaError_t err = cudaMemcpyAsync(
        e->loaded.memory[state] + e->loaded.offset[state],
        e->loaded.memory[result] + e->loaded.offset[result],
        e->loaded.program.buffers[state].bytes(), cudaMemcpyDeviceToDevice,
        stream);
    if (err != cudaSuccess)
      return fail(error, cudaFailure("cudaMemcpyAsync", err));
  }
  cudaError_t err = cudaStreamSynchronize(stream);
  return err == cudaSuccess
             ? 0
             : fail(error, cudaFailure("cudaStreamSynchronize", err));
}

void setProfiling(accel_executable *e, int32_t on) { e->profiling = on != 0; }

int readProfile(accel_executable *e, double *seconds, uint64_t count,
                accel_error *error) {
  if (count > e->seconds.size())
    return fail(error, "cuda: the profile has " +
                           std::to_string(e->seconds.size()) + " instructions");
  std::copy(e->seconds.begin(), e->seconds.begin() + count, seconds);
  return 0;
}

const std::string kKernels = accel::rt::devicekernels::supportedKernelList();

const accel_driver kDriver = {
    ACCEL_DRIVER_ABI_VERSION,
    sizeof(accel_driver),
    "cuda",
    "NVIDIA GPUs (kernels compiled by NVRTC at load; products by cuBLASLt, "
    "fp32 without TF32)",
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
