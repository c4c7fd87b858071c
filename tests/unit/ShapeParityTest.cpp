//===- ShapeParityTest.cpp - accel shape inference vs. LibTorch -----------===//
//
// Sweeps the shape-bearing arguments of the accel ops and checks that the
// dialect's result-type inference agrees with LibTorch 1.13 on every case:
// the same output shape where PyTorch accepts the arguments, and an error
// where PyTorch rejects them.
//
//===----------------------------------------------------------------------===//

#include "tests/unit/OpInference.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <sstream>

using accel::testing::OpInference;

namespace {

/// PyTorch's output shape, or nullopt when it throws for these arguments.
std::optional<std::vector<int64_t>>
torchShape(const std::function<at::Tensor()> &run) {
  try {
    // Keep the tensor: sizes() points into it.
    at::Tensor result = run();
    return result.sizes().vec();
  } catch (const c10::Error &) {
    return std::nullopt;
  }
}

std::string str(const std::optional<std::vector<int64_t>> &shape) {
  if (!shape)
    return "error";
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < shape->size(); ++i)
    os << (i ? ", " : "") << (*shape)[i];
  os << "]";
  return os.str();
}

at::Tensor zeros(std::vector<int64_t> shape) { return at::zeros(shape); }

class ShapeParityTest : public ::testing::Test {
protected:
  OpInference ops;
  mlir::Builder &b = ops.getBuilder();

  mlir::NamedAttribute pair(llvm::StringRef name, int64_t h, int64_t w) {
    return b.getNamedAttr(name, b.getDenseI64ArrayAttr({h, w}));
  }
  mlir::NamedAttribute i64(llvm::StringRef name, int64_t v) {
    return b.getNamedAttr(name, b.getI64IntegerAttr(v));
  }
  mlir::NamedAttribute unit(llvm::StringRef name) {
    return b.getNamedAttr(name, b.getUnitAttr());
  }

  /// Compares, counting the cases PyTorch accepts so that a sweep that
  /// rejects everything cannot pass silently.
  void expectSame(const std::optional<std::vector<int64_t>> &accel,
                  const std::optional<std::vector<int64_t>> &torch,
                  const std::string &what) {
    EXPECT_EQ(str(accel), str(torch)) << what << "\naccel: " << ops.lastError;
    if (torch)
      ++accepted;
    else
      ++rejected;
  }
  int accepted = 0, rejected = 0;
};

TEST_F(ShapeParityTest, Conv2d) {
  for (int64_t size : {4, 7, 8, 13})
    for (int64_t kernel : {1, 2, 3, 5})
      for (int64_t stride : {1, 2, 3})
        for (int64_t padding : {0, 1, 2})
          for (int64_t dilation : {1, 2})
            for (int64_t groups : {1, 2}) {
              std::vector<int64_t> in = {2, 4, size, size + 1},
                                   w = {6, 4 / groups, kernel, kernel};
              auto torch = torchShape([&] {
                return at::conv2d(zeros(in), zeros(w), {}, {stride, stride},
                                  {padding, padding}, {dilation, dilation},
                                  groups);
              });
              auto accel = ops.inferShape(
                  "accel.conv2d", {ops.value(in), ops.value(w)},
                  {pair("stride", stride, stride),
                   pair("padding", padding, padding),
                   pair("dilation", dilation, dilation),
                   i64("groups", groups)});
              expectSame(accel, torch,
                         "conv2d size=" + std::to_string(size) +
                             " kernel=" + std::to_string(kernel) +
                             " stride=" + std::to_string(stride) +
                             " padding=" + std::to_string(padding) +
                             " dilation=" + std::to_string(dilation) +
                             " groups=" + std::to_string(groups));
            }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 0);
}

TEST_F(ShapeParityTest, MaxPool2d) {
  for (int64_t size : {1, 2, 3, 5, 6, 9, 57})
    for (int64_t kernel : {1, 2, 3, 4})
      for (int64_t stride : {1, 2, 3})
        for (int64_t padding : {0, 1, 2})
          for (int64_t dilation : {1, 2})
            for (bool ceil : {false, true}) {
              std::vector<int64_t> in = {1, 3, size, size};
              auto torch = torchShape([&] {
                return at::max_pool2d(zeros(in), {kernel, kernel},
                                      {stride, stride}, {padding, padding},
                                      {dilation, dilation}, ceil);
              });
              std::vector<mlir::NamedAttribute> attrs = {
                  pair("kernel_size", kernel, kernel),
                  pair("stride", stride, stride),
                  pair("padding", padding, padding),
                  pair("dilation", dilation, dilation)};
              if (ceil)
                attrs.push_back(unit("ceil_mode"));
              auto accel =
                  ops.inferShape("accel.max_pool2d", {ops.value(in)}, attrs);
              expectSame(accel, torch,
                         "max_pool2d size=" + std::to_string(size) +
                             " kernel=" + std::to_string(kernel) +
                             " stride=" + std::to_string(stride) +
                             " padding=" + std::to_string(padding) +
                             " dilation=" + std::to_string(dilation) +
                             " ceil=" + std::to_string(ceil));
            }
  EXPECT_GT(accepted, 100);
  EXPECT_GT(rejected, 0);
}

TEST_F(ShapeParityTest, AvgPool2d) {
  for (int64_t size : {1, 2, 3, 5, 6, 9, 56})
    for (int64_t kernel : {1, 2, 3, 4})
      for (int64_t stride : {1, 2, 3})
        for (int64_t padding : {0, 1, 2})
          for (bool ceil : {false, true}) {
            std::vector<int64_t> in = {3, size, size + 2};
            auto torch = torchShape([&] {
              return at::avg_pool2d(zeros(in), {kernel, kernel},
                                    {stride, stride}, {padding, padding}, ceil);
            });
            std::vector<mlir::NamedAttribute> attrs = {
                pair("kernel_size", kernel, kernel),
                pair("stride", stride, stride),
                pair("padding", padding, padding)};
            if (ceil)
              attrs.push_back(unit("ceil_mode"));
            auto accel =
                ops.inferShape("accel.avg_pool2d", {ops.value(in)}, attrs);
            expectSame(accel, torch,
                       "avg_pool2d size=" + std::to_string(size) +
                           " kernel=" + std::to_string(kernel) +
                           " stride=" + std::to_string(stride) +
                           " padding=" + std::to_string(padding) +
                           " ceil=" + std::to_string(ceil));
          }
  EXPECT_GT(accepted, 50);
  EXPECT_GT(rejected, 0);
}

TEST_F(ShapeParityTest, AdaptiveAvgPool2d) {
  for (int64_t size : {1, 7, 10})
    for (int64_t out : {1, 3, 7}) {
      std::vector<int64_t> in = {2, 5, size, size};
      auto torch = torchShape(
          [&] { return at::adaptive_avg_pool2d(zeros(in), {out, out + 1}); });
      auto accel = ops.inferShape("accel.adaptive_avg_pool2d", {ops.value(in)},
                                  {pair("output_size", out, out + 1)});
      expectSame(accel, torch, "adaptive_avg_pool2d");
    }
}

const std::vector<std::vector<int64_t>> kShapes = {
    {}, {1}, {3}, {4}, {1, 4}, {3, 1}, {3, 4}, {2, 3, 4}, {2, 1, 4}, {5, 1, 1}};

TEST_F(ShapeParityTest, Broadcast) {
  for (const auto &l : kShapes)
    for (const auto &r : kShapes) {
      auto torch = torchShape([&] { return at::add(zeros(l), zeros(r)); });
      auto accel =
          ops.inferShape("accel.add", {ops.value(l), ops.value(r)});
      expectSame(accel, torch, "add " + str(l) + " + " + str(r));
    }
  EXPECT_GT(rejected, 0);
}

TEST_F(ShapeParityTest, MaskedFill) {
  for (const auto &in : kShapes)
    for (const auto &mask : kShapes) {
      auto torch = torchShape([&] {
        return zeros(in).masked_fill(at::zeros(mask, at::kBool), 1.0);
      });
      auto accel = ops.inferShape(
          "accel.masked_fill", {ops.value(in), ops.value(mask, b.getI1Type())},
          {b.getNamedAttr("value", b.getF64FloatAttr(1.0))});
      expectSame(accel, torch, "masked_fill " + str(in) + " mask " + str(mask));
    }
}

TEST_F(ShapeParityTest, Matmul) {
  const std::vector<std::vector<int64_t>> shapes = {
      {3, 4}, {4, 5}, {2, 3, 4}, {2, 4, 5}, {1, 4, 5}, {3, 2, 4, 5}, {5, 4, 3}};
  for (const auto &l : shapes)
    for (const auto &r : shapes) {
      auto torch = torchShape([&] { return at::matmul(zeros(l), zeros(r)); });
      auto accel =
          ops.inferShape("accel.matmul", {ops.value(l), ops.value(r)});
      expectSame(accel, torch, "matmul " + str(l) + " x " + str(r));
    }
  EXPECT_GT(accepted, 5);
}

TEST_F(ShapeParityTest, FlattenSliceConcat) {
  std::vector<int64_t> in = {2, 3, 4, 5};
  for (int64_t start = 0; start < 4; ++start)
    for (int64_t end = start; end < 4; ++end) {
      auto torch = torchShape([&] { return zeros(in).flatten(start, end); });
      auto accel = ops.inferShape("accel.flatten", {ops.value(in)},
                                  {i64("start_dim", start), i64("end_dim", end)});
      expectSame(accel, torch, "flatten");
    }
  for (int64_t start = 0; start <= 5; ++start)
    for (int64_t end = start; end <= 5; ++end)
      for (int64_t step : {1, 2, 3}) {
        auto torch =
            torchShape([&] { return zeros(in).slice(3, start, end, step); });
        auto accel = ops.inferShape(
            "accel.slice", {ops.value(in)},
            {i64("dim", 3), i64("start", start), i64("end", end),
             i64("step", step)});
        expectSame(accel, torch, "slice");
      }
  for (int64_t dim = 0; dim < 4; ++dim) {
    std::vector<int64_t> other = in;
    other[dim] = 7;
    auto torch = torchShape([&] { return at::cat({zeros(in), zeros(other)}, dim); });
    auto accel = ops.inferShape("accel.concat",
                                {ops.value(in), ops.value(other)},
                                {i64("dim", dim)});
    expectSame(accel, torch, "concat");
  }
}

TEST_F(ShapeParityTest, ReductionsAndLosses) {
  std::vector<int64_t> in = {2, 3, 4};
  for (std::vector<int64_t> dims :
       std::vector<std::vector<int64_t>>{{0}, {2}, {0, 2}, {2, 0, 1}})
    for (bool keepdim : {false, true}) {
      auto torch = torchShape([&] { return zeros(in).sum(dims, keepdim); });
      std::vector<mlir::NamedAttribute> attrs = {
          b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))};
      if (keepdim)
        attrs.push_back(unit("keepdim"));
      expectSame(ops.inferShape("accel.sum", {ops.value(in)}, attrs), torch,
                 "sum");
      expectSame(ops.inferShape("accel.amax", {ops.value(in)}, attrs),
                 torchShape([&] { return zeros(in).amax(dims, keepdim); }),
                 "amax");
    }
  for (const auto &[reduction, torchReduction] :
       std::vector<std::pair<accel::Reduction, int64_t>>{
           {accel::Reduction::Mean, at::Reduction::Mean},
           {accel::Reduction::Sum, at::Reduction::Sum},
           {accel::Reduction::None, at::Reduction::None}}) {
    mlir::NamedAttribute attr = b.getNamedAttr(
        "reduction", accel::ReductionAttr::get(&ops.getContext(), reduction));
    auto torch = torchShape([&] {
      return at::cross_entropy_loss(zeros({8, 10}), at::zeros({8}, at::kLong),
                                    {}, torchReduction);
    });
    expectSame(ops.inferShape("accel.cross_entropy",
                              {ops.value({8, 10}),
                               ops.value({8}, b.getIntegerType(64))},
                              {attr}),
               torch, "cross_entropy");
    torch = torchShape([&] {
      return at::mse_loss(zeros({8, 3}), zeros({8, 3}), torchReduction);
    });
    expectSame(ops.inferShape("accel.mse_loss",
                              {ops.value({8, 3}), ops.value({8, 3})}, {attr}),
               torch, "mse_loss");
  }
}

TEST_F(ShapeParityTest, EmbeddingAndPermute) {
  auto torch = torchShape([&] {
    return at::embedding(zeros({256, 64}), at::zeros({2, 16}, at::kLong));
  });
  expectSame(ops.inferShape("accel.embedding",
                            {ops.value({256, 64}),
                             ops.value({2, 16}, b.getIntegerType(64))}),
             torch, "embedding");
  std::vector<int64_t> perm = {2, 0, 3, 1};
  torch = torchShape([&] { return zeros({2, 3, 4, 5}).permute(perm); });
  expectSame(ops.inferShape("accel.permute", {ops.value({2, 3, 4, 5})},
                            {b.getNamedAttr("permutation",
                                            b.getDenseI64ArrayAttr(perm))}),
             torch, "permute");
}

} // namespace
