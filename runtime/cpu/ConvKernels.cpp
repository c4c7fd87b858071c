//===- ConvKernels.cpp - convolution, pooling and batch norm --------------===//
//
// Convolutions lower to OpenBLAS products over im2col columns (per sample
// and group); pooling and batch normalisation are loops over planes. Shapes
// follow ATen: [N, C, H, W] activations, [O, C/groups, kh, kw] weights.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Broadcast.h"
#include "runtime/cpu/Kernels.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace accel::rt::cpu {

int64_t Conv2dGeometry::columnFloats() const {
  return (channels / groups) * kernelH * kernelW * outH * outW;
}

namespace {
/// The columns of one sample and group: row (c, i, j) of the kernel window,
/// column (oh, ow) of the output; zeros where the window is in the padding.
void im2col(const Conv2dGeometry &g, const float *image, float *col) {
  int64_t perGroup = g.channels / g.groups;
  for (int64_t c = 0; c < perGroup; ++c)
    for (int64_t i = 0; i < g.kernelH; ++i)
      for (int64_t j = 0; j < g.kernelW; ++j) {
        float *row = col + ((c * g.kernelH + i) * g.kernelW + j) * g.outH * g.outW;
        const float *plane = image + c * g.height * g.width;
        for (int64_t oh = 0; oh < g.outH; ++oh) {
          int64_t h = oh * g.strideH - g.padH + i * g.dilationH;
          for (int64_t ow = 0; ow < g.outW; ++ow) {
            int64_t w = ow * g.strideW - g.padW + j * g.dilationW;
            row[oh * g.outW + ow] = h >= 0 && h < g.height && w >= 0 && w < g.width
                                        ? plane[h * g.width + w]
                                        : 0.0f;
          }
        }
      }
}

/// Adds columns back into an image (the adjoint of im2col).
void col2im(const Conv2dGeometry &g, const float *col, float *image) {
  int64_t perGroup = g.channels / g.groups;
  for (int64_t c = 0; c < perGroup; ++c)
    for (int64_t i = 0; i < g.kernelH; ++i)
      for (int64_t j = 0; j < g.kernelW; ++j) {
        const float *row = col + ((c * g.kernelH + i) * g.kernelW + j) * g.outH * g.outW;
        float *plane = image + c * g.height * g.width;
        for (int64_t oh = 0; oh < g.outH; ++oh) {
          int64_t h = oh * g.strideH - g.padH + i * g.dilationH;
          if (h < 0 || h >= g.height)
            continue;
          for (int64_t ow = 0; ow < g.outW; ++ow) {
            int64_t w = ow * g.strideW - g.padW + j * g.dilationW;
            if (w >= 0 && w < g.width)
              plane[h * g.width + w] += row[oh * g.outW + ow];
          }
        }
      }
}
} // namespace

void conv2d(ThreadPool &pool, const Conv2dGeometry &g, const float *input, const float *weight,
            const float *bias, float *out, float *columns) {
  int64_t perGroupIn = g.channels / g.groups, perGroupOut = g.outChannels / g.groups;
  int64_t k = perGroupIn * g.kernelH * g.kernelW, pixels = g.outH * g.outW;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const float *image = input + (n * g.channels + grp * perGroupIn) * g.height * g.width;
      im2col(g, image, columns);
      float *o = out + (n * g.outChannels + grp * perGroupOut) * pixels;
      gemm(pool, false, false, perGroupOut, pixels, k, 1.0f, weight + grp * perGroupOut * k,
           columns, 0.0f, o);
      if (bias)
        for (int64_t oc = 0; oc < perGroupOut; ++oc) {
          float b = bias[grp * perGroupOut + oc];
          for (int64_t p = 0; p < pixels; ++p)
            o[oc * pixels + p] += b;
        }
    }
}

void conv2dGradInput(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                     const float *weight, float *gradInput, float *columns) {
  int64_t perGroupIn = g.channels / g.groups, perGroupOut = g.outChannels / g.groups;
  int64_t k = perGroupIn * g.kernelH * g.kernelW, pixels = g.outH * g.outW;
  std::fill(gradInput, gradInput + g.batch * g.channels * g.height * g.width, 0.0f);
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      const float *dy = grad + (n * g.outChannels + grp * perGroupOut) * pixels;
      // columns (k x pixels) = W_g^T (k x Og) dY_g (Og x pixels)
      gemm(pool, true, false, k, pixels, perGroupOut, 1.0f, weight + grp * perGroupOut * k,
           dy, 0.0f, columns);
      col2im(g, columns,
             gradInput + (n * g.channels + grp * perGroupIn) * g.height * g.width);
    }
}

void conv2dGradWeight(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                      const float *input, float *gradWeight, float *columns) {
  int64_t perGroupIn = g.channels / g.groups, perGroupOut = g.outChannels / g.groups;
  int64_t k = perGroupIn * g.kernelH * g.kernelW, pixels = g.outH * g.outW;
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t grp = 0; grp < g.groups; ++grp) {
      im2col(g, input + (n * g.channels + grp * perGroupIn) * g.height * g.width,
             columns);
      const float *dy = grad + (n * g.outChannels + grp * perGroupOut) * pixels;
      // dW_g (Og x k) += dY_g (Og x pixels) columns^T (pixels x k)
      gemm(pool, false, true, perGroupOut, k, pixels, 1.0f, dy, columns, n == 0 ? 0.0f : 1.0f,
           gradWeight + grp * perGroupOut * k);
    }
}

namespace {
/// The input rows/columns window `o` of a pooling covers, before clipping.
struct Window {
  int64_t start, end;
};
Window window(int64_t o, int64_t stride, int64_t pad, int64_t kernel) {
  int64_t start = o * stride - pad;
  return {start, start + kernel};
}

/// Where the maximum of max_pool2d's window (oh, ow) is in its plane: the
/// first maximum, or a NaN (as ATen); -1 if the window is all padding.
int64_t maxAt(const Pool2dGeometry &g, const float *plane, int64_t oh, int64_t ow) {
  float best = -std::numeric_limits<float>::infinity();
  int64_t at = -1;
  for (int64_t i = 0; i < g.kernelH; ++i) {
    int64_t h = oh * g.strideH - g.padH + i * g.dilationH;
    if (h < 0 || h >= g.height)
      continue;
    for (int64_t j = 0; j < g.kernelW; ++j) {
      int64_t w = ow * g.strideW - g.padW + j * g.dilationW;
      if (w < 0 || w >= g.width)
        continue;
      float v = plane[h * g.width + w];
      if (at < 0 || v > best || std::isnan(v)) {
        best = v;
        at = h * g.width + w;
      }
    }
  }
  return at;
}

/// An averaging window of the input, [h0, h1) x [w0, w1), and what its sum
/// is divided by.
struct AvgWindow {
  int64_t h0, h1, w0, w1;
  float divisor;
};

/// avg_pool2d's window (oh, ow), as ATen computes it: the padded window is
/// cut at the padded border, then at the input; the divisor counts the
/// padding with count_include_pad.
AvgWindow avgWindow(const Pool2dGeometry &g, int64_t oh, int64_t ow) {
  Window hw = window(oh, g.strideH, g.padH, g.kernelH);
  Window ww = window(ow, g.strideW, g.padW, g.kernelW);
  int64_t h1 = std::min(hw.end, g.height + g.padH), w1 = std::min(ww.end, g.width + g.padW);
  int64_t padded = (h1 - hw.start) * (w1 - ww.start);
  int64_t h0 = std::max<int64_t>(hw.start, 0), w0 = std::max<int64_t>(ww.start, 0);
  h1 = std::min(h1, g.height);
  w1 = std::min(w1, g.width);
  int64_t inside = (h1 - h0) * (w1 - w0);
  return {h0, h1, w0, w1, static_cast<float>(g.countIncludePad ? padded : inside)};
}

/// adaptive_avg_pool2d's bin (oh, ow): [floor(o * in / out),
/// ceil((o + 1) * in / out)) in each dimension.
AvgWindow adaptiveBin(const Pool2dGeometry &g, int64_t oh, int64_t ow) {
  auto start = [](int64_t o, int64_t in, int64_t out) { return (o * in) / out; };
  auto end = [](int64_t o, int64_t in, int64_t out) {
    return ((o + 1) * in + out - 1) / out;
  };
  AvgWindow a{start(oh, g.height, g.outH), end(oh, g.height, g.outH),
              start(ow, g.width, g.outW), end(ow, g.width, g.outW), 0};
  a.divisor = static_cast<float>((a.h1 - a.h0) * (a.w1 - a.w0));
  return a;
}

/// Averages over the windows `windowOf` gives.
template <typename WindowOf>
void averagePool(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
                 float *out, WindowOf windowOf) {
  pool.parallelFor(g.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float *plane = input + p * g.height * g.width;
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          AvgWindow a = windowOf(g, oh, ow);
          float sum = 0;
          for (int64_t h = a.h0; h < a.h1; ++h)
            for (int64_t w = a.w0; w < a.w1; ++w)
              sum += plane[h * g.width + w];
          out[(p * g.outH + oh) * g.outW + ow] = sum / a.divisor;
        }
    }
  });
}

/// Spreads each output's gradient evenly over its window.
template <typename WindowOf>
void averagePoolGrad(ThreadPool &pool, const Pool2dGeometry &g, const float *grad,
                     float *gradInput, WindowOf windowOf) {
  pool.parallelFor(g.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      float *dplane = gradInput + p * g.height * g.width;
      std::fill(dplane, dplane + g.height * g.width, 0.0f);
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          AvgWindow a = windowOf(g, oh, ow);
          float share = grad[(p * g.outH + oh) * g.outW + ow] / a.divisor;
          for (int64_t h = a.h0; h < a.h1; ++h)
            for (int64_t w = a.w0; w < a.w1; ++w)
              dplane[h * g.width + w] += share;
        }
    }
  });
}
} // namespace

void maxPool2d(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
               float *out) {
  pool.parallelFor(g.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float *plane = input + p * g.height * g.width;
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow) {
          int64_t at = maxAt(g, plane, oh, ow);
          out[(p * g.outH + oh) * g.outW + ow] =
              at < 0 ? -std::numeric_limits<float>::infinity() : plane[at];
        }
    }
  });
}

void maxPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g, const float *grad,
                   const float *input, float *gradInput) {
  pool.parallelFor(g.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float *plane = input + p * g.height * g.width;
      float *dplane = gradInput + p * g.height * g.width;
      std::fill(dplane, dplane + g.height * g.width, 0.0f);
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow)
          if (int64_t at = maxAt(g, plane, oh, ow); at >= 0)
            dplane[at] += grad[(p * g.outH + oh) * g.outW + ow];
    }
  });
}

void avgPool2d(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
               float *out) {
  averagePool(pool, g, input, out, avgWindow);
}

void avgPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g, const float *grad,
                   float *gradInput) {
  averagePoolGrad(pool, g, grad, gradInput, avgWindow);
}

void adaptiveAvgPool2d(ThreadPool &pool, const Pool2dGeometry &g,
                       const float *input, float *out) {
  averagePool(pool, g, input, out, adaptiveBin);
}

void adaptiveAvgPool2dGrad(ThreadPool &pool, const Pool2dGeometry &g,
                           const float *grad, float *gradInput) {
  averagePoolGrad(pool, g, grad, gradInput, adaptiveBin);
}

namespace {
/// Per channel of [N, C, inner]: mean and biased variance in double.
void channelMoments(const float *x, int64_t batch, int64_t channels,
                    int64_t inner, int64_t c, double &mean, double &var) {
  double s = 0;
  for (int64_t n = 0; n < batch; ++n) {
    const float *p = x + (n * channels + c) * inner;
    for (int64_t i = 0; i < inner; ++i)
      s += p[i];
  }
  double count = static_cast<double>(batch * inner);
  mean = s / count;
  double ss = 0;
  for (int64_t n = 0; n < batch; ++n) {
    const float *p = x + (n * channels + c) * inner;
    for (int64_t i = 0; i < inner; ++i) {
      double d = p[i] - mean;
      ss += d * d;
    }
  }
  var = ss / count;
}
} // namespace

void batchNorm(ThreadPool &pool, const BatchNormGeometry &g, const float *x,
               const float *weight, const float *bias, const float *runningMean,
               const float *runningVar, float *out, float *newMean,
               float *newVar) {
  pool.parallelFor(g.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double mean = runningMean[c], var = runningVar[c];
      if (g.training) {
        channelMoments(x, g.batch, g.channels, g.inner, c, mean, var);
        double count = static_cast<double>(g.batch * g.inner);
        double unbiased = count > 1 ? var * count / (count - 1) : var;
        newMean[c] = static_cast<float>((1 - g.momentum) * runningMean[c] + g.momentum * mean);
        newVar[c] = static_cast<float>((1 - g.momentum) * runningVar[c] + g.momentum * unbiased);
      } else {
        newMean[c] = runningMean[c];
        newVar[c] = runningVar[c];
      }
      float m = static_cast<float>(mean);
      float scale = static_cast<float>(1.0 / std::sqrt(var + g.eps)) * weight[c];
      for (int64_t n = 0; n < g.batch; ++n) {
        const float *p = x + (n * g.channels + c) * g.inner;
        float *o = out + (n * g.channels + c) * g.inner;
        for (int64_t i = 0; i < g.inner; ++i)
          o[i] = (p[i] - m) * scale + bias[c];
      }
    }
  });
}

void batchNormGrad(ThreadPool &pool, const BatchNormGeometry &g,
                   const float *grad, const float *x, const float *weight,
                   const float *runningMean, const float *runningVar,
                   float *gradInput, float *gradWeight, float *gradBias) {
  pool.parallelFor(g.channels, 1, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) {
      double mean = runningMean[c], var = runningVar[c];
      if (g.training)
        channelMoments(x, g.batch, g.channels, g.inner, c, mean, var);
      double rstd = 1.0 / std::sqrt(var + g.eps);
      double sumG = 0, sumGXhat = 0;
      for (int64_t n = 0; n < g.batch; ++n) {
        const float *gp = grad + (n * g.channels + c) * g.inner;
        const float *p = x + (n * g.channels + c) * g.inner;
        for (int64_t i = 0; i < g.inner; ++i) {
          sumG += gp[i];
          sumGXhat += gp[i] * ((p[i] - mean) * rstd);
        }
      }
      gradBias[c] = static_cast<float>(sumG);
      gradWeight[c] = static_cast<float>(sumGXhat);
      double count = static_cast<double>(g.batch * g.inner);
      double k = weight[c] * rstd;
      for (int64_t n = 0; n < g.batch; ++n) {
        const float *gp = grad + (n * g.channels + c) * g.inner;
        const float *p = x + (n * g.channels + c) * g.inner;
        float *d = gradInput + (n * g.channels + c) * g.inner;
        for (int64_t i = 0; i < g.inner; ++i) {
          if (!g.training) {
            d[i] = static_cast<float>(gp[i] * k);
            continue;
          }
          double xhat = (p[i] - mean) * rstd;
          d[i] = static_cast<float>(k * (gp[i] - sumG / count - xhat * sumGXhat / count));
        }
      }
    }
  });
}

} // namespace accel::rt::cpu
