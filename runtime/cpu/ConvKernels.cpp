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
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

namespace accel::rt::cpu {

namespace {
/// Floats the columns and the staged output gradient take per sample.
int64_t floatsPerSample(const Conv2dGeometry &g) {
  int64_t pixels = g.outH * g.outW;
  return ((g.channels / g.groups) * g.kernelH * g.kernelW + g.outChannels / g.groups) *
         pixels;
}

/// Samples per product. One sample's product is [out channels x pixels],
/// and late layers of small images have few pixels (ResNet at 32x32: 4, then
/// 1), which leaves OpenBLAS nothing to block over: the columns of several
/// samples side by side make one product of [out x samples * pixels]. The
/// workspace stays near 4M floats (16 MiB) where one sample allows.
int64_t chunkSamples(const Conv2dGeometry &g) {
  constexpr int64_t kWorkspaceFloats = int64_t(1) << 22;
  if (g.samplesPerProduct > 0)
    return std::min(g.samplesPerProduct, std::max<int64_t>(g.batch, 1));
  return std::clamp<int64_t>(kWorkspaceFloats / std::max<int64_t>(floatsPerSample(g), 1), 1,
                             std::max<int64_t>(g.batch, 1));
}

/// The outputs o in [0, out) whose input index o * stride + offset lies
/// in [0, size): [lo, hi), so that the loops over them need no checks.
std::pair<int64_t, int64_t> inside(int64_t size, int64_t out, int64_t stride,
                                   int64_t offset) {
  int64_t lo = offset >= 0 ? 0 : (-offset + stride - 1) / stride;
  int64_t hi = size - offset <= 0 ? 0 : std::min(out, (size - offset + stride - 1) / stride);
  return {std::min(lo, hi), hi};
}

/// The columns of one sample and group: row (c, i, j) of the kernel window,
/// column (oh, ow) of the output, rows `ld` floats apart (several samples'
/// columns sit side by side); zeros where the window is in the padding.
// Rows of late layers are a few floats (ResNet at 32x32: 8, 4, 2, 1): the
// loops below stay loops, not a memset/memcpy call per row segment.
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void
im2col(const Conv2dGeometry &g, const float *image, float *col, int64_t ld) {
  int64_t perGroup = g.channels / g.groups;
  for (int64_t i = 0; i < g.kernelH; ++i) {
    // The output rows whose input row is inside the image: [ohLo, ohHi).
    auto [ohLo, ohHi] = inside(g.height, g.outH, g.strideH, i * g.dilationH - g.padH);
    for (int64_t j = 0; j < g.kernelW; ++j) {
      int64_t wOffset = j * g.dilationW - g.padW;
      auto [lo, hi] = inside(g.width, g.outW, g.strideW, wOffset);
      for (int64_t c = 0; c < perGroup; ++c) {
        float *row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld;
        const float *plane = image + c * g.height * g.width;
        for (int64_t p = 0; p < ohLo * g.outW; ++p)
          row[p] = 0.0f;
        for (int64_t oh = ohLo; oh < ohHi; ++oh) {
          float *to = row + oh * g.outW;
          const float *from =
              plane + (oh * g.strideH - g.padH + i * g.dilationH) * g.width + wOffset;
          for (int64_t ow = 0; ow < lo; ++ow)
            to[ow] = 0.0f;
          if (g.strideW == 1)
            for (int64_t ow = lo; ow < hi; ++ow)
              to[ow] = from[ow];
          else
            for (int64_t ow = lo; ow < hi; ++ow)
              to[ow] = from[ow * g.strideW];
          for (int64_t ow = hi; ow < g.outW; ++ow)
            to[ow] = 0.0f;
        }
        for (int64_t p = ohHi * g.outW; p < g.outH * g.outW; ++p)
          row[p] = 0.0f;
      }
    }
  }
}

/// Adds columns (laid out as im2col's) back into an image: its adjoint.
void col2im(const Conv2dGeometry &g, const float *col, int64_t ld, float *image) {
  // Per channel, the taps in im2col's order: each image element receives
  // its terms in the same order as before the loops were rearranged.
  int64_t perGroup = g.channels / g.groups;
  for (int64_t c = 0; c < perGroup; ++c) {
    float *plane = image + c * g.height * g.width;
    for (int64_t i = 0; i < g.kernelH; ++i) {
      auto [ohLo, ohHi] = inside(g.height, g.outH, g.strideH, i * g.dilationH - g.padH);
      for (int64_t j = 0; j < g.kernelW; ++j) {
        const float *row = col + ((c * g.kernelH + i) * g.kernelW + j) * ld;
        int64_t wOffset = j * g.dilationW - g.padW;
        auto [lo, hi] = inside(g.width, g.outW, g.strideW, wOffset);
        for (int64_t oh = ohLo; oh < ohHi; ++oh) {
          const float *from = row + oh * g.outW;
          float *to =
              plane + (oh * g.strideH - g.padH + i * g.dilationH) * g.width + wOffset;
          for (int64_t ow = lo; ow < hi; ++ow)
            to[ow * g.strideW] += from[ow];
        }
      }
    }
  }
}

/// One chunk of samples [first, first + count) and one group of a
/// convolution: where its pieces are in the tensors and the workspace.
struct Chunk {
  const Conv2dGeometry &g;
  int64_t first, count, group;
  int64_t inPerGroup() const { return g.channels / g.groups; }
  int64_t outPerGroup() const { return g.outChannels / g.groups; }
  int64_t k() const { return inPerGroup() * g.kernelH * g.kernelW; }
  int64_t pixels() const { return g.outH * g.outW; }
  int64_t ld() const { return count * pixels(); } // columns per row
  /// Sample s's image of this group in an [N, C, H, W] tensor.
  int64_t image(int64_t s) const {
    return ((first + s) * g.channels + group * inPerGroup()) * g.height * g.width;
  }
  /// Sample s's output channel oc of this group in an [N, O, oh, ow] tensor.
  int64_t output(int64_t s, int64_t oc) const {
    return ((first + s) * g.outChannels + group * outPerGroup() + oc) * pixels();
  }
  /// The same in the staged [O/groups, count * pixels] matrix.
  int64_t staged(int64_t s, int64_t oc) const { return oc * ld() + s * pixels(); }
};

/// The columns of a chunk's samples, side by side: [k, count * pixels].
void chunkColumns(ThreadPool &pool, const Chunk &c, const float *input, float *columns) {
  pool.parallelFor(c.count, 1, [&](int64_t begin, int64_t end) {
    for (int64_t s = begin; s < end; ++s)
      im2col(c.g, input + c.image(s), columns + s * c.pixels(), c.ld());
  });
}

/// The output gradient of a chunk as one matrix: [O/groups, count * pixels].
/// A loop, not a memcpy call per channel: late layers have 1 to 16 pixels.
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void
stageGrad(ThreadPool &pool, const Chunk &c, const float *grad, float *staged) {
  pool.parallelFor(c.count, 1, [&](int64_t begin, int64_t end) {
    int64_t pixels = c.pixels();
    for (int64_t s = begin; s < end; ++s)
      for (int64_t oc = 0; oc < c.outPerGroup(); ++oc) {
        const float *from = grad + c.output(s, oc);
        float *to = staged + c.staged(s, oc);
        for (int64_t p = 0; p < pixels; ++p)
          to[p] = from[p];
      }
  });
}

/// Calls f(chunk) for every chunk of samples and every group.
template <typename F> void forEachChunk(const Conv2dGeometry &g, F &&f) {
  int64_t per = chunkSamples(g);
  for (int64_t first = 0; first < g.batch; first += per)
    for (int64_t group = 0; group < g.groups; ++group)
      f(Chunk{g, first, std::min(per, g.batch - first), group});
}

/// The kernel taps that see the image at some output position: rows [i0,
/// i1), columns [j0, j1) (contiguous: a tap's first and last input rows grow
/// with it). The others multiply padding only, for every output: a 3x3
/// convolution of 1x1 images (ResNet-18's last stage at 32x32) uses its
/// centre alone, and im2col would spend 8/9 of the product on zeros.
struct LiveTaps {
  int64_t i0, i1, j0, j1;
  bool cropsSomething(const Conv2dGeometry &g) const {
    bool empty = i0 >= i1 || j0 >= j1; // all padding: the plain path copes
    return !empty && (i1 - i0 < g.kernelH || j1 - j0 < g.kernelW);
  }
};

LiveTaps liveTaps(const Conv2dGeometry &g) {
  auto range = [](int64_t kernel, int64_t size, int64_t out, int64_t stride, int64_t pad,
                  int64_t dilation) {
    int64_t first = kernel, last = 0;
    for (int64_t t = 0; t < kernel; ++t) {
      auto [lo, hi] = inside(size, out, stride, t * dilation - pad);
      if (lo < hi) {
        first = std::min(first, t);
        last = t + 1;
      }
    }
    return std::pair<int64_t, int64_t>{first, std::max(first, last)};
  };
  auto [i0, i1] = range(g.kernelH, g.height, g.outH, g.strideH, g.padH, g.dilationH);
  auto [j0, j1] = range(g.kernelW, g.width, g.outW, g.strideW, g.padW, g.dilationW);
  return {i0, i1, j0, j1};
}

/// The same convolution over the live taps alone: the padding moves so that
/// every remaining tap reads the same input as before.
Conv2dGeometry cropped(const Conv2dGeometry &g, const LiveTaps &t) {
  Conv2dGeometry c = g;
  c.kernelH = t.i1 - t.i0;
  c.kernelW = t.j1 - t.j0;
  c.padH = g.padH - t.i0 * g.dilationH;
  c.padW = g.padW - t.j0 * g.dilationW;
  return c;
}

int64_t croppedWeightFloats(const Conv2dGeometry &c) {
  return c.outChannels * (c.channels / c.groups) * c.kernelH * c.kernelW;
}

/// Calls f(k) for every [O, C/groups] kernel k, kernels spread over the
/// workers.
template <typename F>
void forEachKernel(ThreadPool &pool, const Conv2dGeometry &g, F f) {
  pool.parallelFor(g.outChannels * (g.channels / g.groups), 4096,
                   [&](int64_t begin, int64_t end) {
                     for (int64_t k = begin; k < end; ++k)
                       f(k);
                   });
}

// The loops below are the whole cost of a convolution of 1x1 images by a 3x3
// kernel (one live tap; its product is small): one load or nine stores a
// kernel, with nothing more per kernel (no call, no loop set-up over one
// tap).

/// The cropped kernels from the whole ones.
void gatherLiveTaps(ThreadPool &pool, const Conv2dGeometry &g, const LiveTaps &t,
                    const float *whole, float *crop) {
  int64_t kh = t.i1 - t.i0, kw = t.j1 - t.j0, taps = g.kernelH * g.kernelW;
  const float *live =
      whole + t.i0 * g.kernelW + t.j0; // each kernel's first live tap
  if (kh * kw == 1)
    return forEachKernel(pool, g, [&](int64_t k) { crop[k] = live[k * taps]; });
  forEachKernel(pool, g, [&](int64_t k) {
    for (int64_t i = 0; i < kh; ++i)
      for (int64_t j = 0; j < kw; ++j)
        crop[(k * kh + i) * kw + j] = live[k * taps + i * g.kernelW + j];
  });
}

/// The whole kernels' gradient from the cropped ones': zero at the dead
/// taps, which see only padding. Each kernel's floats written once, in
/// order.
__attribute__((optimize("no-tree-loop-distribute-patterns"))) void
scatterLiveTaps(ThreadPool &pool, const Conv2dGeometry &g, const LiveTaps &t,
                const float *crop, float *whole) {
  int64_t kh = t.i1 - t.i0, kw = t.j1 - t.j0, taps = g.kernelH * g.kernelW;
  int64_t live = t.i0 * g.kernelW + t.j0; // the one live tap, below
  if (kh * kw == 1)
    return forEachKernel(pool, g, [&](int64_t k) {
      float *to = whole + k * taps;
      for (int64_t i = 0; i < taps; ++i)
        to[i] = 0.0f;
      to[live] = crop[k];
    });
  forEachKernel(pool, g, [&](int64_t k) {
    float *to = whole + k * taps;
    for (int64_t i = 0; i < g.kernelH; ++i)
      for (int64_t j = 0; j < g.kernelW; ++j) {
        bool seesImage = i >= t.i0 && i < t.i1 && j >= t.j0 && j < t.j1;
        to[i * g.kernelW + j] =
            seesImage ? crop[(k * kh + i - t.i0) * kw + j - t.j0] : 0.0f;
      }
  });
}
} // namespace

bool Conv2dGeometry::hasDeadTaps() const {
  return liveTaps(*this).cropsSomething(*this);
}

int64_t Conv2dGeometry::columnFloats() const {
  LiveTaps taps = liveTaps(*this);
  if (taps.cropsSomething(*this)) {
    Conv2dGeometry c = cropped(*this, taps);
    return croppedWeightFloats(c) + c.columnFloats();
  }
  return chunkSamples(*this) * floatsPerSample(*this);
}

// Each kernel below runs a convolution whose dead taps are cropped as the
// same kernel on the cropped geometry (which has none), the cropped weights
// at the start of the workspace.

void conv2d(ThreadPool &pool, const Conv2dGeometry &g, const float *input, const float *weight,
            const float *bias, float *out, float *columns) {
  if (LiveTaps taps = liveTaps(g); taps.cropsSomething(g)) {
    Conv2dGeometry c = cropped(g, taps);
    gatherLiveTaps(pool, g, taps, weight, columns);
    return conv2d(pool, c, input, columns, bias, out, columns + croppedWeightFloats(c));
  }
  forEachChunk(g, [&](const Chunk &c) {
    float *staged = columns + c.k() * c.ld();
    chunkColumns(pool, c, input, columns);
    // staged (O/groups x count*pixels) = W_g (O/groups x k) columns (k x count*pixels)
    gemm(pool, false, false, c.outPerGroup(), c.ld(), c.k(), 1.0f,
         weight + c.group * c.outPerGroup() * c.k(), columns, 0.0f, staged);
    pool.parallelFor(c.count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s)
        for (int64_t oc = 0; oc < c.outPerGroup(); ++oc) {
          const float *from = staged + c.staged(s, oc);
          float *to = out + c.output(s, oc);
          float b = bias ? bias[c.group * c.outPerGroup() + oc] : 0.0f;
          for (int64_t p = 0; p < c.pixels(); ++p)
            to[p] = from[p] + b;
        }
    });
  });
}

void conv2dGradInput(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                     const float *weight, float *gradInput, float *columns) {
  if (LiveTaps taps = liveTaps(g); taps.cropsSomething(g)) {
    Conv2dGeometry c = cropped(g, taps);
    gatherLiveTaps(pool, g, taps, weight, columns);
    return conv2dGradInput(pool, c, grad, columns, gradInput,
                           columns + croppedWeightFloats(c));
  }
  std::fill(gradInput, gradInput + g.batch * g.channels * g.height * g.width, 0.0f);
  forEachChunk(g, [&](const Chunk &c) {
    float *staged = columns + c.k() * c.ld();
    stageGrad(pool, c, grad, staged);
    // columns (k x count*pixels) = W_g^T (k x O/groups) dY (O/groups x count*pixels)
    gemm(pool, true, false, c.k(), c.ld(), c.outPerGroup(), 1.0f,
         weight + c.group * c.outPerGroup() * c.k(), staged, 0.0f, columns);
    pool.parallelFor(c.count, 1, [&](int64_t begin, int64_t end) {
      for (int64_t s = begin; s < end; ++s)
        col2im(g, columns + s * c.pixels(), c.ld(), gradInput + c.image(s));
    });
  });
}

void conv2dGradWeight(ThreadPool &pool, const Conv2dGeometry &g, const float *grad,
                      const float *input, float *gradWeight, float *columns) {
  if (LiveTaps taps = liveTaps(g); taps.cropsSomething(g)) {
    Conv2dGeometry c = cropped(g, taps);
    conv2dGradWeight(pool, c, grad, input, columns, columns + croppedWeightFloats(c));
    scatterLiveTaps(pool, g, taps, columns, gradWeight);
    return;
  }
  forEachChunk(g, [&](const Chunk &c) {
    float *staged = columns + c.k() * c.ld();
    chunkColumns(pool, c, input, columns);
    stageGrad(pool, c, grad, staged);
    // dW_g (O/groups x k) += dY (O/groups x count*pixels) columns^T
    gemm(pool, false, true, c.outPerGroup(), c.k(), c.ld(), 1.0f, staged, columns,
         c.first == 0 ? 0.0f : 1.0f, gradWeight + c.group * c.outPerGroup() * c.k());
  });
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

namespace {
/// Candidate v (at index `index`) of a max-pool window takes over from the
/// best so far (`best`, at `at`; -1: none yet) when it is the first
/// candidate, larger, or a NaN: the first maximum wins, and the last NaN
/// (ATen's scan). Selects, not branches (which candidate wins is data), on
/// 32-bit positions, as wide as the floats, so that loops of offers
/// vectorise.
inline void offer(float v, int32_t index, float &best, int32_t &at) {
  bool take = (at < 0) | (v > best) | (v != v);
  best = take ? v : best;
  at = take ? index : at;
}

/// Planes whose row maxima fit these (floats and indices on the stack).
constexpr int64_t kSeparableMax = 4096;

/// Every window's maximum of one plane and where it is (-inf and -1 for a
/// window all padding), in two passes: the maxima of each input row's
/// window columns, then of each window's rows. The window's first maximum
/// in row-major order is the first row's first one among the rows holding
/// it, and its last NaN the last row's last one, so this is maxAt's
/// answer; but the passes run many windows side by side where maxAt waits
/// on one comparison after another. Needs g.height * g.outW <=
/// kSeparableMax.
void planeMaxima(const Pool2dGeometry &g, const float *plane, float *best,
                 int32_t *at) {
  float rowBest[kSeparableMax];
  int32_t rowAt[kSeparableMax];
  std::fill(rowBest, rowBest + g.height * g.outW, -std::numeric_limits<float>::infinity());
  std::fill(rowAt, rowAt + g.height * g.outW, -1);
  // Taps outermost: their range of windows is a division, once per tap.
  for (int64_t j = 0; j < g.kernelW; ++j) {
    int64_t offset = j * g.dilationW - g.padW;
    auto [lo, hi] = inside(g.width, g.outW, g.strideW, offset);
    for (int64_t h = 0; h < g.height; ++h) {
      float *rb = rowBest + h * g.outW;
      int32_t *ra = rowAt + h * g.outW;
      const float *row = plane + h * g.width + offset;
      int32_t first = static_cast<int32_t>(h * g.width + offset);
      int32_t stride = static_cast<int32_t>(g.strideW);
      for (int32_t ow = static_cast<int32_t>(lo); ow < hi; ++ow)
        offer(row[ow * stride], first + ow * stride, rb[ow], ra[ow]);
    }
  }
  for (int64_t oh = 0; oh < g.outH; ++oh) {
    float *ob = best + oh * g.outW;
    int32_t *oa = at + oh * g.outW;
    std::fill(ob, ob + g.outW, -std::numeric_limits<float>::infinity());
    std::fill(oa, oa + g.outW, -1);
    for (int64_t i = 0; i < g.kernelH; ++i) {
      int64_t h = oh * g.strideH - g.padH + i * g.dilationH;
      if (h < 0 || h >= g.height)
        continue;
      const float *rb = rowBest + h * g.outW;
      const int32_t *ra = rowAt + h * g.outW;
      // A window whose columns are all padding has -inf at -1 in every row:
      // offering that leaves the window at -inf and -1.
      for (int64_t ow = 0; ow < g.outW; ++ow)
        offer(rb[ow], ra[ow], ob[ow], oa[ow]);
    }
  }
}

bool separable(const Pool2dGeometry &g) {
  return g.height * g.outW <= kSeparableMax &&
         g.outH * g.outW <= kSeparableMax &&
         g.height * g.width <= std::numeric_limits<int32_t>::max();
}
} // namespace

void maxPool2d(ThreadPool &pool, const Pool2dGeometry &g, const float *input,
               float *out) {
  pool.parallelFor(g.planes, 1, [&](int64_t begin, int64_t end) {
    for (int64_t p = begin; p < end; ++p) {
      const float *plane = input + p * g.height * g.width;
      if (separable(g)) {
        int32_t at[kSeparableMax];
        planeMaxima(g, plane, out + p * g.outH * g.outW, at);
        continue;
      }
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
      const float *gp = grad + p * g.outH * g.outW;
      std::fill(dplane, dplane + g.height * g.width, 0.0f);
      if (separable(g)) {
        float best[kSeparableMax];
        int32_t at[kSeparableMax];
        planeMaxima(g, plane, best, at);
        for (int64_t o = 0; o < g.outH * g.outW; ++o)
          if (at[o] >= 0)
            dplane[at[o]] += gp[o];
        continue;
      }
      for (int64_t oh = 0; oh < g.outH; ++oh)
        for (int64_t ow = 0; ow < g.outW; ++ow)
          if (int64_t at = maxAt(g, plane, oh, ow); at >= 0)
            dplane[at] += gp[oh * g.outW + ow];
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
/// Channels a sweep of batchNormSums holds sums for: its accumulators stay
/// on the stack whatever the channel count.
constexpr int64_t kNormBlock = 64;

/// For each channel c of [c0, c0 + count) (count <= kNormBlock) of an
/// [N, C, inner] tensor, S sums Σ f(k, c)[s] over its elements k, in
/// double, four partial sums each (element i of a plane goes to partial
/// sum i % 4: one running sum waits on every addition's latency), added
/// pairwise at the end. The order of a channel's terms is fixed by the
/// shape alone, so no bit depends on the thread count. The sweep runs
/// sample by sample over the block's channels, through contiguous memory,
/// whatever the plane's size (late layers' planes are 1 to 4 floats; one
/// channel at a time would read them a plane apart).
template <int S, typename F>
void batchNormSums(const BatchNormGeometry &g, int64_t c0, int64_t count, F f,
                   double (*out)[S]) {
  double lanes[kNormBlock][S][4] = {};
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < count; ++c) {
      int64_t plane = (n * g.channels + c0 + c) * g.inner, i = 0;
      double(*acc)[4] = lanes[c];
      for (; i + 4 <= g.inner; i += 4)
        for (int j = 0; j < 4; ++j) {
          std::array<double, S> v = f(plane + i + j, c);
          for (int s = 0; s < S; ++s)
            acc[s][j] += v[s];
        }
      for (; i < g.inner; ++i) {
        std::array<double, S> v = f(plane + i, c);
        for (int s = 0; s < S; ++s)
          acc[s][i % 4] += v[s];
      }
    }
  for (int64_t c = 0; c < count; ++c)
    for (int s = 0; s < S; ++s)
      out[c][s] =
          (lanes[c][s][0] + lanes[c][s][1]) + (lanes[c][s][2] + lanes[c][s][3]);
}

/// Calls f(c0, count) for blocks of at most kNormBlock channels, spread over
/// the workers.
template <typename F>
void forEachChannelBlock(ThreadPool &pool, int64_t channels, F f) {
  // At least 8 blocks where there are 8 channels, so that up to 8 threads
  // share the work.
  int64_t per = std::max<int64_t>(1, std::min(kNormBlock, (channels + 7) / 8));
  int64_t blocks = (channels + per - 1) / per;
  pool.parallelFor(blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b)
      f(b * per, std::min(per, channels - b * per));
  });
}
} // namespace

void batchNorm(ThreadPool &pool, const BatchNormGeometry &g, const float *x,
               const float *weight, const float *bias, const float *runningMean,
               const float *runningVar, float *out, float *newMean,
               float *newVar) {
  double count = static_cast<double>(g.batch * g.inner);
  forEachChannelBlock(pool, g.channels, [&](int64_t c0, int64_t n) {
    double mean[kNormBlock], var[kNormBlock];
    float m[kNormBlock], scale[kNormBlock];
    if (g.training) {
      // Two passes: the mean, then the squared deviations from it.
      double sum[kNormBlock][1], squares[kNormBlock][1];
      batchNormSums<1>(
          g, c0, n,
          [&](int64_t k, int64_t) {
            return std::array<double, 1>{double(x[k])};
          },
          sum);
      for (int64_t c = 0; c < n; ++c)
        mean[c] = sum[c][0] / count;
      batchNormSums<1>(
          g, c0, n,
          [&](int64_t k, int64_t c) {
            double d = x[k] - mean[c];
            return std::array<double, 1>{d * d};
          },
          squares);
      for (int64_t c = 0; c < n; ++c) {
        var[c] = squares[c][0] / count;
        double unbiased = count > 1 ? var[c] * count / (count - 1) : var[c];
        newMean[c0 + c] = static_cast<float>(
            (1 - g.momentum) * runningMean[c0 + c] + g.momentum * mean[c]);
        newVar[c0 + c] = static_cast<float>(
            (1 - g.momentum) * runningVar[c0 + c] + g.momentum * unbiased);
      }
    } else {
      for (int64_t c = 0; c < n; ++c) {
        mean[c] = runningMean[c0 + c];
        var[c] = runningVar[c0 + c];
        newMean[c0 + c] = runningMean[c0 + c];
        newVar[c0 + c] = runningVar[c0 + c];
      }
    }
    for (int64_t c = 0; c < n; ++c) {
      m[c] = static_cast<float>(mean[c]);
      scale[c] =
          static_cast<float>(1.0 / std::sqrt(var[c] + g.eps)) * weight[c0 + c];
    }
    for (int64_t s = 0; s < g.batch; ++s)
      for (int64_t c = 0; c < n; ++c) {
        int64_t plane = (s * g.channels + c0 + c) * g.inner;
        const float *p = x + plane;
        float *o = out + plane;
        float mc = m[c], sc = scale[c], b = bias[c0 + c];
        for (int64_t i = 0; i < g.inner; ++i)
          o[i] = (p[i] - mc) * sc + b;
      }
  });
}

void batchNormGrad(ThreadPool &pool, const BatchNormGeometry &g,
                   const float *grad, const float *x, const float *weight,
                   const float *runningMean, const float *runningVar,
                   float *gradInput, float *gradWeight, float *gradBias) {
  double count = static_cast<double>(g.batch * g.inner);
  forEachChannelBlock(pool, g.channels, [&](int64_t c0, int64_t n) {
    double mean[kNormBlock], rstd[kNormBlock], sumG[kNormBlock],
        sumGXhat[kNormBlock];
    // Σ g and the mean (Σ x) in one pass; then Σ (x - mean)² (the
    // variance) and Σ g (x - mean) in another. Σ g x̂ is the latter times
    // 1/σ.
    double first[kNormBlock][2], second[kNormBlock][2];
    batchNormSums<2>(
        g, c0, n,
        [&](int64_t k, int64_t) {
          return std::array<double, 2>{double(grad[k]), double(x[k])};
        },
        first);
    for (int64_t c = 0; c < n; ++c) {
      sumG[c] = first[c][0];
      mean[c] = g.training ? first[c][1] / count : runningMean[c0 + c];
    }
    batchNormSums<2>(
        g, c0, n,
        [&](int64_t k, int64_t c) {
          double d = x[k] - mean[c];
          return std::array<double, 2>{d * d, grad[k] * d};
        },
        second);
    for (int64_t c = 0; c < n; ++c) {
      double var = g.training ? second[c][0] / count : runningVar[c0 + c];
      rstd[c] = 1.0 / std::sqrt(var + g.eps);
      sumGXhat[c] = second[c][1] * rstd[c];
      gradBias[c0 + c] = static_cast<float>(sumG[c]);
      gradWeight[c0 + c] = static_cast<float>(sumGXhat[c]);
    }
    for (int64_t s = 0; s < g.batch; ++s)
      for (int64_t c = 0; c < n; ++c) {
        int64_t plane = (s * g.channels + c0 + c) * g.inner;
        const float *gp = grad + plane;
        const float *p = x + plane;
        float *d = gradInput + plane;
        double k = weight[c0 + c] * rstd[c];
        if (!g.training) {
          for (int64_t i = 0; i < g.inner; ++i)
            d[i] = static_cast<float>(gp[i] * k);
          continue;
        }
        double meanG = sumG[c] / count, meanGXhat = sumGXhat[c] / count;
        double mc = mean[c], rc = rstd[c];
        for (int64_t i = 0; i < g.inner; ++i) {
          double xhat = (p[i] - mc) * rc;
          d[i] = static_cast<float>(k * (gp[i] - meanG - xhat * meanGXhat));
        }
      }
  });
}

} // namespace accel::rt::cpu
