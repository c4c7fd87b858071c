//===- DeviceKernels.cpp - kernel source of the OpenCL and CUDA drivers ---===//

#include "runtime/hal/plugins/kernels/DeviceKernels.h"

#include <set>
#include <sstream>

namespace accel::rt::devicekernels {

const char *prelude(Language language) {
  if (language == Language::OpenCL)
    return "#pragma OPENCL EXTENSION cl_khr_fp64 : enable\n"
           "#define SHARED __local\n"
           "#define SHARED_PTR __local\n";
  // OpenCL C's words for CUDA C++ (compiled by NVRTC with unannotated
  // functions on the device): one thread per global index, 1-D launches.
  return R"CU(
typedef unsigned long ulong;
typedef unsigned int uint;
typedef unsigned char uchar;
typedef unsigned short ushort;
#define as_uint(x) __float_as_uint(x)
#define as_float(x) __uint_as_float(x)
#define __kernel extern "C" __global__
#define __global
#define get_global_id(dim) ((ulong)blockIdx.x * blockDim.x + threadIdx.x)
#define mul_hi(a, b) __umulhi(a, b)
#define get_local_id(dim) threadIdx.x
#define get_group_id(dim) blockIdx.x
#define barrier(fence) __syncthreads()
#define CLK_LOCAL_MEM_FENCE 0
#define SHARED __shared__
#define SHARED_PTR
#ifndef INFINITY
#define INFINITY __int_as_float(0x7f800000)
#endif
)CU";
}

const char *kernelLibrary() {
  // Every buffer is a (pointer, element offset) pair: the step's values are
  // views into one arena buffer, so kernels take the arena and an offset.
  return R"CL(
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
   a broadcast dimension), `rank` each: result element i's index in operand
   `which` (0-based). */
ulong strided(ulong i, __global const long *meta, int rank, int which) {
  ulong rest = i, at = 0;
  for (int d = rank - 1; d >= 0; --d) {
    at += (rest % (ulong)meta[d]) * (ulong)meta[(which + 1) * rank + d];
    rest /= (ulong)meta[d];
  }
  return at;
}

__kernel void binary(__global const float *a, ulong ao,
                     __global const float *b, ulong bo, __global float *y,
                     ulong yo, __global const long *meta, int rank, ulong n,
                     int op) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  y[yo + i] = binary_op(op, a[ao + strided(i, meta, rank, 0)],
                        b[bo + strided(i, meta, rank, 1)]);
}

/* binary where each operand repeats over the result (DeviceLoader's
   repeats(): same shape, scalar, trailing row): element i % size. */
__kernel void binary_repeat(__global const float *a, ulong ao, ulong an,
                            __global const float *b, ulong bo, ulong bn,
                            __global float *y, ulong yo, ulong n, int op) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  y[yo + i] = binary_op(op, a[ao + (an == n ? i : i % an)],
                        b[bo + (bn == n ? i : i % bn)]);
}

__kernel void int_to_float(__global const long *x, ulong xo, __global float *y,
                           ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = (float)x[xo + i];
}

/* y[i] = x[the input index of result element i]: meta holds the result's
   shape, then the input stride of each result dimension (a permutation). */
__kernel void gather_strided(__global const float *x, ulong xo,
                             __global float *y, ulong yo,
                             __global const long *meta, int rank, ulong n) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  y[yo + i] = x[xo + strided(i, meta, rank, 0)];
}

/* meta as binary's: y = mask ? value : x, both broadcast. */
__kernel void masked_fill(__global const float *x, ulong xo,
                          __global const uchar *mask, ulong mo,
                          __global float *y, ulong yo,
                          __global const long *meta, int rank, ulong n,
                          float value) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  y[yo + i] = mask[mo + strided(i, meta, rank, 1)]
                  ? value
                  : x[xo + strided(i, meta, rank, 0)];
}

__kernel void masked_fill_repeat(__global const float *x, ulong xo,
                                 ulong xn, __global const uchar *mask,
                                 ulong mo, ulong mn, __global float *y,
                                 ulong yo, ulong n, float value) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  y[yo + i] = mask[mo + (mn == n ? i : i % mn)]
                  ? value
                  : x[xo + (xn == n ? i : i % xn)];
}

/* Rows of `cols`: softmax scales exp(x - max) (f32) by 1 / their sum
   (double); log_softmax subtracts max + log(sum), as the CPU does. */
__kernel void softmax(__global const float *x, ulong xo, __global float *y,
                      ulong yo, ulong rows, ulong cols, int log_form) {
  ulong r = get_global_id(0);
  if (r >= rows)
    return;
  __global const float *row = x + xo + r * cols;
  __global float *o = y + yo + r * cols;
  float m = row[0];
  for (ulong c = 1; c < cols; ++c)
    if (m < row[c])
      m = row[c];
  double s = 0;
  if (log_form) {
    for (ulong c = 0; c < cols; ++c)
      s += exp(row[c] - m);
    float shift = m + (float)log(s);
    for (ulong c = 0; c < cols; ++c)
      o[c] = row[c] - shift;
    return;
  }
  for (ulong c = 0; c < cols; ++c) {
    o[c] = exp(row[c] - m);
    s += o[c];
  }
  float inverse = (float)(1.0 / s);
  for (ulong c = 0; c < cols; ++c)
    o[c] *= inverse;
}

__kernel void softmax_grad(__global const float *g, ulong go,
                           __global const float *y, ulong yo,
                           __global float *out, ulong oo, ulong rows,
                           ulong cols, int log_form) {
  ulong r = get_global_id(0);
  if (r >= rows)
    return;
  __global const float *gr = g + go + r * cols, *yr = y + yo + r * cols;
  __global float *o = out + oo + r * cols;
  double s = 0;
  if (log_form) {
    for (ulong c = 0; c < cols; ++c)
      s += gr[c];
    for (ulong c = 0; c < cols; ++c)
      o[c] = gr[c] - exp(yr[c]) * (float)s;
  } else {
    for (ulong c = 0; c < cols; ++c)
      s += (double)gr[c] * yr[c];
    for (ulong c = 0; c < cols; ++c)
      o[c] = yr[c] * (gr[c] - (float)s);
  }
}

/* A row's mean and 1 / sqrt(variance + eps), in double, rounded to f32. */
void row_moments(__global const float *row, ulong cols, double eps,
                 float *mean_out, float *rstd_out) {
  double s = 0;
  for (ulong c = 0; c < cols; ++c)
    s += row[c];
  double mean = s / (double)cols, ss = 0;
  for (ulong c = 0; c < cols; ++c) {
    double d = row[c] - mean;
    ss += d * d;
  }
  double var = ss / (double)cols;
  *mean_out = (float)mean;
  *rstd_out = (float)(1.0 / sqrt(var + eps));
}

/* A layer-norm row's output over columns first, first + step, ... (all of
   them for one work item; its share for a work group's). */
void layer_norm_write(__global const float *row, __global float *o,
                      __global const float *w, ulong wo,
                      __global const float *b, ulong bo, ulong cols,
                      float mean, float rstd, int has_w, int has_b,
                      ulong first, ulong step) {
  for (ulong c = first; c < cols; c += step) {
    float v = (row[c] - mean) * rstd;
    if (has_w)
      v *= w[wo + c];
    if (has_b)
      v += b[bo + c];
    o[c] = v;
  }
}

/* Its input gradient's two row sums, Σ g·w and Σ g·w·x̂, over the same
   columns, and then the gradient from their means. */
void layer_norm_grad_sums(__global const float *gr, __global const float *row,
                          __global const float *w, ulong wo, ulong cols,
                          float mean, float rstd, int has_w, ulong first,
                          ulong step, double *sum_gw, double *sum_gw_xhat) {
  for (ulong c = first; c < cols; c += step) {
    float xhat = (row[c] - mean) * rstd;
    float gw = has_w ? gr[c] * w[wo + c] : gr[c];
    *sum_gw += gw;
    *sum_gw_xhat += (double)gw * xhat;
  }
}
void layer_norm_grad_write(__global const float *gr,
                           __global const float *row, __global const float *w,
                           ulong wo, __global float *d, ulong cols, float mean,
                           float rstd, float mean_gw, float mean_gw_xhat,
                           int has_w, ulong first, ulong step) {
  for (ulong c = first; c < cols; c += step) {
    float xhat = (row[c] - mean) * rstd;
    float gw = has_w ? gr[c] * w[wo + c] : gr[c];
    d[c] = rstd * (gw - mean_gw - xhat * mean_gw_xhat);
  }
}

/* w and b may be absent (has_w, has_b 0: any buffer is passed). */
__kernel void layer_norm(__global const float *x, ulong xo,
                         __global const float *w, ulong wo,
                         __global const float *b, ulong bo,
                         __global float *y, ulong yo, ulong rows, ulong cols,
                         double eps, int has_w, int has_b) {
  ulong r = get_global_id(0);
  if (r >= rows)
    return;
  __global const float *row = x + xo + r * cols;
  __global float *o = y + yo + r * cols;
  float mean, rstd;
  row_moments(row, cols, eps, &mean, &rstd);
  layer_norm_write(row, o, w, wo, b, bo, cols, mean, rstd, has_w, has_b, 0, 1);
}

/* One work item per row: its input gradient, and its mean and reciprocal
   standard deviation (stats, two floats per row) for the parameter
   gradients' partial sums. */
__kernel void layer_norm_grad_rows(__global const float *g, ulong go,
                                   __global const float *x, ulong xo,
                                   __global const float *w, ulong wo,
                                   __global float *dx, ulong dxo,
                                   __global float *stats, ulong rows,
                                   ulong cols, double eps, int has_w) {
  ulong r = get_global_id(0);
  if (r >= rows)
    return;
  __global const float *gr = g + go + r * cols, *row = x + xo + r * cols;
  __global float *d = dx + dxo + r * cols;
  float mean, rstd;
  row_moments(row, cols, eps, &mean, &rstd);
  stats[2 * r] = mean;
  stats[2 * r + 1] = rstd;
  double sum_gw = 0, sum_gw_xhat = 0;
  layer_norm_grad_sums(gr, row, w, wo, cols, mean, rstd, has_w, 0, 1, &sum_gw,
                       &sum_gw_xhat);
  layer_norm_grad_write(gr, row, w, wo, d, cols, mean, rstd,
                        (float)(sum_gw / cols), (float)(sum_gw_xhat / cols),
                        has_w, 0, 1);
}

/* One work item per (block of rows, column), the CPU's fixed blocks: the
   block's partial sums of the weight and bias gradients, row by row in
   float as the CPU adds them (part: blocks x cols for the weight, then for
   the bias). */
__kernel void layer_norm_grad_partials(__global const float *g, ulong go,
                                       __global const float *x, ulong xo,
                                       __global const float *stats,
                                       __global float *part, ulong rows,
                                       ulong cols, ulong blocks,
                                       ulong per_block) {
  ulong i = get_global_id(0);
  if (i >= blocks * cols)
    return;
  ulong blk = i / cols, c = i % cols;
  float pw = 0.0f, pb = 0.0f;
  ulong end = min(rows, (blk + 1) * per_block);
  for (ulong r = blk * per_block; r < end; ++r) {
    float gv = g[go + r * cols + c];
    float xhat = (x[xo + r * cols + c] - stats[2 * r]) * stats[2 * r + 1];
    pw += gv * xhat;
    pb += gv;
  }
  part[blk * cols + c] = pw;
  part[(blocks + blk) * cols + c] = pb;
}

__kernel void layer_norm_grad_params(__global const float *part,
                                     __global float *dw, ulong dwo,
                                     __global float *db, ulong dbo,
                                     ulong cols, ulong blocks) {
  ulong c = get_global_id(0);
  if (c >= cols)
    return;
  float w = 0, b = 0;
  for (ulong k = 0; k < blocks; ++k) {
    w += part[k * cols + c];
    b += part[(blocks + k) * cols + c];
  }
  dw[dwo + c] = w;
  db[dbo + c] = b;
}

/* Rows of the table by index (an index out of range gives zeros; runners
   check every index before training). */
__kernel void embedding(__global const float *w, ulong wo,
                        __global const long *idx, ulong io,
                        __global float *y, ulong yo, long rows, ulong dim,
                        ulong n) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  ulong k = i / dim, c = i % dim;
  long row = idx[io + k];
  y[yo + i] = row >= 0 && row < rows ? w[wo + (ulong)row * dim + c] : 0.0f;
}

/* The embedding gradient in three passes, so that each table element
   adds the gradients that land on it in index order (the CPU's order)
   without scanning every index: per table row, how many indices name it;
   their positions, ascending, in one list (offsets from an exclusive scan
   of the counts); then each element sums its row's list. */
__kernel void embedding_grad_count(__global const long *idx, ulong io,
                                   __global long *counts, ulong count,
                                   long rows) {
  long r = get_global_id(0);
  if (r >= rows)
    return;
  long found = 0;
  for (ulong k = 0; k < count; ++k)
    found += idx[io + k] == r;
  counts[r] = found;
}

/* One work item: counts[0, n) becomes their exclusive prefix sums, and
   counts[n] the total. */
__kernel void exclusive_scan(__global long *counts, ulong n) {
  if (get_global_id(0) != 0)
    return;
  long total = 0;
  for (ulong i = 0; i < n; ++i) {
    long c = counts[i];
    counts[i] = total;
    total += c;
  }
  counts[n] = total;
}

__kernel void embedding_grad_list(__global const long *idx, ulong io,
                                  __global const long *offsets,
                                  __global long *list, ulong count,
                                  long rows) {
  long r = get_global_id(0);
  if (r >= rows)
    return;
  long at = offsets[r];
  for (ulong k = 0; k < count; ++k)
    if (idx[io + k] == r)
      list[at++] = (long)k;
}

__kernel void embedding_grad(__global const float *g, ulong go,
                             __global const long *offsets,
                             __global const long *list, __global float *y,
                             ulong yo, ulong dim, ulong n) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  ulong row = i / dim, c = i % dim;
  float acc = 0.0f;
  for (long j = offsets[row]; j < offsets[row + 1]; ++j)
    acc += g[go + (ulong)list[j] * dim + c];
  y[yo + i] = acc;
}

/* Philox4x32-10 and accel's dropout mask (runtime/cpu/Philox.h): word
   `lane` of the block at counter (c0, c1, c2, c3) under key (k0, k1). In
   scalars, not vector types, so that OpenCL C and CUDA both read it. */
uint philox_word(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1,
                 uint lane) {
  for (int round = 0; round < 10; ++round) {
    uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
    uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return lane == 0 ? c0 : lane == 1 ? c1 : lane == 2 ? c2 : c3;
}

/* mode 0: kept elements scaled by 1 / (1 - p); 1: kept unscaled; 2:
   evaluation of an unscaled mask, x (1 - p). */
__kernel void dropout(__global const float *x, ulong xo,
                      __global const long *seed_buffer, ulong so,
                      __global float *y, ulong yo, ulong n, double p,
                      ulong stream, ulong first, int mode) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  if (mode == 2) {
    y[yo + i] = x[xo + i] * (float)(1.0 - p);
    return;
  }
  float scale = mode == 1 ? 1.0f : p < 1.0 ? (float)(1.0 / (1.0 - p)) : 0.0f;
  ulong seed = (ulong)seed_buffer[so], g = first + i, block = g / 4;
  uint lane = philox_word((uint)block, (uint)(block >> 32), (uint)stream,
                          (uint)(stream >> 32), (uint)seed, (uint)(seed >> 32),
                          (uint)(g % 4));
  float u = (float)(lane >> 8) * (1.0f / 16777216.0f);
  y[yo + i] = u >= (float)p ? x[xo + i] * scale : 0.0f;
}

/* Convolutions as the CPU computes them: im2col columns of every sample
   side by side ([k, samples * pixels] per group), one product, then the
   result unstaged. geo: batch, channels, height, width, out channels,
   kernel h/w, out h/w, stride h/w, padding h/w, dilation h/w, groups. */
#define G_N geo[0]
#define G_C geo[1]
#define G_H geo[2]
#define G_W geo[3]
#define G_O geo[4]
#define G_KH geo[5]
#define G_KW geo[6]
#define G_OH geo[7]
#define G_OW geo[8]
#define G_SH geo[9]
#define G_SW geo[10]
#define G_PH geo[11]
#define G_PW geo[12]
#define G_DH geo[13]
#define G_DW geo[14]
#define G_GROUPS geo[15]

__kernel void im2col(__global const float *x, ulong xo, __global float *col,
                     __global const long *geo, long group) {
  long per_group = G_C / G_GROUPS, pixels = G_OH * G_OW;
  long ld = G_N * pixels, k = per_group * G_KH * G_KW;
  long t = get_global_id(0);
  if (t >= k * ld)
    return;
  long q = t % ld, r = t / ld;
  long s = q / pixels, p = q % pixels, oh = p / G_OW, ow = p % G_OW;
  long c = r / (G_KH * G_KW), ij = r % (G_KH * G_KW);
  long i = ij / G_KW, j = ij % G_KW;
  long h = oh * G_SH - G_PH + i * G_DH, w = ow * G_SW - G_PW + j * G_DW;
  col[t] = h >= 0 && h < G_H && w >= 0 && w < G_W
               ? x[xo + ((s * G_C + group * per_group + c) * G_H + h) * G_W + w]
               : 0.0f;
}

/* y[s, group's oc, p] = staged[oc, s * pixels + p] + bias. */
__kernel void conv_unstage(__global const float *staged, __global float *y,
                           ulong yo, __global const float *bias, ulong bo,
                           int has_bias, __global const long *geo,
                           long group) {
  long per_out = G_O / G_GROUPS, pixels = G_OH * G_OW, ld = G_N * pixels;
  long t = get_global_id(0);
  if (t >= per_out * ld)
    return;
  long oc = t / ld, q = t % ld, s = q / pixels, p = q % pixels;
  float b = has_bias ? bias[bo + group * per_out + oc] : 0.0f;
  y[yo + (s * G_O + group * per_out + oc) * pixels + p] = staged[t] + b;
}

/* staged[oc, s * pixels + p] = grad[s, group's oc, p]. */
__kernel void conv_stage(__global const float *g, ulong go,
                         __global float *staged, __global const long *geo,
                         long group) {
  long per_out = G_O / G_GROUPS, pixels = G_OH * G_OW, ld = G_N * pixels;
  long t = get_global_id(0);
  if (t >= per_out * ld)
    return;
  long oc = t / ld, q = t % ld, s = q / pixels, p = q % pixels;
  staged[t] = g[go + (s * G_O + group * per_out + oc) * pixels + p];
}

/* Adds the columns back into the input gradient (zeroed before the first
   group): one work item per sample and channel, in im2col's order. */
__kernel void col2im(__global const float *col, __global float *dx, ulong dxo,
                     __global const long *geo, long group) {
  long per_group = G_C / G_GROUPS, pixels = G_OH * G_OW, ld = G_N * pixels;
  long t = get_global_id(0);
  if (t >= G_N * per_group)
    return;
  long s = t / per_group, c = t % per_group;
  __global float *plane =
      dx + dxo + (s * G_C + group * per_group + c) * G_H * G_W;
  for (long i = 0; i < G_KH; ++i)
    for (long j = 0; j < G_KW; ++j) {
      __global const float *row =
          col + ((c * G_KH + i) * G_KW + j) * ld + s * pixels;
      for (long oh = 0; oh < G_OH; ++oh) {
        long h = oh * G_SH - G_PH + i * G_DH;
        if (h < 0 || h >= G_H)
          continue;
        for (long ow = 0; ow < G_OW; ++ow) {
          long w = ow * G_SW - G_PW + j * G_DW;
          if (w >= 0 && w < G_W)
            plane[h * G_W + w] += row[oh * G_OW + ow];
        }
      }
    }
}

__kernel void fill_zero(__global float *y, ulong yo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] = 0.0f;
}

/* Pooling over the last two dimensions. pg: planes, height, width, out h,
   out w, kernel h/w, stride h/w, padding h/w, dilation h/w,
   count_include_pad. */
#define P_PLANES pg[0]
#define P_H pg[1]
#define P_W pg[2]
#define P_OH pg[3]
#define P_OW pg[4]
#define P_KH pg[5]
#define P_KW pg[6]
#define P_SH pg[7]
#define P_SW pg[8]
#define P_PH pg[9]
#define P_PW pg[10]
#define P_DH pg[11]
#define P_DW pg[12]
#define P_INCLUDE_PAD pg[13]

/* The first maximum of window (oh, ow), or a NaN; -1 if all padding. */
long max_at(__global const float *plane, __global const long *pg, long oh,
            long ow) {
  float best = -INFINITY;
  long at = -1;
  for (long i = 0; i < P_KH; ++i) {
    long h = oh * P_SH - P_PH + i * P_DH;
    if (h < 0 || h >= P_H)
      continue;
    for (long j = 0; j < P_KW; ++j) {
      long w = ow * P_SW - P_PW + j * P_DW;
      if (w < 0 || w >= P_W)
        continue;
      float v = plane[h * P_W + w];
      if (at < 0 || v > best || isnan(v)) {
        best = v;
        at = h * P_W + w;
      }
    }
  }
  return at;
}

__kernel void max_pool(__global const float *x, ulong xo, __global float *y,
                       ulong yo, __global const long *pg) {
  long t = get_global_id(0);
  if (t >= P_PLANES * P_OH * P_OW)
    return;
  long p = t / (P_OH * P_OW), q = t % (P_OH * P_OW);
  __global const float *plane = x + xo + p * P_H * P_W;
  long at = max_at(plane, pg, q / P_OW, q % P_OW);
  y[yo + t] = at < 0 ? -INFINITY : plane[at];
}

__kernel void max_pool_grad(__global const float *g, ulong go,
                            __global const float *x, ulong xo,
                            __global float *dx, ulong dxo,
                            __global const long *pg) {
  long p = get_global_id(0);
  if (p >= P_PLANES)
    return;
  __global const float *plane = x + xo + p * P_H * P_W;
  __global float *d = dx + dxo + p * P_H * P_W;
  for (long i = 0; i < P_H * P_W; ++i)
    d[i] = 0.0f;
  for (long oh = 0; oh < P_OH; ++oh)
    for (long ow = 0; ow < P_OW; ++ow) {
      long at = max_at(plane, pg, oh, ow);
      if (at >= 0)
        d[at] += g[go + (p * P_OH + oh) * P_OW + ow];
    }
}

/* An averaging window [h0, h1) x [w0, w1) and its divisor: avg_pool2d's as
   ATen cuts it (adaptive 0), or adaptive_avg_pool2d's bin (adaptive 1). */
void avg_window(__global const long *pg, int adaptive, long oh, long ow,
                long *h0, long *h1, long *w0, long *w1, float *divisor) {
  if (adaptive) {
    *h0 = (oh * P_H) / P_OH;
    *h1 = ((oh + 1) * P_H + P_OH - 1) / P_OH;
    *w0 = (ow * P_W) / P_OW;
    *w1 = ((ow + 1) * P_W + P_OW - 1) / P_OW;
    *divisor = (float)((*h1 - *h0) * (*w1 - *w0));
    return;
  }
  long hs = oh * P_SH - P_PH, ws = ow * P_SW - P_PW;
  long he = min(hs + P_KH, P_H + P_PH), we = min(ws + P_KW, P_W + P_PW);
  long padded = (he - hs) * (we - ws);
  *h0 = max(hs, 0L);
  *w0 = max(ws, 0L);
  *h1 = min(he, P_H);
  *w1 = min(we, P_W);
  *divisor = (float)(P_INCLUDE_PAD ? padded : (*h1 - *h0) * (*w1 - *w0));
}

__kernel void avg_pool(__global const float *x, ulong xo, __global float *y,
                       ulong yo, __global const long *pg, int adaptive) {
  long t = get_global_id(0);
  if (t >= P_PLANES * P_OH * P_OW)
    return;
  long p = t / (P_OH * P_OW), q = t % (P_OH * P_OW);
  __global const float *plane = x + xo + p * P_H * P_W;
  long h0, h1, w0, w1;
  float divisor;
  avg_window(pg, adaptive, q / P_OW, q % P_OW, &h0, &h1, &w0, &w1, &divisor);
  float sum = 0;
  for (long h = h0; h < h1; ++h)
    for (long w = w0; w < w1; ++w)
      sum += plane[h * P_W + w];
  y[yo + t] = sum / divisor;
}

__kernel void avg_pool_grad(__global const float *g, ulong go,
                            __global float *dx, ulong dxo,
                            __global const long *pg, int adaptive) {
  long p = get_global_id(0);
  if (p >= P_PLANES)
    return;
  __global float *d = dx + dxo + p * P_H * P_W;
  for (long i = 0; i < P_H * P_W; ++i)
    d[i] = 0.0f;
  for (long oh = 0; oh < P_OH; ++oh)
    for (long ow = 0; ow < P_OW; ++ow) {
      long h0, h1, w0, w1;
      float divisor;
      avg_window(pg, adaptive, oh, ow, &h0, &h1, &w0, &w1, &divisor);
      float share = g[go + (p * P_OH + oh) * P_OW + ow] / divisor;
      for (long h = h0; h < h1; ++h)
        for (long w = w0; w < w1; ++w)
          d[h * P_W + w] += share;
    }
}

/* Batch norm over [N, C, inner], one work item per channel, in double as
   the CPU. */
void channel_moments(__global const float *x, long batch, long channels,
                     long inner, long c, double *mean, double *var) {
  double s = 0;
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < inner; ++i)
      s += x[(n * channels + c) * inner + i];
  double count = (double)(batch * inner);
  *mean = s / count;
  double ss = 0;
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < inner; ++i) {
      double d = x[(n * channels + c) * inner + i] - *mean;
      ss += d * d;
    }
  *var = ss / count;
}

__kernel void batch_norm(__global const float *x0, ulong xo,
                         __global const float *w, ulong wo,
                         __global const float *b, ulong bo,
                         __global const float *rm, ulong rmo,
                         __global const float *rv, ulong rvo,
                         __global float *y0, ulong yo,
                         __global float *nm, ulong nmo,
                         __global float *nv, ulong nvo, long batch,
                         long channels, long inner, double eps,
                         double momentum, int training) {
  long c = get_global_id(0);
  if (c >= channels)
    return;
  __global const float *x = x0 + xo;
  __global float *y = y0 + yo;
  double mean = rm[rmo + c], var = rv[rvo + c];
  if (training) {
    channel_moments(x, batch, channels, inner, c, &mean, &var);
    double count = (double)(batch * inner);
    double unbiased = count > 1 ? var * count / (count - 1) : var;
    nm[nmo + c] = (float)((1 - momentum) * rm[rmo + c] + momentum * mean);
    nv[nvo + c] = (float)((1 - momentum) * rv[rvo + c] + momentum * unbiased);
  } else {
    nm[nmo + c] = rm[rmo + c];
    nv[nvo + c] = rv[rvo + c];
  }
  float m = (float)mean;
  float scale = (float)(1.0 / sqrt(var + eps)) * w[wo + c];
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < inner; ++i) {
      long at = (n * channels + c) * inner + i;
      y[at] = (x[at] - m) * scale + b[bo + c];
    }
}

__kernel void batch_norm_grad(__global const float *g0, ulong go,
                              __global const float *x0, ulong xo,
                              __global const float *w, ulong wo,
                              __global const float *rm, ulong rmo,
                              __global const float *rv, ulong rvo,
                              __global float *dx0, ulong dxo,
                              __global float *dw, ulong dwo,
                              __global float *db, ulong dbo, long batch,
                              long channels, long inner, double eps,
                              int training) {
  long c = get_global_id(0);
  if (c >= channels)
    return;
  __global const float *g = g0 + go, *x = x0 + xo;
  __global float *dx = dx0 + dxo;
  double mean = rm[rmo + c], var = rv[rvo + c];
  if (training)
    channel_moments(x, batch, channels, inner, c, &mean, &var);
  double rstd = 1.0 / sqrt(var + eps);
  double sum_g = 0, sum_g_xhat = 0;
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < inner; ++i) {
      long at = (n * channels + c) * inner + i;
      sum_g += g[at];
      sum_g_xhat += g[at] * ((x[at] - mean) * rstd);
    }
  db[dbo + c] = (float)sum_g;
  dw[dwo + c] = (float)sum_g_xhat;
  double count = (double)(batch * inner);
  double k = w[wo + c] * rstd;
  for (long n = 0; n < batch; ++n)
    for (long i = 0; i < inner; ++i) {
      long at = (n * channels + c) * inner + i;
      if (!training) {
        dx[at] = (float)(g[at] * k);
        continue;
      }
      double xhat = (x[at] - mean) * rstd;
      dx[at] = (float)(k * (g[at] - sum_g / count - xhat * sum_g_xhat / count));
    }
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

/* Rows of `inner` elements moved between strided layouts: element
   (o, t, b) of y, o < n / (taken * inner), t < taken, b < inner, at
   o * y_outer + t * inner + b, takes x's at o * x_outer + t * x_row + b.
   A slice (x_row: the step's rows) and a concatenation's part (y_outer:
   the whole's rows) both; in bytes, or in 4-byte words where everything
   is a multiple of 4 bytes. */
#define STRIDED_ROWS(NAME, T)                                                \
  __kernel void NAME(__global const T *x, ulong xo, __global T *y, ulong yo, \
                     ulong n, ulong inner, ulong taken, ulong x_outer,       \
                     ulong x_row, ulong y_outer) {                           \
    ulong j = get_global_id(0);                                              \
    if (j >= n)                                                              \
      return;                                                                \
    ulong b = j % inner, t = (j / inner) % taken, o = j / (inner * taken);   \
    y[yo + o * y_outer + t * inner + b] = x[xo + o * x_outer + t * x_row + b]; \
  }
STRIDED_ROWS(strided_rows_u8, uchar)
STRIDED_ROWS(strided_rows_u32, uint)

/* The gradient of a slice: y [outer, size, inner] is zero but for rows
   start, start + step, ... (`taken` of them), which are g's rows. */
__kernel void slice_grad(__global const float *g, ulong go, __global float *y,
                         ulong yo, ulong n, ulong size, ulong inner,
                         ulong start, ulong step, ulong taken) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  ulong b = i % inner, r = (i / inner) % size, o = i / (inner * size);
  ulong t = (r - start) / step;
  bool kept = r >= start && (r - start) % step == 0 && t < taken;
  y[yo + i] = kept ? g[go + (o * taken + t) * inner + b] : 0.0f;
}

/* min(max(x, lo), hi) with NaN passed through (hardtanh), and its
   gradient: g where lo < x < hi, else 0 (a NaN input gets 0), as the CPU. */
__kernel void clamp_values(__global const float *x, ulong xo,
                           __global float *y, ulong yo, ulong n, float lo,
                           float hi) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  float v = x[xo + i];
  y[yo + i] = v < lo ? lo : (v > hi ? hi : v);
}
__kernel void clamp_grad(__global const float *g, ulong go,
                         __global const float *x, ulong xo, __global float *y,
                         ulong yo, ulong n, float lo, float hi) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  float v = x[xo + i];
  y[yo + i] = (v > lo && v < hi) ? g[go + i] : 0.0f;
}

/* mse_loss: squared differences (reduction none), or one work item adding
   them (each rounded to f32) in double in element order, as the CPU does;
   reduction 1 is the mean, 2 the sum. */
__kernel void mse_loss(__global const float *x, ulong xo,
                       __global const float *target, ulong to,
                       __global float *y, ulong yo, ulong n, int reduction) {
  ulong i = get_global_id(0);
  if (reduction == 0) {
    if (i < n) {
      float d = x[xo + i] - target[to + i];
      y[yo + i] = d * d;
    }
    return;
  }
  if (i != 0)
    return;
  double total = 0;
  for (ulong k = 0; k < n; ++k) {
    float d = x[xo + k] - target[to + k];
    total += (double)(d * d);
  }
  y[yo] = (float)(reduction == 1 ? total / (double)n : total);
}

/* bf16 and fp16 values are stored as ushort and converted as the CPU
   driver converts them (runtime/cpu/HalfFloat.h): round to nearest even,
   NaN kept quiet, fp16 overflow to infinity and subnormals kept; back to
   float exactly. Kernels other than these compute on f32 copies (the
   loader widens operands and rounds results around them). Type codes:
   0 f32, 1 bf16, 2 f16 (FP8's below). */
ushort f32_to_bf16(float f) {
  uint u = as_uint(f);
  if ((u & 0x7fffffffu) > 0x7f800000u)
    return (ushort)((u >> 16) | 0x0040u);
  u += 0x7fffu + ((u >> 16) & 1u);
  return (ushort)(u >> 16);
}
float bf16_to_f32(ushort h) { return as_float((uint)h << 16); }
ushort f32_to_f16(float f) {
  uint u = as_uint(f);
  ushort sign = (ushort)((u >> 16) & 0x8000u);
  uint mag = u & 0x7fffffffu;
  if (mag > 0x7f800000u)
    return sign | 0x7e00u;
  if (mag >= 0x477ff000u)
    return sign | 0x7c00u;
  if (mag < 0x38800000u) {
    /* onto the 2^-24 grid of fp16's subnormals: the float adder rounds */
    float shifted = as_float(mag) + 0.5f;
    return sign | (ushort)(as_uint(shifted) - as_uint(0.5f));
  }
  uint rounded = mag + 0xfffu + ((mag >> 13) & 1u);
  return sign | (ushort)((rounded - 0x38000000u) >> 13);
}
float f16_to_f32(ushort h) {
  uint sign = (uint)(h & 0x8000u) << 16;
  uint e = (h >> 10) & 0x1fu, m = h & 0x3ffu;
  if (e == 0)
    return as_float(sign) +
           (sign ? -1.0f : 1.0f) * (float)m * 5.9604644775390625e-8f;
  if (e == 0x1fu)
    return as_float(sign | 0x7f800000u | (m << 13));
  return as_float(sign | ((e + 112u) << 23) | (m << 13));
}
float round_bf16(float x) { return bf16_to_f32(f32_to_bf16(x)); }
float round_f16(float x) { return f16_to_f32(f32_to_f16(x)); }

/* FP8 as the CPU driver converts it (runtime/cpu/Float8.h). Type codes:
   3 E4M3FN (saturates every overflow, infinities included, to +-448), 4
   E5M2 (overflows to infinity), 5 E8M0FNU (MX's power-of-two scales; 0xff
   is NaN). Round to nearest even, NaN stays NaN; back to float exactly. */
#define QNAN as_float(0x7fc00000u)

/* The 7 magnitude bits of |x| (bits `mag`, not NaN, below the format's
   overflow) in a format of `man_bits` mantissa bits and exponent bias
   `bias`. */
uchar fp8_magnitude(uint mag, int man_bits, int bias) {
  if (mag < ((uint)(128 - bias) << 23)) {
    /* Subnormal: onto the grid of steps 2^(1 - bias - man_bits), rounded
       by the float adder (ulp(magic) is one step), then counted. */
    float step = as_float((uint)(128 - bias - man_bits) << 23);
    float steps_per_one = as_float((uint)(126 + bias + man_bits) << 23);
    float magic = step * 8388608.0f;
    float rounded = (as_float(mag) + magic) - magic;
    return (uchar)(rounded * steps_per_one);
  }
  int drop = 23 - man_bits;
  uint rounded = mag + ((1u << (drop - 1)) - 1u) + ((mag >> drop) & 1u);
  return (uchar)((rounded >> drop) - ((uint)(127 - bias) << man_bits));
}
uchar f32_to_e4m3(float f) {
  uint u = as_uint(f), mag = u & 0x7fffffffu;
  uchar sign = (uchar)((u >> 24) & 0x80u);
  if (mag > 0x7f800000u)
    return sign | 0x7f;
  if (mag >= 0x43e00000u) /* 448 */
    return sign | 0x7e;
  return sign | fp8_magnitude(mag, 3, 7);
}
uchar f32_to_e5m2(float f) {
  uint u = as_uint(f), mag = u & 0x7fffffffu;
  uchar sign = (uchar)((u >> 24) & 0x80u);
  if (mag > 0x7f800000u)
    return sign | 0x7e;
  if (mag >= 0x47700000u) /* 61440, the tie above 57344: infinity */
    return sign | 0x7c;
  return sign | fp8_magnitude(mag, 2, 15);
}
uchar f32_to_e8m0(float f) {
  uint mag = as_uint(f) & 0x7fffffffu;
  if (mag > 0x7f800000u || mag >= (255u << 23))
    return 0xff;
  if (mag < 0x00800000u)
    return 0;
  return (uchar)(mag >> 23);
}
float e4m3_to_f32(uchar c) {
  uint sign = (uint)(c & 0x80u) << 24, e = (c >> 3) & 0xfu, m = c & 0x7u;
  if (e == 0xfu && m == 0x7u)
    return as_float(sign | 0x7fc00000u);
  if (e == 0) /* m * 2^-9 */
    return as_float(sign | as_uint((float)m * 0.001953125f));
  return as_float(sign | ((e + 120u) << 23) | (m << 20));
}
/* E5M2 is the upper byte of a binary16. */
float e5m2_to_f32(uchar c) { return f16_to_f32((ushort)((uint)c << 8)); }
float e8m0_to_f32(uchar c) {
  if (c == 0xff)
    return QNAN;
  if (c == 0) /* 2^-127 */
    return as_float(0x00400000u);
  return as_float((uint)c << 23);
}

/* Element i of a float buffer of type `type` at byte offset `o`. */
float load_as_f32(__global const uchar *p, ulong o, ulong i, int type) {
  if (type == 1)
    return bf16_to_f32(((__global const ushort *)(p + o))[i]);
  if (type == 2)
    return f16_to_f32(((__global const ushort *)(p + o))[i]);
  if (type == 3)
    return e4m3_to_f32(p[o + i]);
  if (type == 4)
    return e5m2_to_f32(p[o + i]);
  if (type == 5)
    return e8m0_to_f32(p[o + i]);
  return ((__global const float *)(p + o))[i];
}

/* y = x converted between float types (offsets in bytes). */
__kernel void convert(__global const uchar *x, ulong xo, int from,
                      __global uchar *y, ulong yo, int to, ulong n) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  float v = load_as_f32(x, xo, i, from);
  if (to == 1)
    ((__global ushort *)(y + yo))[i] = f32_to_bf16(v);
  else if (to == 2)
    ((__global ushort *)(y + yo))[i] = f32_to_f16(v);
  else if (to == 3)
    y[yo + i] = f32_to_e4m3(v);
  else if (to == 4)
    y[yo + i] = f32_to_e5m2(v);
  else if (to == 5)
    y[yo + i] = f32_to_e8m0(v);
  else
    ((__global float *)(y + yo))[i] = v;
}

/* Clears *flag (set to 1 before) when an element is infinite or NaN. */
__kernel void clear_if_nonfinite(__global const uchar *x, ulong xo, int type,
                                 __global uchar *flag, ulong fo, ulong n) {
  ulong i = get_global_id(0);
  if (i < n && !isfinite(load_as_f32(x, xo, i, type)))
    flag[fo] = 0;
}

__kernel void set_flag(__global uchar *flag, ulong fo) { flag[fo] = 1; }

/* A sum over leading dimensions (a bias gradient): result o adds
   x[r * n + o] for r = 0 .. reduced, in double, in index order as the
   general kernel below does, without its per-element index arithmetic. */
__kernel void sum_leading(__global const float *x, ulong xo,
                          __global float *y, ulong yo, ulong n,
                          ulong reduced, float scale) {
  ulong o = get_global_id(0);
  if (o >= n)
    return;
  double s = 0;
  ulong r = 0;
  /* Eight loads in flight per work item (few work items, long sums); the
     additions stay in index order. */
  for (; r + 8 <= reduced; r += 8) {
    __global const float *p = x + xo + r * n + o;
    float v0 = p[0], v1 = p[n], v2 = p[2 * n], v3 = p[3 * n];
    float v4 = p[4 * n], v5 = p[5 * n], v6 = p[6 * n], v7 = p[7 * n];
    s += v0;
    s += v1;
    s += v2;
    s += v3;
    s += v4;
    s += v5;
    s += v6;
    s += v7;
  }
  for (; r < reduced; ++r)
    s += x[xo + r * n + o];
  y[yo + o] = (float)s * scale;
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

/* Row kernels for wide rows, a work group of ROW_GROUP work items per row
   (DeviceLoader launches them so): work item t takes columns t,
   t + ROW_GROUP, ...; partial sums (double) and maxima combine in a fixed
   tree, so results do not depend on timing, though the order is not the
   one-work-item kernels' sequential one. */
#define ROW_GROUP 128

double group_sum(SHARED_PTR double *scratch, double v) {
  uint t = get_local_id(0);
  scratch[t] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint step = ROW_GROUP / 2; step > 0; step /= 2) {
    if (t < step)
      scratch[t] += scratch[t + step];
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  double total = scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE); /* scratch is reused */
  return total;
}

/* max(a, b), NaN if either is NaN (torch's max and amax). */
float nan_max(float a, float b) {
  return (a != a || b != b) ? QNAN : (a < b ? b : a);
}

/* The row's maximum; a NaN anywhere gives NaN. */
float group_max(SHARED_PTR double *scratch, float v) {
  uint t = get_local_id(0);
  scratch[t] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint step = ROW_GROUP / 2; step > 0; step /= 2) {
    if (t < step) {
      double a = scratch[t], b = scratch[t + step];
      scratch[t] = (a != a || b != b) ? a + b : (a < b ? b : a);
    }
    barrier(CLK_LOCAL_MEM_FENCE);
  }
  float m = (float)scratch[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return m;
}

float row_max_group(SHARED_PTR double *scratch, __global const float *row,
                    ulong cols) {
  uint t = get_local_id(0);
  float m = -INFINITY;
  for (ulong c = t; c < cols; c += ROW_GROUP)
    m = nan_max(m, row[c]);
  return group_max(scratch, m);
}

__kernel void softmax_group(__global const float *x, ulong xo,
                            __global float *y, ulong yo, ulong rows,
                            ulong cols, int log_form) {
  SHARED double scratch[ROW_GROUP];
  ulong r = get_group_id(0);
  uint t = get_local_id(0);
  __global const float *row = x + xo + r * cols;
  __global float *o = y + yo + r * cols;
  float m = row_max_group(scratch, row, cols);
  double s = 0;
  for (ulong c = t; c < cols; c += ROW_GROUP) {
    float v = exp(row[c] - m);
    if (!log_form)
      o[c] = v;
    s += v;
  }
  double total = group_sum(scratch, s);
  float shift = m + (float)log(total), inverse = (float)(1.0 / total);
  for (ulong c = t; c < cols; c += ROW_GROUP)
    o[c] = log_form ? row[c] - shift : o[c] * inverse;
}

__kernel void softmax_grad_group(__global const float *g, ulong go,
                                 __global const float *y, ulong yo,
                                 __global float *out, ulong oo, ulong rows,
                                 ulong cols, int log_form) {
  SHARED double scratch[ROW_GROUP];
  ulong r = get_group_id(0);
  uint t = get_local_id(0);
  __global const float *gr = g + go + r * cols, *yr = y + yo + r * cols;
  __global float *o = out + oo + r * cols;
  double s = 0;
  for (ulong c = t; c < cols; c += ROW_GROUP)
    s += log_form ? (double)gr[c] : (double)gr[c] * yr[c];
  float total = (float)group_sum(scratch, s);
  for (ulong c = t; c < cols; c += ROW_GROUP)
    o[c] = log_form ? gr[c] - exp(yr[c]) * total : yr[c] * (gr[c] - total);
}

/* row_stats with a work group per row. */
void row_stats_group(SHARED_PTR double *scratch, __global const float *row,
                     long classes, float *max, float *lse) {
  uint t = get_local_id(0);
  float m = row_max_group(scratch, row, (ulong)classes);
  double s = 0;
  for (long c = t; c < classes; c += ROW_GROUP)
    s += exp((double)(row[c] - m));
  *max = m;
  *lse = (float)log(group_sum(scratch, s));
}

/* Every work item of a group reaches every barrier: rows whose target is
   ignored are reduced too, and their results discarded. */
__kernel void cross_entropy_rows_group(__global const float *logits,
                                       ulong lo, __global const long *target,
                                       ulong to, __global double *per,
                                       ulong n, long classes, long ignore,
                                       float smoothing) {
  SHARED double scratch[ROW_GROUP];
  ulong i = get_group_id(0);
  uint t = get_local_id(0);
  long label = target[to + i];
  __global const float *row = logits + lo + i * classes;
  float m, lse;
  row_stats_group(scratch, row, classes, &m, &lse);
  double smooth = 0;
  for (long c = t; c < classes; c += ROW_GROUP)
    smooth += m + lse - row[c];
  smooth = group_sum(scratch, smooth) / classes;
  if (t == 0)
    per[i] = label == ignore
                 ? 0.0
                 : (1.0 - smoothing) * (double)(m + lse - row[label]) +
                       (smoothing > 0 ? smoothing * smooth : 0.0);
}

__kernel void cross_entropy_grad_group(
    __global const float *grad, ulong go, __global const float *logits,
    ulong lo, __global const long *target, ulong to,
    __global const long *counted, __global float *y, ulong yo, ulong n,
    long classes, long ignore, float smoothing, int reduction) {
  SHARED double scratch[ROW_GROUP];
  ulong i = get_group_id(0);
  uint t = get_local_id(0);
  __global float *o = y + yo + i * classes;
  long label = target[to + i];
  float g = reduction == 0   ? grad[go + i]
            : reduction == 1 ? grad[go] / (float)counted[0]
                             : grad[go];
  __global const float *row = logits + lo + i * classes;
  float m, lse;
  row_stats_group(scratch, row, classes, &m, &lse);
  float uniform = smoothing / (float)classes;
  for (long c = t; c < classes; c += ROW_GROUP) {
    float p = exp(row[c] - m - lse);
    float target_p = uniform + (c == label ? 1.0f - smoothing : 0.0f);
    o[c] = label == ignore ? 0.0f : g * (p - target_p);
  }
}

/* Layer norm over wide rows, a work group per row, so neighbouring work
   items read neighbouring columns. The mean, variance and gradient sums
   are the one-work-item kernels' double sums added in the fixed tree
   instead of in column order: they agree far below f32's precision, so
   their f32 roundings agree but for sums within 2^-29 of a tie. */
void row_moments_group(SHARED_PTR double *scratch, __global const float *row,
                       ulong cols, double eps, float *mean_out,
                       float *rstd_out) {
  uint t = get_local_id(0);
  double s = 0;
  for (ulong c = t; c < cols; c += ROW_GROUP)
    s += row[c];
  double mean = group_sum(scratch, s) / (double)cols, ss = 0;
  for (ulong c = t; c < cols; c += ROW_GROUP) {
    double d = row[c] - mean;
    ss += d * d;
  }
  double var = group_sum(scratch, ss) / (double)cols;
  *mean_out = (float)mean;
  *rstd_out = (float)(1.0 / sqrt(var + eps));
}

__kernel void layer_norm_group(__global const float *x, ulong xo,
                               __global const float *w, ulong wo,
                               __global const float *b, ulong bo,
                               __global float *y, ulong yo, ulong rows,
                               ulong cols, double eps, int has_w, int has_b) {
  SHARED double scratch[ROW_GROUP];
  ulong r = get_group_id(0);
  uint t = get_local_id(0);
  __global const float *row = x + xo + r * cols;
  __global float *o = y + yo + r * cols;
  float mean, rstd;
  row_moments_group(scratch, row, cols, eps, &mean, &rstd);
  layer_norm_write(row, o, w, wo, b, bo, cols, mean, rstd, has_w, has_b, t,
                   ROW_GROUP);
}

__kernel void layer_norm_grad_rows_group(__global const float *g, ulong go,
                                         __global const float *x, ulong xo,
                                         __global const float *w, ulong wo,
                                         __global float *dx, ulong dxo,
                                         __global float *stats, ulong rows,
                                         ulong cols, double eps, int has_w) {
  SHARED double scratch[ROW_GROUP];
  ulong r = get_group_id(0);
  uint t = get_local_id(0);
  __global const float *gr = g + go + r * cols, *row = x + xo + r * cols;
  __global float *d = dx + dxo + r * cols;
  float mean, rstd;
  row_moments_group(scratch, row, cols, eps, &mean, &rstd);
  if (t == 0) {
    stats[2 * r] = mean;
    stats[2 * r + 1] = rstd;
  }
  double sum_gw = 0, sum_gw_xhat = 0;
  layer_norm_grad_sums(gr, row, w, wo, cols, mean, rstd, has_w, t, ROW_GROUP,
                       &sum_gw, &sum_gw_xhat);
  float mean_gw = (float)(group_sum(scratch, sum_gw) / cols);
  float mean_gw_xhat = (float)(group_sum(scratch, sum_gw_xhat) / cols);
  layer_norm_grad_write(gr, row, w, wo, d, cols, mean, rstd, mean_gw,
                        mean_gw_xhat, has_w, t, ROW_GROUP);
}

/* Long sums over leading dimensions (a bias gradient over every token) in
   two passes: work item (block, o) adds rows [block * chunk, (block + 1) *
   chunk) of column o in double, neighbouring work items reading
   neighbouring columns; then each column's blocks are added in order. The
   double sums agree with sum_leading's sequential one far below f32's
   precision. */
__kernel void sum_leading_partials(__global const float *x, ulong xo,
                                   __global double *part, ulong n,
                                   ulong reduced, ulong chunk, ulong blocks) {
  ulong i = get_global_id(0);
  if (i >= blocks * n)
    return;
  ulong blk = i / n, o = i % n;
  ulong end = (blk + 1) * chunk < reduced ? (blk + 1) * chunk : reduced;
  double s = 0;
  for (ulong r = blk * chunk; r < end; ++r)
    s += x[xo + r * n + o];
  part[i] = s;
}

__kernel void sum_leading_finish(__global const double *part,
                                 __global float *y, ulong yo, ulong n,
                                 ulong blocks, float scale) {
  ulong o = get_global_id(0);
  if (o >= n)
    return;
  double s = 0;
  for (ulong blk = 0; blk < blocks; ++blk)
    s += part[blk * n + o];
  y[yo + o] = (float)s * scale;
}

/* FP8 training (runtime/cpu/Float8Kernels.h): amaxes, the scales made
   from them, the values FP8 rounding then stores, dequantisation, delayed
   scaling's update. Maxima are exact whatever the order, so the work
   groups' trees give the CPU's bits; the scale maths is the CPU's step
   for step (f64 where it computes in f64). */

/* 2^e for e in [-149, 128] (128: infinity). */
float pow2_f(int e) {
  return e >= -126 ? as_float((uint)(e + 127) << 23)
                   : as_float(1u << (e + 149));
}

/* floor(log2(a)) for a finite a > 0, subnormals included. */
int ilogb_f(float a) {
  uint bits = as_uint(a);
  int e = (int)((bits >> 23) & 0xffu) - 127;
  if (e > -127)
    return e;
  uint m = bits & 0x7fffffu;
  for (e = -127; m < 0x400000u; m <<= 1)
    --e;
  return e;
}

/* exp2(floor(log2f(s))) with f32 log2's rounding (roundScaleToPow2: a
   mantissa field close enough to 2^23 rounds up to the next power). */
float round_scale_pow2(float s) {
  if (!(s > 0.0f) || isinf(s))
    return s;
  uint bits = as_uint(s), mantissa = bits & 0x7fffffu;
  int e = (int)((bits >> 23) & 0xffu) - 127;
  if (e == -127)
    return pow2_f(ilogb_f(s));
  int magnitude = e >= 0 ? e : -e - 1;
  uint threshold = magnitude >= 64   ? 0x7fffd4u
                   : magnitude >= 32 ? 0x7fffeau
                   : magnitude >= 16 ? 0x7ffff5u
                   : magnitude >= 8  ? 0x7ffffbu
                   : magnitude >= 4  ? 0x7ffffeu
                   : magnitude >= 2  ? 0x7fffffu
                                     : 0x800000u;
  if (mantissa >= threshold)
    ++e;
  return pow2_f(e);
}

/* fp8Scale: f32(fp8_max * (1 / max(f64(amax), 1e-12))), NaN kept. */
float fp8_scale(float amax, float fp8_max, int pow2) {
  double a = amax;
  if (a < 1e-12)
    a = 1e-12;
  float s = (float)((double)fp8_max * (1.0 / a));
  if (s != s) /* the CPU's NaN: CUDA's arithmetic gives another */
    return QNAN;
  return pow2 ? round_scale_pow2(s) : s;
}

/* mxScale: 2^(floor(log2(amax)) - emax) clamped to E8M0's range. */
float mx_scale(float amax, int emax) {
  if (amax != amax)
    return QNAN;
  int e = amax == 0.0f ? -127 : isinf(amax) ? 128 : ilogb_f(amax);
  e -= emax;
  return pow2_f(e < -127 ? -127 : e > 127 ? 127 : e);
}

/* y[g] = max |x| over elements [g * chunk, (g + 1) * chunk) below n. One
   work group per chunk. */
__kernel void abs_max_group(__global const float *x, ulong xo, ulong n,
                            ulong chunk, __global float *y, ulong yo) {
  SHARED double scratch[ROW_GROUP];
  ulong g = get_group_id(0);
  uint t = get_local_id(0);
  ulong end = (g + 1) * chunk < n ? (g + 1) * chunk : n;
  float m = 0.0f;
  for (ulong i = g * chunk + t; i < end; i += ROW_GROUP)
    m = nan_max(m, fabs(x[xo + i]));
  m = group_max(scratch, m);
  if (t == 0)
    y[yo + g] = m != m ? QNAN : m;
}

/* scale[i] = the FP8 scale of amax[i] (tensorwise or rowwise). */
__kernel void fp8_scales(__global const float *amax, ulong ao,
                         __global float *scale, ulong so, ulong n,
                         float fp8_max, int pow2) {
  ulong i = get_global_id(0);
  if (i < n)
    scale[so + i] = fp8_scale(amax[ao + i], fp8_max, pow2);
}

/* scale[b] = the MX scale of block b, elements [32 b, 32 b + 32). */
__kernel void mx_scales(__global const float *x, ulong xo,
                        __global float *scale, ulong so, ulong blocks,
                        int emax) {
  ulong b = get_global_id(0);
  if (b >= blocks)
    return;
  float m = 0.0f;
  for (ulong i = 0; i < 32; ++i)
    m = nan_max(m, fabs(x[xo + b * 32 + i]));
  scale[so + b] = mx_scale(m, emax);
}

/* y = clamp(x * s, -fp8_max, fp8_max), or x / s for MX scales (`divide`),
   s = scale[i / group]; NaN stays NaN. FP8 rounding then stores y. */
__kernel void fp8_scale_values(__global const float *x, ulong xo,
                               __global const float *scale, ulong so,
                               __global float *y, ulong yo, ulong n,
                               ulong group, int divide, float fp8_max) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  float s = scale[so + i / group];
  float v = divide ? x[xo + i] / s : x[xo + i] * s;
  y[yo + i] = v > fp8_max ? fp8_max : v < -fp8_max ? -fp8_max : v;
}

/* y = q / s, or q * s for MX scales (`multiply`), s = scale[i / group]. */
__kernel void fp8_dequantize(__global const float *q, ulong qo,
                             __global const float *scale, ulong so,
                             __global float *y, ulong yo, ulong n, ulong group,
                             int multiply) {
  ulong i = get_global_id(0);
  if (i >= n)
    return;
  float s = scale[so + i / group];
  y[yo + i] = multiply ? q[qo + i] * s : q[qo + i] / s;
}

/* y *= (1 / a) * (1 / b): delayed scaling's inverse scales on a product. */
__kernel void scale_by_inverses(__global float *y, ulong yo, ulong n,
                                __global const float *a, ulong ao,
                                __global const float *b, ulong bo) {
  ulong i = get_global_id(0);
  if (i < n)
    y[yo + i] *= (1.0f / a[ao]) * (1.0f / b[bo]);
}

/* fp8ScaleUpdate, one work item: the scale from the history's amax (or
   this step's), the history rolled one slot towards the front with this
   step's amax last and slot 0 cleared. `nh` may be `h`. */
__kernel void fp8_scale_update(__global const float *h, ulong ho,
                               ulong length, __global const float *scale,
                               ulong so, __global const float *amax, ulong ao,
                               int most_recent, int margin, float fp8_max,
                               __global float *nh, ulong nho,
                               __global float *ns, ulong nso) {
  if (get_global_id(0) != 0)
    return;
  float now = amax[ao], a = now, next = scale[so];
  if (!most_recent) {
    float older = 0.0f;
    for (ulong i = 1; i < length; ++i)
      older = nan_max(older, fabs(h[ho + i]));
    a = nan_max(nan_max(0.0f, fabs(now)), older);
  }
  if (isfinite(a) && a > 0.0f) {
    next = ldexp(fp8_max / a, -margin);
    if (isinf(next))
      next = as_float(0x7f7fffffu);
  }
  for (ulong i = 0; i + 1 < length; ++i)
    nh[nho + i] = h[ho + i + 1];
  if (length > 1)
    nh[nho + length - 1] = now;
  nh[nho] = 0.0f;
  ns[nso] = next;
}
)CL";
}

const std::set<Kernel> &supportedKernels() {
  // clang-format off
  static const std::set<Kernel> kernels = {
      Kernel::Linear, Kernel::BatchedMatmul, Kernel::Copy, Kernel::Slice,
      Kernel::SliceGrad, Kernel::Concat, Kernel::Clamp, Kernel::ClampGrad,
      Kernel::MseLoss,
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
      Kernel::BatchNorm, Kernel::BatchNormGrad, Kernel::BroadcastTo,
      // Mixed precision.
      Kernel::Cast, Kernel::AllFinite,
      // FP8 training.
      Kernel::Fp8Quantize, Kernel::ScaledMatmul, Kernel::Fp8QuantizeScaled,
      Kernel::Fp8ScaleUpdate,
      // Data parallelism, through the host's collectives.
      Kernel::AllReduce, Kernel::ReduceScatter, Kernel::AllGather,
      Kernel::LocalShard, Kernel::Wait};
  // clang-format on
  return kernels;
}

/// What this driver cannot run in `p`, or "".
std::string unsupported(const Program &p, const std::string &driver,
                        int ranks) {
  std::set<std::string> kinds;
  for (const Instruction &in : p.code)
    if (!supportedKernels().count(in.kernel))
      kinds.insert(kernelName(in.kernel));
  std::string list;
  for (const std::string &k : kinds)
    list += (list.empty() ? "" : ", ") + k;
  if (!list.empty())
    return "the " + driver + " driver does not run these kernels yet: " + list;
  if (p.ranks != ranks)
    return "the program is split over " + std::to_string(p.ranks) +
           " ranks, and this job has " + std::to_string(ranks);
  return "";
}

std::string supportedKernelList() {
  std::string list;
  for (Kernel k : supportedKernels())
    list += (list.empty() ? "" : ",") + std::string(kernelName(k));
  return list;
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
    if (step.round != ElementType::F32 && step.round != ElementType::BF16 &&
        step.round != ElementType::F16)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "fused steps rounded to an 8-bit float are not implemented");
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
    // As the unfused op's result would be stored and read back.
    if (step.round != ElementType::F32)
      s << "  v" << reg << " = "
        << (step.round == ElementType::BF16 ? "round_bf16" : "round_f16")
        << "(v" << reg << ");\n";
  }
  for (size_t r = 0; r < body.results.size(); ++r)
    s << "  r" << r << "[ro" << r << " + i] = v" << body.results[r] << ";\n";
  s << "}\n";
  return s.str();
}

llvm::Expected<std::string> programSource(const Program &p) {
  std::string source = kernelLibrary();
  for (size_t pc = 0; pc < p.code.size(); ++pc) {
    const Instruction &in = p.code[pc];
    if (in.kernel != Kernel::Fused)
      continue;
    std::vector<bool> scalar;
    for (int b : in.operands)
      scalar.push_back(p.buffers[b].numElements() == 1);
    llvm::Expected<std::string> k = fusedKernel(
        p.fusedBodies[in.ints[0]], scalar, "fused_" + std::to_string(pc));
    if (!k)
      return k.takeError();
    source += *k;
  }
  return source;
}

} // namespace accel::rt::devicekernels
