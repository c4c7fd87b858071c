//===- OpenClDriver.cpp - OpenCL devices behind the driver ABI ------------===//
//
// libaccel_driver_opencl.so: runs programs on an OpenCL 1.2+ device (PoCL's
// CPU device in CI; any GPU with an ICD). Buffers live in device memory: one
// buffer for the planned arena, one per piece of state, input and scalar;
// the host stages them (map_buffer returns NULL). Products go through
// CLBlast; the other kernels are OpenCL C compiled at load time
// (OpenClKernels.cpp), a kernel generated per fused instruction. Each
// instruction's kernel objects and arguments are made once at load, so a
// step only enqueues.
//
// This version runs f32 programs of one rank of the MLP, CNN and
// Transformer families (products, elementwise and fused chains, sums,
// convolutions, pooling, batch and layer norm, softmax, embeddings, masked
// fill, Philox dropout with the CPU's masks, cross-entropy); load_program
// refuses anything else, naming the kernels it lacks.
//
// ACCEL_OPENCL_DEVICE=P:D picks device D of platform P (default: the first
// device of the first platform that has one).
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/accel_driver.h"

#include "runtime/hal/plugins/opencl/OpenClKernels.h"
#include "runtime/io/ProgramFile.h"

#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <clblast_c.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

namespace {

using accel::rt::BufferDesc;
using accel::rt::ElementType;
using accel::rt::Instruction;
using accel::rt::Kernel;
using accel::rt::Program;

int fail(accel_error *error, const std::string &message) {
  std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
  return 1;
}

std::string clError(const char *what, cl_int code) {
  return std::string("opencl: ") + what + " failed (OpenCL error " +
         std::to_string(code) + ")";
}

/// Thrown inside loading and running, caught at the ABI boundary.
struct Failure {
  std::string message;
};

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
  ~accel_device() {
    if (queue)
      clReleaseCommandQueue(queue);
    if (context)
      clReleaseContext(context);
  }
};

struct accel_executable {
  accel_device *device = nullptr;
  Program program;
  /// Where buffer i lives: a memory object and a byte offset into it.
  std::vector<cl_mem> memory;
  std::vector<uint64_t> offset;
  std::vector<cl_mem> owned; // released at destruction
  cl_program library = nullptr;
  std::vector<cl_kernel> kernels;
  /// Per instruction, what enqueues it.
  std::vector<std::function<void()>> steps;
  bool profiling = false;
  std::vector<double> seconds;
  /// commit_state's copies: (state result, the state it replaces), for
  /// results not already computed in the state's own buffer.
  std::vector<std::pair<int, int>> commits;

  ~accel_executable() {
    for (cl_kernel k : kernels)
      clReleaseKernel(k);
    if (library)
      clReleaseProgram(library);
    for (cl_mem m : owned)
      clReleaseMemObject(m);
  }
};

namespace {

const std::set<Kernel> &supportedKernels() {
  static const std::set<Kernel> kernels = {
      Kernel::Linear, Kernel::BatchedMatmul, Kernel::Copy,
      Kernel::Add, Kernel::Sub, Kernel::Mul, Kernel::Div,
      Kernel::Relu, Kernel::Tanh, Kernel::Sigmoid, Kernel::Exp,
      Kernel::Log, Kernel::Sqrt, Kernel::Rsqrt, Kernel::Neg,
      Kernel::Gelu, Kernel::GeluTanh, Kernel::ReluGrad, Kernel::GeluGrad,
      Kernel::GeluTanhGrad, Kernel::IntToFloat, Kernel::Sum, Kernel::Mean,
      Kernel::CrossEntropy, Kernel::CrossEntropyGrad, Kernel::Fused,
      Kernel::AddInt, Kernel::MulInt, Kernel::EqualInt, Kernel::BoolToFloat,
      Kernel::Select, Kernel::Permute, Kernel::MaskedFill, Kernel::Softmax,
      Kernel::LogSoftmax, Kernel::SoftmaxGrad, Kernel::LogSoftmaxGrad,
      Kernel::LayerNorm, Kernel::LayerNormGrad, Kernel::Embedding,
      Kernel::EmbeddingGrad, Kernel::Dropout, Kernel::Conv2d,
      Kernel::Conv2dGradInput, Kernel::Conv2dGradWeight, Kernel::MaxPool2d,
      Kernel::MaxPool2dGrad, Kernel::AvgPool2d, Kernel::AvgPool2dGrad,
      Kernel::AdaptiveAvgPool2d, Kernel::AdaptiveAvgPool2dGrad,
      Kernel::BatchNorm, Kernel::BatchNormGrad};
  return kernels;
}

/// What this driver cannot run in `p`, or "".
std::string unsupported(const Program &p) {
  std::set<std::string> kinds;
  for (const Instruction &in : p.code)
    if (!supportedKernels().count(in.kernel))
      kinds.insert(accel::rt::kernelName(in.kernel));
  std::string list;
  for (const std::string &k : kinds)
    list += (list.empty() ? "" : ", ") + k;
  if (!list.empty())
    return "the OpenCL driver does not run these kernels yet: " + list;
  for (size_t i = 0; i < p.buffers.size(); ++i)
    if (p.buffers[i].type != ElementType::F32 &&
        p.buffers[i].type != ElementType::I64 &&
        p.buffers[i].type != ElementType::I1)
      return "the OpenCL driver runs f32 programs; buffer #" +
             std::to_string(i) + " holds another element type";
  if (p.ranks != 1)
    return "the OpenCL driver does not run data-parallel programs yet";
  return "";
}

/// Builds an executable's memory, kernels and launch closures.
class Loader {
public:
  Loader(accel_device &d, accel_executable &e) : d(d), e(e) {}

  void load() {
    allocate();
    compile();
    for (size_t pc = 0; pc < e.program.code.size(); ++pc)
      e.steps.push_back(prepare(pc));
    e.seconds.assign(e.program.code.size(), 0.0);
    const Program &p = e.program;
    for (const accel::rt::ProgramResult &r : p.results) {
      if (r.kind != accel::rt::ProgramResult::Kind::State)
        continue;
      for (size_t i = 0; i < p.buffers.size(); ++i)
        if (p.buffers[i].role == r.role && p.buffers[i].name == r.name) {
          if (p.buffers[i].bytes() > 0 &&
              (e.memory[i] != e.memory[r.buffer] ||
               e.offset[i] != e.offset[r.buffer]))
            e.commits.push_back({r.buffer, static_cast<int>(i)});
          break;
        }
    }
  }

private:
  cl_mem create(size_t bytes) {
    cl_int err;
    cl_mem m = clCreateBuffer(d.context, CL_MEM_READ_WRITE,
                              std::max<size_t>(bytes, 4), nullptr, &err);
    check(err, "clCreateBuffer");
    e.owned.push_back(m);
    return m;
  }

  void allocate() {
    const Program &p = e.program;
    cl_mem arena = create(p.arenaBytes);
    e.memory.resize(p.buffers.size());
    e.offset.resize(p.buffers.size());
    for (size_t i = 0; i < p.buffers.size(); ++i) {
      const BufferDesc &b = p.buffers[i];
      if (b.role == BufferDesc::Role::Arena) {
        e.memory[i] = arena;
        e.offset[i] = b.offset;
      } else if (b.role == BufferDesc::Role::View) {
        e.memory[i] = e.memory[b.viewOf];
        e.offset[i] = e.offset[b.viewOf];
      } else {
        e.memory[i] = create(b.bytes());
        e.offset[i] = 0;
        if (b.role == BufferDesc::Role::Constant && b.bytes() > 0)
          check(clEnqueueWriteBuffer(d.queue, e.memory[i], CL_TRUE, 0,
                                     b.bytes(), b.constant.data(), 0, nullptr,
                                     nullptr),
                "writing a constant");
      }
    }
  }

  void compile() {
    const Program &p = e.program;
    std::string source = accel::rt::opencl::kernelLibrary();
    for (size_t pc = 0; pc < p.code.size(); ++pc) {
      const Instruction &in = p.code[pc];
      if (in.kernel != Kernel::Fused)
        continue;
      std::vector<bool> scalar;
      for (int b : in.operands)
        scalar.push_back(p.buffers[b].numElements() == 1);
      llvm::Expected<std::string> k = accel::rt::opencl::fusedKernel(
          p.fusedBodies[in.ints[0]], scalar, "fused_" + std::to_string(pc));
      if (!k)
        throw Failure{"opencl: " + llvm::toString(k.takeError())};
      source += *k;
    }
    const char *text = source.c_str();
    cl_int err;
    e.library = clCreateProgramWithSource(d.context, 1, &text, nullptr, &err);
    check(err, "clCreateProgramWithSource");
    // Division and square roots correctly rounded, as on the CPU, where
    // the device offers it.
    cl_device_fp_config fp = 0;
    clGetDeviceInfo(d.device, CL_DEVICE_SINGLE_FP_CONFIG, sizeof(fp), &fp,
                    nullptr);
    const char *options = (fp & CL_FP_CORRECTLY_ROUNDED_DIVIDE_SQRT)
                              ? "-cl-fp32-correctly-rounded-divide-sqrt"
                              : "";
    if (clBuildProgram(e.library, 1, &d.device, options, nullptr, nullptr) !=
        CL_SUCCESS) {
      size_t size = 0;
      clGetProgramBuildInfo(e.library, d.device, CL_PROGRAM_BUILD_LOG, 0,
                            nullptr, &size);
      std::string log(size, '\0');
      clGetProgramBuildInfo(e.library, d.device, CL_PROGRAM_BUILD_LOG, size,
                            log.data(), nullptr);
      throw Failure{"opencl: " + d.name +
                    " cannot compile the step's kernels; its build log:\n" +
                    log};
    }
  }

  cl_kernel kernel(const char *name) {
    cl_int err;
    cl_kernel k = clCreateKernel(e.library, name, &err);
    check(err, "clCreateKernel");
    e.kernels.push_back(k);
    return k;
  }

  /// Sets the arguments of `k` in order.
  template <typename... Args> void args(cl_kernel k, Args... values) {
    cl_uint index = 0;
    (set(k, index++, values), ...);
  }
  template <typename T> void set(cl_kernel k, cl_uint index, T value) {
    check(clSetKernelArg(k, index, sizeof(T), &value), "clSetKernelArg");
  }

  /// Sets (memory, element offset) arguments for every operand, then every
  /// result, of `in`; returns the next argument's index.
  cl_uint bufferArgs(cl_kernel k, const Instruction &in) {
    cl_uint index = 0;
    for (const std::vector<int> *list : {&in.operands, &in.results})
      for (int b : *list) {
        set(k, index++, e.memory[b]);
        set(k, index++, at(b));
      }
    return index;
  }

  /// Element offset of buffer `b` (elements of its own type).
  cl_ulong at(int b) {
    return e.offset[b] / accel::rt::elementBytes(e.program.buffers[b].type);
  }

  cl_mem constants(std::vector<cl_long> values) {
    if (values.empty()) // rank 0: nothing to read, but a buffer to pass
      values.push_back(0);
    cl_mem m = create(values.size() * sizeof(cl_long));
    check(clEnqueueWriteBuffer(d.queue, m, CL_TRUE, 0,
                               values.size() * sizeof(cl_long), values.data(),
                               0, nullptr, nullptr),
          "writing kernel metadata");
    return m;
  }

  std::function<void()> launch(cl_kernel k, size_t n) {
    cl_command_queue q = d.queue;
    size_t global = std::max<size_t>(n, 1);
    return [=] {
      check(clEnqueueNDRangeKernel(q, k, 1, nullptr, &global, nullptr, 0,
                                   nullptr, nullptr),
            "clEnqueueNDRangeKernel");
    };
  }

  /// `out`'s shape, then each operand's strides over it with numpy
  /// broadcasting (0 along a broadcast dimension).
  std::vector<cl_long> broadcastMeta(int out, std::initializer_list<int> operands) {
    const std::vector<int64_t> &shape = e.program.buffers[out].shape;
    int rank = static_cast<int>(shape.size());
    if (rank > accel::rt::opencl::kMaxRank)
      throw Failure{"opencl: a broadcast of rank above 8"};
    std::vector<cl_long> meta(shape.begin(), shape.end());
    for (int operand : operands) {
      const std::vector<int64_t> &s = e.program.buffers[operand].shape;
      std::vector<cl_long> strides(rank, 0);
      cl_long stride = 1;
      for (int d = static_cast<int>(s.size()) - 1; d >= 0; --d) {
        int outDim = rank - static_cast<int>(s.size()) + d;
        strides[outDim] = s[d] == 1 ? 0 : stride;
        stride *= s[d];
      }
      meta.insert(meta.end(), strides.begin(), strides.end());
    }
    return meta;
  }

  /// out = a (op) b with numpy broadcasting of a and b to out's shape.
  std::function<void()> binary(int op, int a, int b, int out) {
    cl_int rank = static_cast<cl_int>(e.program.buffers[out].shape.size());
    cl_kernel k = kernel("binary");
    cl_ulong n = e.program.buffers[out].numElements();
    args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
         constants(broadcastMeta(out, {a, b})), rank, n, cl_int(op));
    return launch(k, n);
  }

  /// C[m, n] = op(A) op(B), row-major, through CLBlast; offsets in
  /// elements of buffers a, b and c of the program.
  std::function<void()> gemm(bool transA, bool transB, size_t m, size_t n,
                             size_t k, int a, size_t aOff, size_t lda, int b,
                             size_t bOff, size_t ldb, int c, size_t cOff) {
    return gemm(transA, transB, m, n, k, e.memory[a], aOff, lda, e.memory[b],
                bOff, ldb, e.memory[c], cOff);
  }
  std::function<void()> gemm(bool transA, bool transB, size_t m, size_t n,
                             size_t k, cl_mem am, size_t aOff, size_t lda,
                             cl_mem bm, size_t bOff, size_t ldb, cl_mem cm,
                             size_t cOff) {
    cl_command_queue q = d.queue;
    return [=]() mutable {
      CLBlastStatusCode s = CLBlastSgemm(
          CLBlastLayoutRowMajor,
          transA ? CLBlastTransposeYes : CLBlastTransposeNo,
          transB ? CLBlastTransposeYes : CLBlastTransposeNo, m, n, k, 1.0f, am,
          aOff, lda, bm, bOff, ldb, 0.0f, cm, cOff, n, &q, nullptr);
      if (s != CLBlastSuccess)
        throw Failure{"opencl: CLBlast's sgemm failed (status " +
                      std::to_string(s) + ")"};
    };
  }

  static std::function<void()> sequence(std::vector<std::function<void()>> s) {
    return [s = std::move(s)] {
      for (const auto &f : s)
        f();
    };
  }

  std::function<void()> prepare(size_t pc) {
    const Program &p = e.program;
    const Instruction &in = p.code[pc];
    auto shape = [&](size_t i) -> const std::vector<int64_t> & {
      return p.buffers[in.operands[i]].shape;
    };
    int out = in.results[0];
    cl_ulong n = p.buffers[out].numElements();
    if (int code = accel::rt::opencl::unaryCode(in.kernel); code >= 0) {
      cl_kernel k = kernel("unary");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n, cl_int(code));
      return launch(k, n);
    }
    if (int code = accel::rt::opencl::binaryCode(in.kernel); code >= 0)
      return binary(code, in.operands[0], in.operands[1], out);
    switch (in.kernel) {
    case Kernel::Linear: {
      // y[M, N] = x[M, K] w[N, K]^T (+ b)
      size_t nOut = shape(1)[0], k = shape(1)[1], m = n / nOut;
      std::vector<std::function<void()>> s = {
          gemm(false, true, m, nOut, k, in.operands[0], at(in.operands[0]), k,
               in.operands[1], at(in.operands[1]), k, out, at(out))};
      if (in.operands.size() > 2)
        s.push_back(binary(accel::rt::opencl::kAdd, out, in.operands[2], out));
      return sequence(std::move(s));
    }
    case Kernel::BatchedMatmul: {
      bool ta = !in.ints.empty() && in.ints[0], tb = in.ints.size() > 1 && in.ints[1];
      const std::vector<int64_t> &as = shape(0), &bs = shape(1);
      const std::vector<int64_t> &os = p.buffers[out].shape;
      size_t aRows = as[as.size() - 2], aCols = as.back();
      size_t bRows = bs[bs.size() - 2], bCols = bs.back();
      size_t m = ta ? aCols : aRows, k = ta ? aRows : aCols;
      size_t nn = tb ? bRows : bCols;
      // Batch dimensions broadcast numpy-style: walk the result's batch
      // and find each operand's matrix.
      size_t batches = 1;
      for (size_t d = 0; d + 2 < os.size(); ++d)
        batches *= os[d];
      std::vector<std::function<void()>> s;
      for (size_t t = 0; t < batches; ++t) {
        size_t rest = t, aIndex = 0, bIndex = 0, aStride = 1, bStride = 1;
        for (int d = static_cast<int>(os.size()) - 3; d >= 0; --d) {
          size_t c = rest % os[d];
          rest /= os[d];
          int ad = d - (static_cast<int>(os.size()) - static_cast<int>(as.size()));
          int bd = d - (static_cast<int>(os.size()) - static_cast<int>(bs.size()));
          if (ad >= 0) {
            aIndex += (as[ad] == 1 ? 0 : c) * aStride;
            aStride *= as[ad];
          }
          if (bd >= 0) {
            bIndex += (bs[bd] == 1 ? 0 : c) * bStride;
            bStride *= bs[bd];
          }
        }
        s.push_back(gemm(ta, tb, m, nn, k, in.operands[0],
                         at(in.operands[0]) + aIndex * aRows * aCols, aCols,
                         in.operands[1],
                         at(in.operands[1]) + bIndex * bRows * bCols, bCols,
                         out, at(out) + t * m * nn));
      }
      return sequence(std::move(s));
    }
    case Kernel::Copy: {
      cl_mem src = e.memory[in.operands[0]], dst = e.memory[out];
      size_t from = e.offset[in.operands[0]], to = e.offset[out];
      size_t bytes = p.buffers[out].bytes();
      cl_command_queue q = d.queue;
      return [=] {
        if (bytes > 0)
          check(clEnqueueCopyBuffer(q, src, dst, from, to, bytes, 0, nullptr,
                                    nullptr),
                "clEnqueueCopyBuffer");
      };
    }
    case Kernel::AddInt:
    case Kernel::MulInt: {
      cl_kernel k = kernel("int_op");
      int a = in.operands[0], b = in.operands[1];
      args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
           n, cl_int(in.kernel == Kernel::AddInt ? 0 : 1));
      return launch(k, n);
    }
    case Kernel::EqualInt: {
      cl_kernel k = kernel("equal_int");
      int a = in.operands[0], b = in.operands[1];
      args(k, e.memory[a], at(a), e.memory[b], at(b), e.memory[out], at(out),
           n);
      return launch(k, n);
    }
    case Kernel::BoolToFloat: {
      cl_kernel k = kernel("bool_to_float");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n);
      return launch(k, n);
    }
    case Kernel::Select: {
      // results[0] = operands[0] ? operands[1] : operands[2]
      cl_kernel k = kernel("select_bytes");
      int flag = in.operands[0], a = in.operands[1], b = in.operands[2];
      cl_ulong bytes = p.buffers[out].bytes();
      args(k, e.memory[flag], cl_ulong(e.offset[flag]), e.memory[a],
           cl_ulong(e.offset[a]), e.memory[b], cl_ulong(e.offset[b]),
           e.memory[out], cl_ulong(e.offset[out]), bytes);
      return launch(k, bytes);
    }
    case Kernel::Permute: { // ints: result dimension d is input dimension ints[d]
      const std::vector<int64_t> &s = shape(0);
      int rank = static_cast<int>(s.size());
      if (rank > accel::rt::opencl::kMaxRank)
        throw Failure{"opencl: a permutation of rank above 8"};
      std::vector<cl_long> inStrides(rank, 1);
      for (int d = rank - 2; d >= 0; --d)
        inStrides[d] = inStrides[d + 1] * s[d + 1];
      const std::vector<int64_t> &os = p.buffers[out].shape;
      std::vector<cl_long> meta(os.begin(), os.end());
      for (int d = 0; d < rank; ++d)
        meta.push_back(inStrides[in.ints[d]]);
      cl_kernel k = kernel("gather_strided");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), constants(meta),
           cl_int(rank), n);
      return launch(k, n);
    }
    case Kernel::MaskedFill: { // floats: the value
      int x = in.operands[0], mask = in.operands[1];
      cl_kernel k = kernel("masked_fill");
      args(k, e.memory[x], at(x), e.memory[mask], at(mask), e.memory[out],
           at(out), constants(broadcastMeta(out, {x, mask})),
           cl_int(p.buffers[out].shape.size()), n,
           static_cast<float>(in.floats[0]));
      return launch(k, n);
    }
    case Kernel::Softmax:
    case Kernel::LogSoftmax: {
      cl_ulong cols = shape(0).back(), rows = cols ? n / cols : 0;
      cl_kernel k = kernel("softmax");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), rows, cols,
           cl_int(in.kernel == Kernel::LogSoftmax));
      return launch(k, rows);
    }
    case Kernel::SoftmaxGrad:
    case Kernel::LogSoftmaxGrad: {
      cl_ulong cols = shape(0).back(), rows = cols ? n / cols : 0;
      cl_kernel k = kernel("softmax_grad");
      int g = in.operands[0], y = in.operands[1];
      args(k, e.memory[g], at(g), e.memory[y], at(y), e.memory[out], at(out),
           rows, cols, cl_int(in.kernel == Kernel::LogSoftmaxGrad));
      return launch(k, rows);
    }
    case Kernel::LayerNorm: { // ints: has weight, has bias, size; floats: eps
      int x = in.operands[0];
      int w = in.ints[0] ? in.operands[1] : x;
      int b = in.ints[1] ? in.operands[1 + in.ints[0]] : x;
      cl_ulong cols = in.ints[2], rows = cols ? n / cols : 0;
      cl_kernel k = kernel("layer_norm");
      args(k, e.memory[x], at(x), e.memory[w], at(w), e.memory[b], at(b),
           e.memory[out], at(out), rows, cols, cl_double(in.floats[0]),
           cl_int(in.ints[0]), cl_int(in.ints[1]));
      return launch(k, rows);
    }
    case Kernel::LayerNormGrad: { // operands: grad, input, [weight], [bias]
      int g = in.operands[0], x = in.operands[1];
      int w = in.ints[0] ? in.operands[2] : x;
      int dw = in.results[1], db = in.results[2];
      cl_ulong cols = in.ints[2], rows = cols ? n / cols : 0;
      // The CPU's row blocks (kLayerNormGradBlocks), so the parameter
      // gradients sum in its order.
      cl_ulong blocks = std::min<cl_ulong>(64, std::max<cl_ulong>(rows, 1));
      cl_ulong perBlock = (rows + blocks - 1) / blocks;
      cl_mem part = create(2 * blocks * std::max<cl_ulong>(cols, 1) *
                           sizeof(float));
      cl_kernel k = kernel("layer_norm_grad_rows");
      args(k, e.memory[g], at(g), e.memory[x], at(x), e.memory[w], at(w),
           e.memory[out], at(out), part, rows, cols, cl_double(in.floats[0]),
           cl_int(in.ints[0]), blocks, perBlock);
      cl_kernel sum = kernel("layer_norm_grad_params");
      args(sum, part, e.memory[dw], at(dw), e.memory[db], at(db), cols,
           blocks);
      return sequence({launch(k, blocks), launch(sum, cols)});
    }
    case Kernel::Embedding: {
      int w = in.operands[0], idx = in.operands[1];
      cl_long rows = shape(0)[0];
      cl_ulong dim = shape(0)[1];
      cl_kernel k = kernel("embedding");
      args(k, e.memory[w], at(w), e.memory[idx], at(idx), e.memory[out],
           at(out), rows, dim, n);
      return launch(k, n);
    }
    case Kernel::EmbeddingGrad: {
      int g = in.operands[0], idx = in.operands[1];
      cl_ulong dim = p.buffers[out].shape[1];
      cl_ulong count = p.buffers[idx].numElements();
      cl_kernel k = kernel("embedding_grad");
      args(k, e.memory[g], at(g), e.memory[idx], at(idx), e.memory[out],
           at(out), count, dim, n);
      return launch(k, n);
    }
    case Kernel::Dropout: { // ints: stream, rank stride, mode; floats: p
      int x = in.operands[0], seed = in.operands[1];
      cl_ulong first = static_cast<cl_ulong>(rank * in.ints[1]);
      cl_kernel k = kernel("dropout");
      args(k, e.memory[x], at(x), e.memory[seed], at(seed), e.memory[out],
           at(out), n, cl_double(in.floats[0]), cl_ulong(in.ints[0]), first,
           cl_int(in.ints[2]));
      return launch(k, n);
    }
    case Kernel::Conv2d:
    case Kernel::Conv2dGradInput:
    case Kernel::Conv2dGradWeight:
      return convolution(in);
    case Kernel::MaxPool2d:
    case Kernel::AvgPool2d:
    case Kernel::AdaptiveAvgPool2d: {
      int x = in.operands[0];
      cl_kernel k = kernel(in.kernel == Kernel::MaxPool2d ? "max_pool"
                                                          : "avg_pool");
      args(k, e.memory[x], at(x), e.memory[out], at(out),
           constants(poolMeta(shape(0), p.buffers[out].shape, in.ints)));
      if (in.kernel != Kernel::MaxPool2d)
        set(k, 5, cl_int(in.kernel == Kernel::AdaptiveAvgPool2d));
      return launch(k, n);
    }
    case Kernel::MaxPool2dGrad: { // operands: grad, input
      int g = in.operands[0], x = in.operands[1];
      std::vector<cl_long> meta = poolMeta(shape(1), shape(0), in.ints);
      cl_kernel k = kernel("max_pool_grad");
      args(k, e.memory[g], at(g), e.memory[x], at(x), e.memory[out], at(out),
           constants(meta));
      return launch(k, meta[0]);
    }
    case Kernel::AvgPool2dGrad:
    case Kernel::AdaptiveAvgPool2dGrad: { // operands: grad, input
      int g = in.operands[0];
      std::vector<cl_long> meta = poolMeta(shape(1), shape(0), in.ints);
      cl_kernel k = kernel("avg_pool_grad");
      args(k, e.memory[g], at(g), e.memory[out], at(out), constants(meta),
           cl_int(in.kernel == Kernel::AdaptiveAvgPool2dGrad));
      return launch(k, meta[0]);
    }
    case Kernel::BatchNorm:       // operands: input, weight, bias, mean, var
    case Kernel::BatchNormGrad: { // operands: grad, input, weight, mean, var
      bool grad = in.kernel == Kernel::BatchNormGrad;
      const std::vector<int64_t> &s = shape(grad ? 1 : 0);
      cl_long inner = 1;
      for (size_t dim = 2; dim < s.size(); ++dim)
        inner *= s[dim];
      cl_kernel k = kernel(grad ? "batch_norm_grad" : "batch_norm");
      cl_uint index = bufferArgs(k, in);
      set(k, index++, cl_long(s[0]));
      set(k, index++, cl_long(s[1]));
      set(k, index++, inner);
      set(k, index++, cl_double(in.floats[0]));
      if (!grad)
        set(k, index++,
            cl_double(in.floats.size() > 1 ? in.floats[1] : 0.0));
      set(k, index, cl_int(in.ints[0] != 0));
      return launch(k, s[1]);
    }
    case Kernel::IntToFloat: {
      cl_kernel k = kernel("int_to_float");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), n);
      return launch(k, n);
    }
    case Kernel::Sum:
    case Kernel::Mean: {
      const std::vector<int64_t> &s = shape(0);
      int rank = static_cast<int>(s.size());
      if (rank > accel::rt::opencl::kMaxRank)
        throw Failure{"opencl: a reduction of rank above 8"};
      std::vector<cl_long> meta(s.begin(), s.end());
      meta.resize(2 * rank, 0);
      cl_ulong reduced = 1;
      for (int64_t dim : in.ints) {
        meta[rank + dim] = 1;
        reduced *= s[dim];
      }
      cl_ulong whole = p.buffers[in.operands[0]].numElements();
      float scale = in.kernel == Kernel::Mean
                        ? static_cast<float>(n) / static_cast<float>(whole)
                        : 1.0f;
      cl_kernel k = kernel("sum");
      int x = in.operands[0];
      args(k, e.memory[x], at(x), e.memory[out], at(out), constants(meta),
           cl_int(rank), n, reduced, scale);
      return launch(k, n);
    }
    case Kernel::CrossEntropy: {
      // ints: reduction, ignore index; floats: label smoothing.
      int logits = in.operands[0], target = in.operands[1];
      cl_ulong rows = shape(0)[0];
      cl_long classes = shape(0)[1], ignore = in.ints[1];
      cl_mem per = create(rows * sizeof(cl_double));
      cl_kernel k = kernel("cross_entropy_rows");
      args(k, e.memory[logits], at(logits), e.memory[target], at(target), per,
           rows, classes, ignore, static_cast<float>(in.floats[0]));
      cl_kernel r = kernel("cross_entropy_reduce");
      args(r, per, e.memory[target], at(target), e.memory[out], at(out), rows,
           ignore, cl_int(in.ints[0]));
      return sequence({launch(k, rows), launch(r, 1)});
    }
    case Kernel::CrossEntropyGrad: {
      int grad = in.operands[0], logits = in.operands[1],
          target = in.operands[2];
      cl_ulong rows = shape(1)[0];
      cl_long classes = shape(1)[1], ignore = in.ints[1];
      cl_mem counted = create(sizeof(cl_long));
      cl_kernel c = kernel("count_targets");
      args(c, e.memory[target], at(target), counted, rows, ignore);
      cl_kernel k = kernel("cross_entropy_grad");
      args(k, e.memory[grad], at(grad), e.memory[logits], at(logits),
           e.memory[target], at(target), counted, e.memory[out], at(out), rows,
           classes, ignore, static_cast<float>(in.floats[0]),
           cl_int(in.ints[0]));
      return sequence({launch(c, 1), launch(k, rows)});
    }
    case Kernel::Fused: {
      std::string name = "fused_" + std::to_string(pc);
      cl_kernel k = kernel(name.c_str());
      cl_uint index = bufferArgs(k, in);
      set(k, index, n);
      return launch(k, n);
    }
    default:
      throw Failure{std::string("opencl: no kernel for ") +
                    accel::rt::kernelName(in.kernel)};
    }
  }

  /// Pooling geometry (OpenClKernels.cpp's pg) over the last two
  /// dimensions; ints: kernel, stride, padding, dilation (2 each),
  /// count_include_pad; none for adaptive pools.
  static std::vector<cl_long> poolMeta(const std::vector<int64_t> &input,
                                       const std::vector<int64_t> &out,
                                       const std::vector<int64_t> &ints) {
    cl_long planes = 1;
    for (size_t dim = 0; dim + 2 < input.size(); ++dim)
      planes *= input[dim];
    std::vector<cl_long> meta = {planes, input[input.size() - 2], input.back(),
                                 out[out.size() - 2], out.back()};
    if (ints.empty())
      meta.insert(meta.end(), {1, 1, 1, 1, 0, 0, 1, 1, 0});
    else
      meta.insert(meta.end(), ints.begin(), ints.begin() + 9);
    return meta;
  }

  /// A convolution or one of its gradients, as the CPU computes it: per
  /// group, im2col columns of all samples, one CLBlast product, then the
  /// result unstaged (or the columns added back, col2im).
  std::function<void()> convolution(const Instruction &in) {
    const Program &p = e.program;
    auto shapeOf = [&](int b) -> const std::vector<int64_t> & {
      return p.buffers[b].shape;
    };
    int input, weight, output;
    switch (in.kernel) {
    case Kernel::Conv2d:
      input = in.operands[0], weight = in.operands[1], output = in.results[0];
      break;
    case Kernel::Conv2dGradInput:
      output = in.operands[0], weight = in.operands[1], input = in.results[0];
      break;
    default: // Conv2dGradWeight
      output = in.operands[0], input = in.operands[1], weight = in.results[0];
      break;
    }
    const std::vector<int64_t> &is = shapeOf(input), &ws = shapeOf(weight),
                               &os = shapeOf(output);
    bool batched = is.size() == 4;
    size_t c0 = batched ? 1 : 0;
    std::vector<cl_long> geo = {batched ? is[0] : 1, is[c0], is[c0 + 1],
                                is[c0 + 2], ws[0], ws[2], ws[3], os[c0 + 1],
                                os[c0 + 2]};
    geo.insert(geo.end(), in.ints.begin(), in.ints.begin() + 7);
    cl_long groups = geo[15], perGroup = geo[1] / groups,
            perOut = geo[4] / groups;
    size_t pixels = geo[7] * geo[8], ld = geo[0] * pixels;
    size_t k = perGroup * geo[5] * geo[6];
    cl_mem meta = constants(geo);
    cl_mem columns = create(k * ld * sizeof(float));
    cl_mem staged = create(perOut * ld * sizeof(float));
    std::vector<std::function<void()>> steps;
    if (in.kernel == Kernel::Conv2dGradInput) {
      cl_kernel zero = kernel("fill_zero");
      cl_ulong n = p.buffers[input].numElements();
      args(zero, e.memory[input], at(input), n);
      steps.push_back(launch(zero, n));
    }
    for (cl_long group = 0; group < groups; ++group) {
      size_t wOff = at(weight) + group * perOut * k;
      if (in.kernel != Kernel::Conv2dGradInput) {
        cl_kernel im2col = kernel("im2col");
        args(im2col, e.memory[input], at(input), columns, meta, group);
        steps.push_back(launch(im2col, k * ld));
      }
      if (in.kernel != Kernel::Conv2d) {
        cl_kernel stage = kernel("conv_stage");
        args(stage, e.memory[output], at(output), staged, meta, group);
        steps.push_back(launch(stage, perOut * ld));
      }
      switch (in.kernel) {
      case Kernel::Conv2d: {
        // staged [O/groups, ld] = W_g [O/groups, k] columns [k, ld]
        steps.push_back(gemm(false, false, perOut, ld, k, e.memory[weight],
                             wOff, k, columns, 0, ld, staged, 0));
        bool bias = in.operands.size() > 2;
        int b = bias ? in.operands[2] : weight;
        cl_kernel unstage = kernel("conv_unstage");
        args(unstage, staged, e.memory[output], at(output), e.memory[b], at(b),
             cl_int(bias), meta, group);
        steps.push_back(launch(unstage, perOut * ld));
        break;
      }
      case Kernel::Conv2dGradInput: {
        // columns [k, ld] = W_g^T dY_g, then added back into dX
        steps.push_back(gemm(true, false, k, ld, perOut, e.memory[weight],
                             wOff, k, staged, 0, ld, columns, 0));
        cl_kernel col2im = kernel("col2im");
        args(col2im, columns, e.memory[input], at(input), meta, group);
        steps.push_back(launch(col2im, geo[0] * perGroup));
        break;
      }
      default:
        // dW_g [O/groups, k] = dY_g [O/groups, ld] columns^T
        steps.push_back(gemm(false, true, perOut, k, ld, staged, 0, ld,
                             columns, 0, ld, e.memory[weight], wOff));
        break;
      }
    }
    return sequence(std::move(steps));
  }

  accel_device &d;
  accel_executable &e;
  int64_t rank = 0; // data-parallel programs are refused for now
};

//===----------------------------------------------------------------------===//
// The ABI
//===----------------------------------------------------------------------===//

int createDevice(const accel_device_options *options, accel_device **device,
                 accel_error *error) {
  if (!options || options->struct_size < sizeof(accel_device_options))
    return fail(error, "opencl: device options of an older ABI");
  if (options->collectives)
    return fail(error, "the OpenCL driver does not run data-parallel jobs yet");
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
  if (std::string why = unsupported(programs->trainStep); !why.empty())
    return fail(error, why);
  auto e = std::make_unique<accel_executable>();
  e->device = device;
  e->program = std::move(programs->trainStep);
  try {
    Loader(*device, *e).load();
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
  if (index < 0 || static_cast<size_t>(index) >= e->program.buffers.size())
    return false;
  uint64_t size = e->program.buffers[index].bytes();
  return offset <= size && bytes <= size - offset;
}

int readBuffer(accel_executable *e, int32_t index, uint64_t offset,
               void *destination, uint64_t bytes, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error, "opencl: read outside buffer #" + std::to_string(index));
  if (bytes == 0)
    return 0;
  cl_int err = clEnqueueReadBuffer(e->device->queue, e->memory[index], CL_TRUE,
                                   e->offset[index] + offset, bytes,
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
  cl_int err = clEnqueueWriteBuffer(e->device->queue, e->memory[index], CL_TRUE,
                                    e->offset[index] + offset, bytes, source, 0,
                                    nullptr, nullptr);
  return err == CL_SUCCESS ? 0
                           : fail(error, clError("clEnqueueWriteBuffer", err));
}

int run(accel_executable *e, accel_error *error) {
  try {
    for (size_t pc = 0; pc < e->steps.size(); ++pc) {
      auto started = std::chrono::steady_clock::now();
      e->steps[pc]();
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
  for (auto [result, state] : e->commits) {
    cl_int err = clEnqueueCopyBuffer(
        e->device->queue, e->memory[result], e->memory[state],
        e->offset[result], e->offset[state],
        e->program.buffers[state].bytes(), 0, nullptr, nullptr);
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

std::string supportedKernelList() {
  std::string list;
  for (Kernel k : supportedKernels())
    list += (list.empty() ? "" : ",") + std::string(accel::rt::kernelName(k));
  return list;
}
const std::string kKernels = supportedKernelList();

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
    "f32,i64,i1",
};

} // namespace

extern "C" __attribute__((visibility("default"))) const accel_driver *
accel_driver_entry(uint32_t) {
  return &kDriver;
}
