//===- ExecutorPrecisionTest.cpp - bf16/fp16 instructions vs ATen ---------===//
//
// A program over reduced-precision buffers: casts, elementwise kernels and
// a product run on f32 shadows and round once per result, so they give
// ATen's bf16/fp16 results; all_finite and select give loss scaling's
// whole-tensor choice.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"
#include "runtime/executor/Executor.h"
#include "tests/unit/KernelTestSupport.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

using namespace accel::rt;

namespace {

constexpr int64_t kRows = 37, kCols = 53, kOut = 29;

struct Built {
  Program program;
  int x, y, w, b, sum, gelu, widened, linear, finite, chosen;
};

/// x, y: [kRows, kCols] f32 inputs; w [kOut, kCols], b [kOut] f32.
/// sum = cast(x) + cast(y); gelu = gelu(sum); widened = f32(gelu);
/// linear = linear(cast(x), cast(w), cast(b)); finite = all_finite(sum);
/// chosen = finite ? widened : x.
Built build(ElementType low) {
  Built r;
  Program &p = r.program;
  uint64_t offset = 0;
  auto add = [&](BufferDesc d) {
    if (d.role == BufferDesc::Role::Arena) {
      d.offset = offset;
      offset += (d.bytes() + 63) / 64 * 64;
    }
    p.buffers.push_back(std::move(d));
    return static_cast<int>(p.buffers.size()) - 1;
  };
  using Role = BufferDesc::Role;
  r.x = add({Role::Input, "x", ElementType::F32, {kRows, kCols}});
  r.y = add({Role::Input, "y", ElementType::F32, {kRows, kCols}});
  r.w = add({Role::Param, "w", ElementType::F32, {kOut, kCols}});
  r.b = add({Role::Param, "b", ElementType::F32, {kOut}});
  int xl = add({Role::Arena, "", low, {kRows, kCols}});
  int yl = add({Role::Arena, "", low, {kRows, kCols}});
  int wl = add({Role::Arena, "", low, {kOut, kCols}});
  int bl = add({Role::Arena, "", low, {kOut}});
  r.sum = add({Role::Arena, "", low, {kRows, kCols}});
  r.gelu = add({Role::Arena, "", low, {kRows, kCols}});
  r.widened = add({Role::Arena, "", ElementType::F32, {kRows, kCols}});
  r.linear = add({Role::Arena, "", low, {kRows, kOut}});
  r.finite = add({Role::Arena, "", ElementType::I1, {}});
  r.chosen = add({Role::Arena, "", ElementType::F32, {kRows, kCols}});
  p.code = {{Kernel::Cast, {r.x}, {xl}},
            {Kernel::Cast, {r.y}, {yl}},
            {Kernel::Cast, {r.w}, {wl}},
            {Kernel::Cast, {r.b}, {bl}},
            {Kernel::Add, {xl, yl}, {r.sum}},
            {Kernel::Gelu, {r.sum}, {r.gelu}},
            {Kernel::Cast, {r.gelu}, {r.widened}},
            {Kernel::Linear, {xl, wl, bl}, {r.linear}},
            {Kernel::AllFinite, {r.sum}, {r.finite}},
            {Kernel::Select, {r.finite, r.widened, r.x}, {r.chosen}}};
  p.arenaBytes = offset;
  return r;
}

at::Tensor view(Executor &e, int buffer, at::ScalarType type) {
  const BufferDesc &d = e.program().buffers[buffer];
  return at::from_blob(e.data(buffer), d.shape, at::TensorOptions().dtype(type));
}

/// Largest distance in units in the last place of `type` between two
/// tensors of that type (0: equal; +0 and -0 count as equal).
int64_t ulpDistance(const at::Tensor &a, const at::Tensor &b) {
  // Sign-magnitude bits to a line of integers where neighbours differ by 1.
  auto ordered = [](const at::Tensor &t) {
    at::Tensor bits = t.contiguous().view(at::kShort).to(at::kInt);
    at::Tensor magnitude = at::bitwise_and(bits, 0x7fff);
    return at::where(bits < 0, -magnitude, magnitude);
  };
  return (ordered(a) - ordered(b)).abs().max().item<int64_t>();
}

class ExecutorPrecision : public ::testing::TestWithParam<ElementType> {};

TEST_P(ExecutorPrecision, MatchesAtenReducedPrecision) {
  ElementType low = GetParam();
  at::ScalarType type = low == ElementType::BF16 ? at::kBFloat16 : at::kHalf;
  Built r = build(low);
  Executor e(r.program, 2);
  at::manual_seed(3);
  at::Tensor x = at::randn({kRows, kCols}), y = at::randn({kRows, kCols}) * 3,
             w = at::randn({kOut, kCols}) * 0.2, b = at::randn({kOut});
  std::memcpy(e.data(r.x), x.data_ptr(), x.nbytes());
  std::memcpy(e.data(r.y), y.data_ptr(), y.nbytes());
  std::memcpy(e.data(r.w), w.data_ptr(), w.nbytes());
  std::memcpy(e.data(r.b), b.data_ptr(), b.nbytes());
  ASSERT_FALSE(static_cast<bool>(e.run()));

  at::Tensor xl = x.to(type), yl = y.to(type);
  // Elementwise: f32 arithmetic on exact widenings, one rounding: ATen's.
  at::Tensor sum = (xl.to(at::kFloat) + yl.to(at::kFloat)).to(type);
  EXPECT_EQ(ulpDistance(view(e, r.sum, type), sum), 0);
  at::Tensor gelu = at::gelu(sum.to(at::kFloat)).to(type);
  // GELU's tail (x < -4) cancels in 1 + erf(x / sqrt 2): libm's erf and
  // ATen's differ there by more than an ulp of the tiny result, so compare
  // within one ulp of the type or 1e-6.
  double ulp = low == ElementType::BF16 ? 1.0 / 128 : 1.0 / 1024;
  EXPECT_TRUE(at::allclose(view(e, r.gelu, type).to(at::kFloat),
                           gelu.to(at::kFloat), ulp, 1e-6));
  EXPECT_TRUE(at::equal(view(e, r.widened, at::kFloat), view(e, r.gelu, type).to(at::kFloat)));
  // Products accumulate in f32 and round once (summation order may differ
  // from ATen's by an f32 ulp, so by at most one ulp of the result).
  at::Tensor linear = at::linear(xl.to(at::kFloat), w.to(type).to(at::kFloat),
                                 b.to(type).to(at::kFloat))
                          .to(type);
  EXPECT_LE(ulpDistance(view(e, r.linear, type), linear), 1);
  EXPECT_TRUE(*e.data(r.finite));
  EXPECT_TRUE(at::equal(view(e, r.chosen, at::kFloat), view(e, r.widened, at::kFloat)));

  // An overflow in the sum: all_finite is false and select keeps x's bits.
  float huge = low == ElementType::F16 ? 60000.0f : 3.0e38f;
  e.as<float>(r.x)[5] = huge;
  e.as<float>(r.y)[5] = huge;
  ASSERT_FALSE(static_cast<bool>(e.run()));
  EXPECT_FALSE(*e.data(r.finite));
  EXPECT_EQ(std::memcmp(e.data(r.chosen), e.data(r.x), kRows * kCols * 4), 0);
}

// FP8 buffers: casts in and out give cpu/Float8.h's codes (checked against
// APFloat and torch elsewhere), a product of FP8 operands is computed on
// their exact f32 values, and all_finite reads each format's NaN and
// infinity codes.
TEST(ExecutorFloat8, CastsProductsAndFiniteCheck) {
  using Role = BufferDesc::Role;
  Program p;
  uint64_t offset = 0;
  auto add = [&](BufferDesc d) {
    if (d.role == Role::Arena) {
      d.offset = offset;
      offset += (d.bytes() + 63) / 64 * 64;
    }
    p.buffers.push_back(std::move(d));
    return static_cast<int>(p.buffers.size()) - 1;
  };
  const int64_t m = 24, k = 40, n = 16;
  int x = add({Role::Input, "x", ElementType::F32, {m, k}});
  int w = add({Role::Param, "w", ElementType::F32, {n, k}});
  int x8 = add({Role::Arena, "", ElementType::F8E4M3FN, {m, k}});
  int w8 = add({Role::Arena, "", ElementType::F8E5M2, {n, k}});
  int y = add({Role::Arena, "", ElementType::F32, {m, n}});
  int ok4 = add({Role::Arena, "", ElementType::I1, {}});
  int ok5 = add({Role::Arena, "", ElementType::I1, {}});
  p.code = {{Kernel::Cast, {x}, {x8}},
            {Kernel::Cast, {w}, {w8}},
            {Kernel::Linear, {x8, w8}, {y}},
            {Kernel::AllFinite, {x8}, {ok4}},
            {Kernel::AllFinite, {w8}, {ok5}}};
  p.arenaBytes = offset;
  Executor e(p, 2);
  at::manual_seed(5);
  at::Tensor xs = at::randn({m, k}) * 100, ws = at::randn({n, k}) * 1000;
  std::memcpy(e.data(x), xs.data_ptr(), xs.nbytes());
  std::memcpy(e.data(w), ws.data_ptr(), ws.nbytes());
  ASSERT_FALSE(static_cast<bool>(e.run()));
  at::Tensor xq = at::empty({m, k}), wq = at::empty({n, k});
  for (int64_t i = 0; i < m * k; ++i) {
    uint8_t code = cpu::floatToE4M3(xs.data_ptr<float>()[i]);
    ASSERT_EQ(e.data(x8)[i], code) << i;
    xq.data_ptr<float>()[i] = cpu::e4m3ToFloat(code);
  }
  for (int64_t i = 0; i < n * k; ++i) {
    uint8_t code = cpu::floatToE5M2(ws.data_ptr<float>()[i]);
    ASSERT_EQ(e.data(w8)[i], code) << i;
    wq.data_ptr<float>()[i] = cpu::e5m2ToFloat(code);
  }
  // FP8 products are exact in f32; only the f32 sums round.
  at::Tensor expected = at::linear(xq.to(at::kDouble), wq.to(at::kDouble));
  EXPECT_LE(accel::testing::relError(view(e, y, at::kFloat), expected), 1e-6);
  EXPECT_TRUE(*e.data(ok4));
  EXPECT_TRUE(*e.data(ok5));

  // E4M3FN saturates infinity (still finite); E5M2 keeps it.
  e.as<float>(x)[7] = INFINITY;
  e.as<float>(w)[3] = INFINITY;
  ASSERT_FALSE(static_cast<bool>(e.run()));
  EXPECT_EQ(e.data(x8)[7], 0x7e);
  EXPECT_TRUE(*e.data(ok4));
  EXPECT_FALSE(*e.data(ok5));
  e.as<float>(x)[7] = NAN;
  ASSERT_FALSE(static_cast<bool>(e.run()));
  EXPECT_FALSE(*e.data(ok4));
}

INSTANTIATE_TEST_SUITE_P(Types, ExecutorPrecision,
                         ::testing::Values(ElementType::BF16, ElementType::F16));

} // namespace
