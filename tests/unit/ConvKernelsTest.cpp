//===- ConvKernelsTest.cpp - convolution, pooling, batch norm vs LibTorch -===//
//
// Each kernel against the ATen function it implements, over the options the
// importer accepts (stride, padding, dilation, groups, ceil_mode,
// count_include_pad, training or not). Tolerance 1e-5 relative to the
// largest magnitude: products and sums run in other orders than ATen's.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Kernels.h"

#include "tests/unit/KernelTestSupport.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <string>

using namespace accel::rt::cpu;
using accel::testing::data;
using accel::testing::relError;

namespace {

struct ConvCase {
  int64_t channels, outChannels, kernel, stride, pad, dilation, groups;
  bool bias;
};

TEST(ConvKernels, Conv2dAndGradients) {
  at::manual_seed(3);
  ThreadPool pool(2);
  for (const ConvCase &c : std::vector<ConvCase>{{3, 8, 3, 1, 1, 1, 1, true},
                                                 {8, 8, 3, 1, 2, 2, 2, false},
                                                 {8, 8, 3, 2, 1, 1, 8, true},
                                                 {4, 6, 1, 2, 0, 1, 1, true},
                                                 {6, 4, 5, 1, 2, 1, 2, false}}) {
    at::Tensor x = at::randn({3, c.channels, 11, 9}).requires_grad_();
    at::Tensor w = at::randn({c.outChannels, c.channels / c.groups, c.kernel, c.kernel})
                       .requires_grad_();
    at::Tensor b = at::randn({c.outChannels});
    at::Tensor y = at::conv2d(x, w, c.bias ? b : at::Tensor(), {c.stride, c.stride},
                              {c.pad, c.pad}, {c.dilation, c.dilation}, c.groups);
    at::Tensor gy = at::randn(y.sizes());
    y.backward(gy);
    at::Tensor xd = x.detach().contiguous(), wd = w.detach().contiguous();
    // The whole batch in one product, and in products of 2 samples (a full
    // chunk and a partial one).
    for (int64_t samples : {0, 2}) {
      Conv2dGeometry g{3, c.channels, 11, 9, c.outChannels, c.kernel, c.kernel,
                       y.size(2), y.size(3), c.stride, c.stride, c.pad, c.pad,
                       c.dilation, c.dilation, c.groups, samples};
      std::vector<float> columns(g.columnFloats());
      at::Tensor out = at::empty(y.sizes());
      conv2d(pool, g, data(xd), data(wd), c.bias ? data(b) : nullptr, data(out),
             columns.data());
      EXPECT_LE(relError(out, y.detach()), 1e-5) << c.groups << " " << c.dilation;

      at::Tensor dx = at::empty(x.sizes()), dw = at::empty(w.sizes());
      conv2dGradInput(pool, g, data(gy), data(wd), data(dx), columns.data());
      conv2dGradWeight(pool, g, data(gy), data(xd), data(dw), columns.data());
      EXPECT_LE(relError(dx, x.grad()), 1e-5) << c.groups << " " << samples;
      EXPECT_LE(relError(dw, w.grad()), 1e-5) << c.groups << " " << samples;
    }
  }
}

// Small images whose padding some kernel taps never leave (3x3 on 1x1: only
// the centre sees the image; on 2x2 with stride 2: a 2x2 corner): the
// kernels crop those taps, and their weight gradient must be zero.
TEST(ConvKernels, TapsThatSeeOnlyPadding) {
  at::manual_seed(5);
  ThreadPool pool(2);
  struct SmallCase {
    int64_t size, kernel, stride, pad, dilation, groups;
  };
  for (const SmallCase &c : std::vector<SmallCase>{{1, 3, 1, 1, 1, 1},
                                                   {2, 3, 2, 1, 1, 1},
                                                   {1, 3, 1, 1, 1, 2},
                                                   {2, 3, 1, 2, 2, 1},
                                                   {3, 5, 2, 2, 1, 1}}) {
    at::Tensor x = at::randn({5, 4, c.size, c.size}).requires_grad_();
    at::Tensor w = at::randn({6, 4 / c.groups, c.kernel, c.kernel}).requires_grad_();
    at::Tensor b = at::randn({6});
    at::Tensor y = at::conv2d(x, w, b, {c.stride, c.stride}, {c.pad, c.pad},
                              {c.dilation, c.dilation}, c.groups);
    at::Tensor gy = at::randn(y.sizes());
    y.backward(gy);
    at::Tensor xd = x.detach().contiguous(), wd = w.detach().contiguous();
    for (int64_t samples : {0, 2}) {
      Conv2dGeometry g{5, 4, c.size, c.size, 6, c.kernel, c.kernel, y.size(2), y.size(3),
                       c.stride, c.stride, c.pad, c.pad, c.dilation, c.dilation, c.groups,
                       samples};
      std::vector<float> columns(g.columnFloats());
      at::Tensor out = at::empty(y.sizes()), dx = at::empty(x.sizes()),
                 dw = at::full(w.sizes(), 7.0f); // stale values must not survive
      conv2d(pool, g, data(xd), data(wd), data(b), data(out), columns.data());
      conv2dGradInput(pool, g, data(gy), data(wd), data(dx), columns.data());
      conv2dGradWeight(pool, g, data(gy), data(xd), data(dw), columns.data());
      EXPECT_LE(relError(out, y.detach()), 1e-5) << c.size << " " << c.stride;
      EXPECT_LE(relError(dx, x.grad()), 1e-5) << c.size << " " << c.stride;
      EXPECT_LE(relError(dw, w.grad()), 1e-5) << c.size << " " << c.stride;
    }
  }
}

struct PoolCase {
  int64_t kernel, stride, pad, dilation;
  bool ceil, includePad;
};

// Max pooling where windows tie (small integers, +0 and -0) and hold NaNs:
// the gradient must reach the element ATen's scan picks (the first maximum,
// the last NaN), and the values must be its values, NaN for NaN.
TEST(ConvKernels, MaxPoolTiesAndNaNs) {
  at::manual_seed(6);
  ThreadPool pool(2);
  for (const PoolCase &c : std::vector<PoolCase>{{3, 2, 1, 1, true, false},
                                                 {2, 2, 0, 1, false, false},
                                                 {3, 1, 1, 2, false, false},
                                                 {3, 2, 1, 1, false, false}}) {
    at::Tensor x = at::randint(-2, 3, {2, 3, 10, 11}).to(at::kFloat);
    auto set = [&](int64_t n, int64_t ch, int64_t h, int64_t w, float v) {
      x.index_put_({n, ch, h, w}, v);
    };
    set(0, 0, 2, 3, std::nanf(""));
    set(0, 0, 2, 4, std::nanf(""));
    set(1, 2, 5, 5, std::nanf(""));
    set(0, 1, 4, 4, -0.0f);
    set(0, 1, 4, 5, 0.0f);
    x.requires_grad_();
    at::Tensor xd = x.detach().contiguous();
    at::Tensor y = at::max_pool2d(x, {c.kernel, c.kernel}, {c.stride, c.stride},
                                  {c.pad, c.pad}, {c.dilation, c.dilation}, c.ceil);
    Pool2dGeometry g{6, 10, 11, y.size(2), y.size(3), c.kernel, c.kernel, c.stride,
                     c.stride, c.pad, c.pad, c.dilation, c.dilation, false};
    at::Tensor out = at::empty(y.sizes());
    maxPool2d(pool, g, data(xd), data(out));
    at::Tensor want = y.detach();
    EXPECT_TRUE(at::equal(at::isnan(out), at::isnan(want)));
    EXPECT_TRUE(at::equal(at::nan_to_num(out, 99.0), at::nan_to_num(want, 99.0)))
        << c.kernel << " " << c.stride;
    at::Tensor gOut = at::randn(y.sizes());
    y.backward(gOut);
    at::Tensor dx = at::empty(x.sizes());
    maxPool2dGrad(pool, g, data(gOut), data(xd), data(dx));
    EXPECT_TRUE(at::equal(dx, x.grad())) << c.kernel << " " << c.stride;
  }
}

TEST(ConvKernels, PoolingAndGradients) {
  at::manual_seed(4);
  ThreadPool pool(2);
  for (const PoolCase &c : std::vector<PoolCase>{{3, 2, 1, 1, true, false},
                                                 {2, 2, 0, 1, false, true},
                                                 {3, 1, 1, 2, false, true},
                                                 {3, 2, 1, 1, false, true},
                                                 {2, 1, 0, 1, true, false}}) {
    at::Tensor x = at::randn({2, 3, 10, 11}).requires_grad_();
    at::Tensor xd = x.detach().contiguous();
    at::Tensor gOut;
    {
      at::Tensor y = at::max_pool2d(x, {c.kernel, c.kernel}, {c.stride, c.stride},
                                    {c.pad, c.pad}, {c.dilation, c.dilation}, c.ceil);
      Pool2dGeometry g{6, 10, 11, y.size(2), y.size(3), c.kernel, c.kernel, c.stride,
                       c.stride, c.pad, c.pad, c.dilation, c.dilation, false};
      at::Tensor out = at::empty(y.sizes());
      maxPool2d(pool, g, data(xd), data(out));
      EXPECT_EQ(relError(out, y.detach()), 0);
      gOut = at::randn(y.sizes());
      y.backward(gOut);
      at::Tensor dx = at::empty(x.sizes());
      maxPool2dGrad(pool, g, data(gOut), data(xd), data(dx));
      EXPECT_LE(relError(dx, x.grad()), 1e-6);
      x.grad().zero_();
    }
    if (c.dilation == 1) {
      at::Tensor y = at::avg_pool2d(x, {c.kernel, c.kernel}, {c.stride, c.stride},
                                    {c.pad, c.pad}, c.ceil, c.includePad);
      Pool2dGeometry g{6, 10, 11, y.size(2), y.size(3), c.kernel, c.kernel, c.stride,
                       c.stride, c.pad, c.pad, 1, 1, c.includePad};
      at::Tensor out = at::empty(y.sizes());
      avgPool2d(pool, g, data(xd), data(out));
      EXPECT_LE(relError(out, y.detach()), 1e-6) << c.ceil << c.includePad;
      at::Tensor gy = at::randn(y.sizes());
      y.backward(gy);
      at::Tensor dx = at::empty(x.sizes());
      avgPool2dGrad(pool, g, data(gy), data(dx));
      EXPECT_LE(relError(dx, x.grad()), 1e-6) << c.ceil << c.includePad;
      x.grad().zero_();
    }
  }
  for (auto [oh, ow] : std::vector<std::pair<int64_t, int64_t>>{{2, 2}, {3, 4}, {10, 11}, {1, 1}}) {
    at::Tensor x = at::randn({2, 3, 10, 11}).requires_grad_();
    at::Tensor xd = x.detach().contiguous();
    at::Tensor y = at::adaptive_avg_pool2d(x, {oh, ow});
    Pool2dGeometry g{6, 10, 11, oh, ow};
    at::Tensor out = at::empty(y.sizes());
    adaptiveAvgPool2d(pool, g, data(xd), data(out));
    EXPECT_LE(relError(out, y.detach()), 1e-6) << oh << "x" << ow;
    at::Tensor gy = at::randn(y.sizes());
    y.backward(gy);
    at::Tensor dx = at::empty(x.sizes());
    adaptiveAvgPool2dGrad(pool, g, data(gy), data(dx));
    EXPECT_LE(relError(dx, x.grad()), 1e-6) << oh << "x" << ow;
  }
}

// A NaN in a max-pooling window is that window's maximum (ATen's rule),
// and an infinity is an ordinary maximum.
TEST(ConvKernels, MaxPoolPropagatesNaN) {
  ThreadPool pool(2);
  at::Tensor x = at::randn({1, 2, 6, 6});
  x[0][0][1][1] = NAN;
  x[0][1][4][4] = INFINITY;
  x[0][1][0][0] = -INFINITY;
  at::Tensor y = at::max_pool2d(x, {2, 2}, {2, 2});
  Pool2dGeometry g{2, 6, 6, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1, false};
  at::Tensor out = at::empty(y.sizes());
  maxPool2d(pool, g, data(x), data(out));
  EXPECT_TRUE(at::equal(at::isnan(out), at::isnan(y)));
  EXPECT_TRUE(at::allclose(out, y, 0, 0, /*equal_nan=*/true)) << out << y;
}

// The gradient goes to the NaN of a window (the element ATen's forward
// chose), and a NaN gradient reaches only the element it is routed to.
TEST(ConvKernels, MaxPoolGradientFollowsNaN) {
  ThreadPool pool(2);
  at::Tensor x = at::randn({1, 2, 6, 6});
  x[0][0][1][1] = NAN;
  x[0][1][4][4] = INFINITY;
  at::Tensor xg = x.clone().requires_grad_();
  at::Tensor y = at::max_pool2d(xg, {2, 2}, {2, 2});
  at::Tensor gy = at::randn(y.sizes());
  gy[0][1][0][1] = NAN;
  y.backward(gy);
  Pool2dGeometry g{2, 6, 6, 3, 3, 2, 2, 2, 2, 0, 0, 1, 1, false};
  at::Tensor dx = at::empty(x.sizes());
  maxPool2dGrad(pool, g, data(gy), data(x), data(dx));
  EXPECT_TRUE(at::allclose(dx, xg.grad(), 0, 0, /*equal_nan=*/true))
      << dx << xg.grad();
}

// Shapes: 6 channels (blocks of one), 200 channels of 1 and 3 elements
// (blocks of 25: the sweep over a block's channels sample by sample), 130
// channels of 4x4 (blocks of 17, the last one shorter), 600 channels
// (blocks of 64, the most a sweep holds, and 24). Threads 1 and 3 give
// the same bits: each channel's sums have one order.
TEST(ConvKernels, BatchNormAndGradient) {
  at::manual_seed(5);
  ThreadPool pool(2), one(1), three(3);
  for (bool training : {true, false})
    for (std::vector<int64_t> shape : {std::vector<int64_t>{4, 6, 5, 7},
                                       {16, 6},
                                       {8, 200},
                                       {5, 200, 3},
                                       {3, 130, 4, 4},
                                       {2, 600}}) {
      int64_t channels = shape[1];
      at::Tensor x = (at::randn(shape) * 2 + 3).requires_grad_();
      at::Tensor w = at::randn({channels}).requires_grad_();
      at::Tensor b = at::randn({channels}).requires_grad_();
      at::Tensor rm = at::randn({channels}), rv = at::rand({channels}) + 0.5;
      at::Tensor rmTorch = rm.clone(), rvTorch = rv.clone();
      at::Tensor y = at::batch_norm(x, w, b, rmTorch, rvTorch, training, 0.1, 1e-5, false);
      int64_t inner = 1;
      for (size_t d = 2; d < shape.size(); ++d)
        inner *= shape[d];
      BatchNormGeometry g{shape[0], channels, inner, 1e-5, 0.1, training};
      std::string where = std::to_string(channels) + "x" +
                          std::to_string(inner) +
                          (training ? " training" : " eval");
      at::Tensor xd = x.detach().contiguous(), wd = w.detach(), bd = b.detach();
      at::Tensor out = at::empty(shape), nm = at::empty({channels}),
                 nv = at::empty({channels});
      batchNorm(pool, g, data(xd), data(wd), data(bd), data(rm), data(rv), data(out),
                data(nm), data(nv));
      EXPECT_LE(relError(out, y.detach()), 1e-5) << where;
      EXPECT_LE(relError(nm, rmTorch), 1e-6) << where;
      EXPECT_LE(relError(nv, rvTorch), 1e-6) << where;

      at::Tensor gy = at::randn(shape);
      y.backward(gy);
      at::Tensor dx = at::empty(shape), dw = at::empty({channels}),
                 db = at::empty({channels});
      batchNormGrad(pool, g, data(gy), data(xd), data(wd), data(rm), data(rv),
                    data(dx), data(dw), data(db));
      EXPECT_LE(relError(dx, x.grad()), 1e-5) << where;
      EXPECT_LE(relError(dw, w.grad()), 1e-5) << where;
      EXPECT_LE(relError(db, b.grad()), 1e-5) << where;

      for (ThreadPool *other : {&one, &three}) {
        at::Tensor out2 = at::empty(shape), nm2 = at::empty({channels});
        at::Tensor nv2 = at::empty({channels}), dx2 = at::empty(shape);
        at::Tensor dw2 = at::empty({channels}), db2 = at::empty({channels});
        batchNorm(*other, g, data(xd), data(wd), data(bd), data(rm), data(rv),
                  data(out2), data(nm2), data(nv2));
        batchNormGrad(*other, g, data(gy), data(xd), data(wd), data(rm),
                      data(rv), data(dx2), data(dw2), data(db2));
        EXPECT_TRUE(at::equal(out, out2) && at::equal(nm, nm2) &&
                    at::equal(nv, nv2))
            << where << ", " << other->size() << " threads";
        EXPECT_TRUE(at::equal(dx, dx2) && at::equal(dw, dw2) &&
                    at::equal(db, db2))
            << where << ", " << other->size() << " threads";
      }
    }
}

} // namespace
