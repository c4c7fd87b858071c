//===- OpenClKernels.cpp - the OpenCL driver's kernel source --------------===//

#include "runtime/hal/plugins/opencl/OpenClKernels.h"

#include <sstream>

namespace accel::rt::opencl {

const char *kernelLibrary() {
  // Every buffer is a (pointer, element offset) pair: the step's values are
  // views into one arena buffer, so kernels take the arena and an offset.
  return R"CL(
#pragma OPENCL EXTENSION cl_khr_fp64 : enable

#define GELU_BETA 0.7978845608028654f
#define GELU_KAPPA 0.044715f
#define RSQRT2 0.70710678118654752f
#define GELU_ALPHA 0.39894228040143268f

float relu_f(float x) { return (x > 0.0f || x != x) ? x : 0.0f; }
float gelu_f(float x) { return 0.5f * x * (1.0f + erf(x * RSQRT2)); }
float gelu_tanh_f(float x) {
  return 0.5f * x * (1.0f + tanh(GELU_BETA * (x + GELU_KAPPA * x * x * x)));
}
float relu_grad_f(float g, float x) { return x <= 0.0f ? 0.0f : g; }
float gelu_grad_f(float g, float x) {
  float cdf = erf(x * RSQRT2), pdf = exp(-0.5f * x * x);
  return g * (0.5f * (1.0f + cdf) + x * (GELU_ALPHA * pdf));
}
float gelu_tanh_grad_f(float g, float x) {
  float inner = GELU_BETA * (x + GELU_KAPPA * x * x * x);
  float t = tanh(inner);
  float d = GELU_BETA * (1.0f + 3.0f * GELU_KAPPA * x * x);
  return g * (0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * d);
}

float unary_op(int op, float x) {
  switch (op) {
  case 0: return relu_f(x);
  case 1: return tanh(x);
  case 2: return 1.0f / (1.0f + exp(-x));
  case 3: return exp(x);
  case 4: return log(x);
  case 5: return sqrt(x);
  case 6: return 1.0f / sqrt(x);
  case 7: return -x;
  case 8: return gelu_f(x);
  default: return gelu_tanh_f(x);
  }
}

float binary_op(int op, float a, float b) {
  switch (op) {
  case 0: return a + b;
  case 1: return a - b;
  case 2: return a * b;
  case 3: return a / b;
  case 4: return relu_grad_f(a, b);
  case 5: return gelu_grad_f(a, b);
  default: return gelu_tanh_grad_f(a, b);
  }
}

__kernel void unary(__global const float *x, ulong xo, __global float *y,
                    ulong yo, ulong n, int op) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = unary_op(op, x[xo + i]);
}

/* meta: the result's shape, then each operand's strides over it (0 along
   a broadcast dimension), `rank` each. */
__kernel void binary(__global const float *a, ulong ao,
                     __global const float *b, ulong bo, __global float *y,
                     ulong yo, __global const long *meta, int rank, ulong n,
                     int op) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  ulong rest = i, ai = 0, bi = 0;
  for (int d = rank - 1; d >= 0; --d) {
    ulong c = rest % (ulong)meta[d];
    rest /= (ulong)meta[d];
    ai += c * (ulong)meta[rank + d];
    bi += c * (ulong)meta[2 * rank + d];
  }
  y[yo + i] = binary_op(op, a[ao + ai], b[bo + bi]);
}

__kernel void int_to_float(__global const long *x, ulong xo, __global float *y,
                           ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = (float)x[xo + i];
}

/* Step counters: op 0 adds, 1 multiplies. */
__kernel void int_op(__global const long *a, ulong ao, __global const long *b,
                     ulong bo, __global long *y, ulong yo, ulong n, int op) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = op == 0 ? a[ao + i] + b[bo + i] : a[ao + i] * b[bo + i];
}

__kernel void equal_int(__global const long *a, ulong ao,
                        __global const long *b, ulong bo, __global uchar *y,
                        ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = a[ao + i] == b[bo + i];
}

__kernel void bool_to_float(__global const uchar *x, ulong xo,
                            __global float *y, ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = x[xo + i] ? 1.0f : 0.0f;
}

/* y = flag ? a : b, whole tensors, byte by byte (offsets in bytes). */
__kernel void select_bytes(__global const uchar *flag, ulong fo,
                           __global const uchar *a, ulong ao,
                           __global const uchar *b, ulong bo,
                           __global uchar *y, ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = flag[fo] ? a[ao + i] : b[bo + i];
}

/* meta: the input's shape, then 1 for each reduced dimension. Each result
   sums its reduced elements in index order, in double, as the CPU does;
   then scales (a mean) in float. */
__kernel void sum(__global const float *x, ulong xo, __global float *y,
                  ulong yo, __global const long *meta, int rank, ulong n,
                  ulong reduced, float scale) {
  ulong o = get_global_id(0);
  if (o >= n)
    return;
  long coord[8];
  ulong rest = o;
  for (int d = rank - 1; d >= 0; --d) {
    coord[d] = 0;
    if (!meta[rank + d]) {
      coord[d] = rest % (ulong)meta[d];
      rest /= (ulong)meta[d];
    }
  }
  double s = 0;
  for (ulong r = 0; r < reduced; ++r) {
    ulong q = r;
    for (int d = rank - 1; d >= 0; --d)
      if (meta[rank + d]) {
        coord[d] = q % (ulong)meta[d];
        q /= (ulong)meta[d];
      }
    ulong index = 0;
    for (int d = 0; d < rank; ++d)
      index = index * (ulong)meta[d] + coord[d];
    s += x[xo + index];
  }
  y[yo + o] = (float)s * scale;
}

/* The row's largest logit (the first of equals) and the log of the sum of
   exp(logit - largest), summed in double. */
void row_stats(__global const float *row, long classes, float *max,
               float *lse) {
  float m = row[0];
  for (long c = 1; c < classes; ++c)
    if (m < row[c])
      m = row[c];
  double s = 0;
  for (long c = 0; c < classes; ++c)
    s += exp((double)(row[c] - m));
  *max = m;
  *lse = (float)log(s);
}

__kernel void cross_entropy_rows(__global const float *logits, ulong lo,
                                 __global const long *target, ulong to,
                                 __global double *per, ulong n, long classes,
                                 long ignore, float smoothing) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  long t = target[to + i];
  if (t == ignore) {
    per[i] = 0;
    return;
  }
  __global const float *row = logits + lo + i * classes;
  float m, lse;
  row_stats(row, classes, &m, &lse);
  double nll = m + lse - row[t];
  double smooth = 0;
  if (smoothing > 0) {
    for (long c = 0; c < classes; ++c)
      smooth += m + lse - row[c];
    smooth /= classes;
  }
  per[i] = (1.0 - smoothing) * nll + smoothing * smooth;
}

/* One work item: the reduction in sample order (reduction 0 none, 1 mean,
   2 sum). */
__kernel void cross_entropy_reduce(__global const double *per,
                                   __global const long *target, ulong to,
                                   __global float *y, ulong yo, ulong n,
                                   long ignore, int reduction) {
  if (get_global_id(0) != 0)
    return;
  if (reduction == 0) {
    for (ulong i = 0; i < n; ++i)
      y[yo + i] = (float)per[i];
    return;
  }
  double total = 0;
  long counted = 0;
  for (ulong i = 0; i < n; ++i) {
    total += per[i];
    counted += target[to + i] != ignore;
  }
  y[yo] = (float)(reduction == 1 ? total / (double)counted : total);
}

/* One work item: the samples that count (not ignore_index). */
__kernel void count_targets(__global const long *target, ulong to,
                            __global long *counted, ulong n, long ignore) {
  if (get_global_id(0) != 0)
    return;
  long c = 0;
  for (ulong i = 0; i < n; ++i)
    c += target[to + i] != ignore;
  counted[0] = c;
}

__kernel void cross_entropy_grad(__global const float *grad, ulong go,
                                 __global const float *logits, ulong lo,
                                 __global const long *target, ulong to,
                                 __global const long *counted,
                                 __global float *y, ulong yo, ulong n,
                                 long classes, long ignore, float smoothing,
                                 int reduction) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  __global float *o = y + yo + i * classes;
  long t = target[to + i];
  if (t == ignore) {
    for (long c = 0; c < classes; ++c)
      o[c] = 0.0f;
    return;
  }
  float g = reduction == 0   ? grad[go + i]
            : reduction == 1 ? grad[go] / (float)counted[0]
                             : grad[go];
  __global const float *row = logits + lo + i * classes;
  float m, lse;
  row_stats(row, classes, &m, &lse);
  float uniform = smoothing / (float)classes;
  for (long c = 0; c < classes; ++c) {
    float p = exp(row[c] - m - lse);
    float target_p = uniform + (c == t ? 1.0f - smoothing : 0.0f);
    o[c] = g * (p - target_p);
  }
}
)CL";
}

int unaryCode(Kernel kernel) {
  switch (kernel) {
  case Kernel::Relu: return kRelu;
  case Kernel::Tanh: return kTanh;
  case Kernel::Sigmoid: return kSigmoid;
  case Kernel::Exp: return kExp;
  case Kernel::Log: return kLog;
  case Kernel::Sqrt: return kSqrt;
  case Kernel::Rsqrt: return kRsqrt;
  case Kernel::Neg: return kNeg;
  case Kernel::Gelu: return kGelu;
  case Kernel::GeluTanh: return kGeluTanh;
  default: return -1;
  }
}

int binaryCode(Kernel kernel) {
  switch (kernel) {
  case Kernel::Add: return kAdd;
  case Kernel::Sub: return kSub;
  case Kernel::Mul: return kMul;
  case Kernel::Div: return kDiv;
  case Kernel::ReluGrad: return kReluGrad;
  case Kernel::GeluGrad: return kGeluGrad;
  case Kernel::GeluTanhGrad: return kGeluTanhGrad;
  default: return -1;
  }
}

llvm::Expected<std::string> fusedKernel(const FusedBody &body,
                                        const std::vector<bool> &scalar,
                                        const std::string &name) {
  size_t operands = scalar.size();
  std::ostringstream s;
  s << "__kernel void " << name << "(";
  for (size_t i = 0; i < operands; ++i)
    s << "__global const float *a" << i << ", ulong ao" << i << ", ";
  for (size_t r = 0; r < body.results.size(); ++r)
    s << "__global float *r" << r << ", ulong ro" << r << ", ";
  s << "ulong n) {\n  ulong i = get_global_id(0);\n  if (i >= n)\n"
       "    return;\n";
  // Every operand is read before any result is written: a result may be
  // an operand's buffer (state updated in place).
  for (size_t i = 0; i < operands; ++i)
    s << "  float v" << i << " = a" << i << "[ao" << i
      << (scalar[i] ? "" : " + i") << "];\n";
  for (size_t k = 0; k < body.steps.size(); ++k) {
    const FusedStep &step = body.steps[k];
    if (step.round != ElementType::F32)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "fused steps rounded to a reduced precision are not implemented");
    size_t reg = operands + k;
    if (int code = unaryCode(step.kernel); code >= 0)
      s << "  float v" << reg << " = unary_op(" << code << ", v" << step.lhs
        << ");\n";
    else if (int code = binaryCode(step.kernel); code >= 0)
      s << "  float v" << reg << " = binary_op(" << code << ", v" << step.lhs
        << ", v" << step.rhs << ");\n";
    else
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     std::string("fused step ") +
                                         kernelName(step.kernel) +
                                         " is not elementwise");
  }
  for (size_t r = 0; r < body.results.size(); ++r)
    s << "  r" << r << "[ro" << r << " + i] = v" << body.results[r] << ";\n";
  s << "}\n";
  return s.str();
}

} // namespace accel::rt::opencl
