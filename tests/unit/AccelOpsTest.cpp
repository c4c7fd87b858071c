//===- AccelOpsTest.cpp - the accel ops through the C++ API ---------------===//
//
// What passes and the importer rely on when they create accel ops: builders
// that infer result types, inference that reports errors instead of
// crashing, folders reachable through createOrFold, and the dialect's
// argument-attribute names.
//
//===----------------------------------------------------------------------===//

#include "tests/unit/OpInference.h"

#include "dialects/accel/ShapeInference.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using accel::testing::OpInference;

namespace {

TEST(ShapeInference, BroadcastFollowsNumPyRules) {
  using accel::shape::broadcast;
  EXPECT_EQ(*broadcast({8, 1, 6, 1}, {7, 1, 5}),
            (SmallVector<int64_t>{8, 7, 6, 5}));
  EXPECT_EQ(*broadcast({}, {3}), (SmallVector<int64_t>{3}));
  EXPECT_EQ(*broadcast({0}, {1}), (SmallVector<int64_t>{0}));
  EXPECT_FALSE(broadcast({2, 1}, {8, 4, 3}).has_value());
}

TEST(ShapeInference, ConvAndPoolSizes) {
  using accel::shape::convOutputSize;
  using accel::shape::poolOutputSize;
  // ResNet-18's stem: 7x7/2 pad 3 on 224, then 3x3/2 pad 1 max pooling.
  EXPECT_EQ(convOutputSize(224, 7, 2, 3, 1), 112);
  EXPECT_EQ(poolOutputSize(112, 3, 2, 1, 1, false), 56);
  // A kernel larger than the input floors to a non-positive size.
  EXPECT_LE(convOutputSize(2, 5, 1, 0, 1), 0);
  EXPECT_LE(convOutputSize(1, 3, 2, 0, 1), 0);
  // ceil_mode keeps a partial last window, unless it starts in the padding.
  EXPECT_EQ(poolOutputSize(5, 2, 2, 0, 1, false), 2);
  EXPECT_EQ(poolOutputSize(5, 2, 2, 0, 1, true), 3);
  EXPECT_EQ(poolOutputSize(6, 3, 3, 1, 1, true), 3);
}

class AccelOpsTest : public ::testing::Test {
protected:
  OpInference ops;
  OpBuilder &b = ops.getBuilder();
  Location loc = b.getUnknownLoc();

  void SetUp() override {
    ops.getContext().loadDialect<func::FuncDialect>();
    module = ModuleOp::create(loc);
    b.setInsertionPointToEnd(module->getBody());
  }

  /// A function with arguments of `types`, the builder inside its body.
  func::FuncOp function(TypeRange types) {
    auto f = func::FuncOp::create(b, loc, "f", b.getFunctionType(types, {}));
    b.setInsertionPointToStart(f.addEntryBlock());
    return f;
  }

  RankedTensorType f32(ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, b.getF32Type());
  }

  OwningOpRef<ModuleOp> module;
};

TEST_F(AccelOpsTest, BuildersInferResultTypes) {
  func::FuncOp f = function({f32({128, 784}), f32({1024, 784}), f32({1024}),
                             f32({2, 4, 16, 8}), f32({8, 16})});
  auto args = f.getArguments();
  auto linear =
      accel::LinearOp::create(b, loc, args[0], args[1], args[2]);
  EXPECT_EQ(linear.getType(), f32({128, 1024}));
  auto matmul = accel::MatmulOp::create(b, loc, args[3], args[4]);
  EXPECT_EQ(matmul.getType(), f32({2, 4, 16, 16}));
  auto sum = accel::SumOp::create(b, loc, matmul, b.getDenseI64ArrayAttr({3}),
                                  /*keepdim=*/true);
  EXPECT_EQ(sum.getType(), f32({2, 4, 16, 1}));
  auto relu = accel::ReluOp::create(b, loc, linear);
  EXPECT_EQ(relu.getType(), linear.getType());
  func::ReturnOp::create(b, loc);
  EXPECT_TRUE(succeeded(verify(*module)));
}

TEST_F(AccelOpsTest, DefaultAttributesMatchPyTorch) {
  func::FuncOp f = function({f32({1, 3, 8, 8}), f32({4, 3, 3, 3}), f32({4, 10}),
                             RankedTensorType::get({4}, b.getI64Type())});
  auto args = f.getArguments();
  // Only operands: every attribute takes its default.
  auto conv = accel::Conv2dOp::create(b, loc, ValueRange{args[0], args[1]},
                                      ArrayRef<NamedAttribute>{});
  EXPECT_EQ(conv.getStride(), ArrayRef<int64_t>({1, 1}));
  EXPECT_EQ(conv.getPadding(), ArrayRef<int64_t>({0, 0}));
  EXPECT_EQ(conv.getGroups(), 1u);
  EXPECT_EQ(conv.getType(), f32({1, 4, 6, 6}));
  auto loss = accel::CrossEntropyOp::create(
      b, loc, ValueRange{args[2], args[3]}, ArrayRef<NamedAttribute>{});
  EXPECT_EQ(loss.getReduction(), accel::Reduction::Mean);
  EXPECT_EQ(static_cast<int64_t>(loss.getIgnoreIndex()), -100);
  EXPECT_TRUE(loss.getLabelSmoothing().isZero());
  EXPECT_EQ(loss.getType(), f32({}));
}

TEST_F(AccelOpsTest, InferenceReportsLocatedErrors) {
  Value x = ops.value({2, 784}), w = ops.value({10, 783});
  EXPECT_FALSE(ops.inferShape("accel.linear", {x, w}).has_value());
  EXPECT_EQ(ops.lastError, "'accel.linear' op input has 784 features but "
                           "weight 'tensor<10x783xf32>' expects 783");
}

TEST_F(AccelOpsTest, CreateOrFoldSimplifies) {
  func::FuncOp f = function({f32({2, 3, 4})});
  Value x = f.getArgument(0);
  Value t = b.createOrFold<accel::TransposeOp>(loc, x, 0, 2);
  ASSERT_NE(t, x);
  Value back = b.createOrFold<accel::TransposeOp>(loc, t, 2, 0);
  EXPECT_EQ(back, x);
  Value flat = b.createOrFold<accel::FlattenOp>(loc, x, 1, 1);
  EXPECT_EQ(flat, x);
}

TEST_F(AccelOpsTest, ArgumentRoleNames) {
  EXPECT_EQ(accel::AccelDialect::kParamAttrName, "accel.param");
  EXPECT_EQ(accel::AccelDialect::kBufferAttrName, "accel.buffer");
  EXPECT_EQ(accel::AccelDialect::kInputAttrName, "accel.input");
}

} // namespace
