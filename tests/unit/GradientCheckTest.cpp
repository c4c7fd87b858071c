//===- GradientCheckTest.cpp - every VJP against finite differences -------===//
//
// For each differentiable accel op, a small function computes
// loss = Σ op(params...) ⊙ r with a random cotangent r; accel-autodiff
// differentiates it, and the reference interpreter evaluates both the
// gradient and central finite differences of the loss in f64. The two must
// agree to 1e-6 relative to the gradient's largest entry: in f64 with
// h = 1e-6 the difference quotient is accurate to ~1e-9 (truncation
// O(h²), rounding O(ε/h)), so 1e-6 leaves room without hiding a wrong VJP,
// which errs by O(1). Inputs are random, so kinks (relu, max, amax) are
// hit with probability ~0.
//
// The last test fails when an op implements DifferentiableOpInterface but
// has no case here: a new op cannot land without a gradient check. The one
// exception is a VJP that is a training recipe rather than a derivative:
// accel.scaled_matmul's forward is quantised (piecewise constant, so finite
// differences are zero almost everywhere) and its VJP is defined as the
// recipe's quantised backward GEMMs; tests/lit/precision/fp8-*-parity.test
// checks it against torchao's and tests/lit/transforms/fp8.mlir its form.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "tests/reference/ReferenceInterpreter.h"

#include "mlir/AsmParser/AsmParser.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <set>

using namespace mlir;

namespace {

struct Case {
  const char *op;     // the accel op under test
  const char *args;   // function arguments (params and inputs)
  const char *body;   // ops that compute %y
  const char *yType;  // type of %y
  int64_t intBound = 4; // integer inputs are drawn from [0, intBound)
};

// Params are differentiated; accel.input arguments are fixed random data.
const Case kCases[] = {
    {"accel.relu", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.relu %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.gelu", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.gelu %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.tanh", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.tanh %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.sigmoid", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.sigmoid %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.exp", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.exp %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.log", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%e = accel.exp %x : tensor<3x4xf32>\n"
     "%y = accel.log %e : tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.sqrt", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%e = accel.exp %x : tensor<3x4xf32>\n"
     "%y = accel.sqrt %e : tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.rsqrt", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%e = accel.exp %x : tensor<3x4xf32>\n"
     "%y = accel.rsqrt %e : tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.neg", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.neg %x : tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.cast", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.cast %x : tensor<3x4xf32> -> tensor<3x4xbf16>",
     "tensor<3x4xbf16>"},
    {"accel.add",
     "%a: tensor<3x4xf32> {accel.param = \"a\"}, %b: tensor<4xf32> {accel.param = \"b\"}",
     "%y = accel.add %a, %b : (tensor<3x4xf32>, tensor<4xf32>) -> tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.sub",
     "%a: tensor<3x1xf32> {accel.param = \"a\"}, %b: tensor<3x4xf32> {accel.param = \"b\"}",
     "%y = accel.sub %a, %b : (tensor<3x1xf32>, tensor<3x4xf32>) -> tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.mul",
     "%a: tensor<2x3x4xf32> {accel.param = \"a\"}, %b: tensor<3x1xf32> {accel.param = \"b\"}",
     "%y = accel.mul %a, %b : (tensor<2x3x4xf32>, tensor<3x1xf32>) -> tensor<2x3x4xf32>",
     "tensor<2x3x4xf32>"},
    {"accel.div",
     "%a: tensor<3x4xf32> {accel.param = \"a\"}, %b: tensor<f32> {accel.param = \"b\"}",
     "%e = accel.exp %b : tensor<f32>\n"
     "%y = accel.div %a, %e : (tensor<3x4xf32>, tensor<f32>) -> tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.masked_fill",
     "%x: tensor<3x4xf32> {accel.param = \"x\"}, %m: tensor<4xi1> {accel.input = \"m\"}",
     "%y = accel.masked_fill %x, %m {value = 2.5 : f64} : (tensor<3x4xf32>, tensor<4xi1>) -> tensor<3x4xf32>",
     "tensor<3x4xf32>", 2},
    {"accel.dropout",
     "%x: tensor<3x4xf32> {accel.param = \"x\"}, %seed: tensor<i64> {accel.seed = \"seed\"}",
     "%y = accel.dropout %x, %seed {p = 0.0 : f64} : (tensor<3x4xf32>, tensor<i64>) -> tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.matmul",
     "%a: tensor<2x3x4xf32> {accel.param = \"a\"}, %b: tensor<4x5xf32> {accel.param = \"b\"}",
     "%y = accel.matmul %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>",
     "tensor<2x3x5xf32>"},
    {"accel.linear",
     "%x: tensor<2x3x4xf32> {accel.param = \"x\"}, %w: tensor<5x4xf32> {accel.param = \"w\"}, "
     "%b: tensor<5xf32> {accel.param = \"b\"}",
     "%y = accel.linear %x, %w, %b : (tensor<2x3x4xf32>, tensor<5x4xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>",
     "tensor<2x3x5xf32>"},
    {"accel.conv2d",
     "%x: tensor<2x4x7x7xf32> {accel.param = \"x\"}, %w: tensor<6x2x3x3xf32> {accel.param = \"w\"}, "
     "%b: tensor<6xf32> {accel.param = \"b\"}",
     "%y = accel.conv2d %x, %w, %b {stride = array<i64: 2, 1>, padding = array<i64: 1, 2>, "
     "dilation = array<i64: 1, 2>, groups = 2 : i64} : (tensor<2x4x7x7xf32>, tensor<6x2x3x3xf32>, "
     "tensor<6xf32>) -> tensor<2x6x4x7xf32>",
     "tensor<2x6x4x7xf32>"},
    {"accel.batch_norm",
     "%x: tensor<3x2x2x2xf32> {accel.param = \"x\"}, %w: tensor<2xf32> {accel.param = \"w\"}, "
     "%b: tensor<2xf32> {accel.param = \"b\"}, %m: tensor<2xf32> {accel.buffer = \"m\"}, "
     "%v: tensor<2xf32> {accel.buffer = \"v\"}",
     "%e = accel.exp %v : tensor<2xf32>\n"
     "%y, %nm, %nv = accel.batch_norm %x, %w, %b, %m, %e {training} : (tensor<3x2x2x2xf32>, "
     "tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<3x2x2x2xf32>, "
     "tensor<2xf32>, tensor<2xf32>)",
     "tensor<3x2x2x2xf32>"},
    {"accel.layer_norm",
     "%x: tensor<2x3x4xf32> {accel.param = \"x\"}, %w: tensor<3x4xf32> {accel.param = \"w\"}, "
     "%b: tensor<3x4xf32> {accel.param = \"b\"}",
     "%y = accel.layer_norm %x weight(%w) bias(%b) {normalized_shape = array<i64: 3, 4>} : "
     "(tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<2x3x4xf32>",
     "tensor<2x3x4xf32>"},
    {"accel.max_pool2d", "%x: tensor<2x2x5x5xf32> {accel.param = \"x\"}",
     "%y = accel.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, "
     "padding = array<i64: 1, 1>, ceil_mode} : (tensor<2x2x5x5xf32>) -> tensor<2x2x3x3xf32>",
     "tensor<2x2x3x3xf32>"},
    {"accel.avg_pool2d", "%x: tensor<2x2x5x5xf32> {accel.param = \"x\"}",
     "%y = accel.avg_pool2d %x {kernel_size = array<i64: 2, 3>, stride = array<i64: 2, 1>, "
     "padding = array<i64: 1, 1>} : (tensor<2x2x5x5xf32>) -> tensor<2x2x3x5xf32>",
     "tensor<2x2x3x5xf32>"},
    {"accel.adaptive_avg_pool2d", "%x: tensor<2x2x5x7xf32> {accel.param = \"x\"}",
     "%y = accel.adaptive_avg_pool2d %x {output_size = array<i64: 2, 3>} : "
     "(tensor<2x2x5x7xf32>) -> tensor<2x2x2x3xf32>",
     "tensor<2x2x2x3xf32>"},
    {"accel.clamp", "%x: tensor<3x4xf32> {accel.param = \"x\"}",
     "%y = accel.clamp %x {min = -0.5 : f64, max = 0.7 : f64} : tensor<3x4xf32>",
     "tensor<3x4xf32>"},
    {"accel.broadcast_to", "%x: tensor<3x1xf32> {accel.param = \"x\"}",
     "%y = accel.broadcast_to %x : tensor<3x1xf32> -> tensor<2x3x4xf32>",
     "tensor<2x3x4xf32>"},
    {"accel.reshape", "%x: tensor<2x6xf32> {accel.param = \"x\"}",
     "%y = accel.reshape %x : tensor<2x6xf32> -> tensor<3x4xf32>", "tensor<3x4xf32>"},
    {"accel.flatten", "%x: tensor<2x3x2xf32> {accel.param = \"x\"}",
     "%y = accel.flatten %x {start_dim = 1 : i64, end_dim = 2 : i64} : (tensor<2x3x2xf32>) -> tensor<2x6xf32>",
     "tensor<2x6xf32>"},
    {"accel.transpose", "%x: tensor<2x3x4xf32> {accel.param = \"x\"}",
     "%y = accel.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>",
     "tensor<4x3x2xf32>"},
    {"accel.permute", "%x: tensor<2x3x4xf32> {accel.param = \"x\"}",
     "%y = accel.permute %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>",
     "tensor<3x4x2xf32>"},
    {"accel.slice", "%x: tensor<3x8xf32> {accel.param = \"x\"}",
     "%y = accel.slice %x {dim = 1 : i64, start = 1 : i64, end = 8 : i64, step = 3 : i64} : "
     "(tensor<3x8xf32>) -> tensor<3x3xf32>",
     "tensor<3x3xf32>"},
    {"accel.concat",
     "%a: tensor<2x3xf32> {accel.param = \"a\"}, %b: tensor<2x1xf32> {accel.param = \"b\"}",
     "%y = accel.concat %a, %b, %a {dim = 1 : i64} : (tensor<2x3xf32>, tensor<2x1xf32>, "
     "tensor<2x3xf32>) -> tensor<2x7xf32>",
     "tensor<2x7xf32>"},
    {"accel.embedding",
     "%w: tensor<6x3xf32> {accel.param = \"w\"}, %i: tensor<2x4xi64> {accel.input = \"i\"}",
     "%y = accel.embedding %w, %i : (tensor<6x3xf32>, tensor<2x4xi64>) -> tensor<2x4x3xf32>",
     "tensor<2x4x3xf32>", 6},
    {"accel.sum", "%x: tensor<2x3x4xf32> {accel.param = \"x\"}",
     "%y = accel.sum %x {dims = array<i64: 0, 2>} : (tensor<2x3x4xf32>) -> tensor<3xf32>",
     "tensor<3xf32>"},
    {"accel.mean", "%x: tensor<2x3x4xf32> {accel.param = \"x\"}",
     "%y = accel.mean %x {dims = array<i64: 1>, keepdim} : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>",
     "tensor<2x1x4xf32>"},
    {"accel.amax", "%x: tensor<2x3x4xf32> {accel.param = \"x\"}",
     "%y = accel.amax %x {dims = array<i64: 2>} : (tensor<2x3x4xf32>) -> tensor<2x3xf32>",
     "tensor<2x3xf32>"},
    {"accel.softmax", "%x: tensor<3x5xf32> {accel.param = \"x\"}",
     "%y = accel.softmax %x {dim = 1 : i64} : (tensor<3x5xf32>) -> tensor<3x5xf32>",
     "tensor<3x5xf32>"},
    {"accel.log_softmax", "%x: tensor<3x5xf32> {accel.param = \"x\"}",
     "%y = accel.log_softmax %x {dim = 0 : i64} : (tensor<3x5xf32>) -> tensor<3x5xf32>",
     "tensor<3x5xf32>"},
    {"accel.cross_entropy",
     "%x: tensor<4x5xf32> {accel.param = \"x\"}, %t: tensor<4xi64> {accel.input = \"t\"}",
     "%y = accel.cross_entropy %x, %t {label_smoothing = 0.1 : f64, ignore_index = 2 : i64} : "
     "(tensor<4x5xf32>, tensor<4xi64>) -> tensor<f32>",
     "tensor<f32>", 5},
    {"accel.mse_loss",
     "%x: tensor<3x4xf32> {accel.param = \"x\"}, %t: tensor<3x4xf32> {accel.param = \"t\"}",
     "%y = accel.mse_loss %x, %t : (tensor<3x4xf32>, tensor<3x4xf32>) -> tensor<f32>",
     "tensor<f32>"},
};

// gtest prints a failing case by its op.
void PrintTo(const Case &c, std::ostream *os) { *os << c.op; }

/// loss = Σ y ⊙ r, with r an input of y's type.
std::string program(const Case &c, RankedTensorType yType) {
  std::string y = c.yType;
  std::string s = "func.func @forward(" + std::string(c.args) + ", %r: " + y +
                  " {accel.input = \"r\"}) -> tensor<f32> {\n" + c.body + "\n";
  // Multiply in the value's own type, sum to a scalar, cast to f32.
  s += "%p = accel.mul %y, %r : (" + y + ", " + y + ") -> " + y + "\n";
  if (yType.getRank() == 0) {
    s += "%l = accel.cast %p : " + y + " -> tensor<f32>\n";
  } else {
    std::string dims;
    for (int64_t i = 0; i < yType.getRank(); ++i)
      dims += (i ? ", " : "") + std::to_string(i);
    std::string scalar;
    llvm::raw_string_ostream(scalar)
        << RankedTensorType::get({}, yType.getElementType());
    s += "%s = accel.sum %p {dims = array<i64: " + dims + ">} : (" + y +
         ") -> " + scalar + "\n";
    s += "%l = accel.cast %s : " + scalar + " -> tensor<f32>\n";
  }
  s += "return %l : tensor<f32>\n}\n";
  return s;
}

class GradientCheck : public ::testing::TestWithParam<Case> {
protected:
  void SetUp() override {
    context.loadDialect<accel::AccelDialect, func::FuncDialect,
                        arith::ArithDialect>();
  }
  MLIRContext context;
};

TEST_P(GradientCheck, VjpMatchesFiniteDifferences) {
  const Case &c = GetParam();
  auto yType = cast<RankedTensorType>(parseType(c.yType, &context));
  std::string source = program(c, yType);
  OwningOpRef<ModuleOp> module = parseSourceString<ModuleOp>(source, &context);
  ASSERT_TRUE(module) << source;
  auto forward = module->lookupSymbol<func::FuncOp>("forward");

  PassManager pm(&context);
  pm.addPass(accel::createAutoDiffPass());
  ASSERT_TRUE(succeeded(pm.run(*module))) << source;
  auto grad = module->lookupSymbol<func::FuncOp>("forward_grad");

  // Random arguments in f64 (floats) or within the case's bound (integers).
  at::manual_seed(0);
  std::vector<at::Tensor> args;
  std::vector<unsigned> params;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    auto type = cast<RankedTensorType>(forward.getArgumentTypes()[i]);
    std::vector<int64_t> shape(type.getShape().begin(), type.getShape().end());
    if (type.getElementType().isInteger(64))
      args.push_back(forward.getArgAttr(i, accel::AccelDialect::kSeedAttrName)
                         ? at::scalar_tensor(7, at::kLong)
                         : at::randint(0, c.intBound, shape, at::kLong));
    else if (type.getElementType().isInteger(1))
      args.push_back(at::randint(0, 2, shape, at::kLong).to(at::kBool));
    else
      args.push_back(at::randn(shape, at::kDouble));
    if (forward.getArgAttr(i, accel::AccelDialect::kParamAttrName))
      params.push_back(i);
  }
  accel::reference::InterpretOptions f64;
  f64.floatsInDouble = true;
  auto lossAt = [&](const std::vector<at::Tensor> &a) {
    llvm::Expected<std::vector<at::Tensor>> r =
        accel::reference::interpret(forward, a, f64);
    EXPECT_TRUE(static_cast<bool>(r)) << llvm::toString(r.takeError());
    return (*r)[0].item<double>();
  };
  llvm::Expected<std::vector<at::Tensor>> analytic =
      accel::reference::interpret(grad, args, f64);
  ASSERT_TRUE(static_cast<bool>(analytic)) << llvm::toString(analytic.takeError());

  const double h = 1e-6;
  for (auto [k, i] : llvm::enumerate(params)) {
    at::Tensor g = (*analytic)[k + 1];
    at::Tensor fd = at::zeros_like(args[i]);
    for (int64_t e = 0; e < args[i].numel(); ++e) {
      std::vector<at::Tensor> plus = args, minus = args;
      plus[i] = args[i].clone();
      minus[i] = args[i].clone();
      plus[i].view(-1)[e] += h;
      minus[i].view(-1)[e] -= h;
      fd.view(-1)[e] = (lossAt(plus) - lossAt(minus)) / (2 * h);
    }
    double scale = std::max(fd.abs().max().item<double>(), 1e-3);
    double err = (g.to(at::kDouble) - fd).abs().max().item<double>() / scale;
    EXPECT_LE(err, 1e-6) << c.op << ": gradient of argument #" << i
                         << "\nanalytic:\n" << g << "\nfinite differences:\n"
                         << fd << "\n" << source;
  }
}

INSTANTIATE_TEST_SUITE_P(
    AccelOps, GradientCheck, ::testing::ValuesIn(kCases),
    [](const ::testing::TestParamInfo<Case> &info) {
      std::string name = std::string(info.param.op).substr(6);
      return name;
    });

/// Ops whose VJP is a recipe, not a derivative (see the file comment), or
/// spans ranks: a one-process finite difference cannot perturb another
/// rank's operand. accel.all_reduce's VJP is checked across ranks by
/// tests/lit/run/ddp.test (synchronised batch norm trains on 2 and 4 ranks
/// as on one), accel.all_gather's (a reduce-scatter) by
/// tests/lit/run/fsdp.test (FSDP trains bit for bit as DDP does).
const std::set<std::string> kRecipeVjps = {
    "accel.scaled_matmul", "accel.all_reduce", "accel.all_gather"};

TEST(GradientCheckCoverage, EveryDifferentiableOpHasACase) {
  MLIRContext context;
  context.loadDialect<accel::AccelDialect>();
  std::set<std::string> covered;
  for (const Case &c : kCases)
    covered.insert(c.op);
  int differentiable = 0;
  for (RegisteredOperationName name : context.getRegisteredOperations()) {
    if (!name.hasInterface<accel::DifferentiableOpInterface>() ||
        kRecipeVjps.count(name.getStringRef().str()))
      continue;
    ++differentiable;
    EXPECT_TRUE(covered.count(name.getStringRef().str()))
        << name.getStringRef().str()
        << " states a VJP but has no finite-difference check in this file";
  }
  EXPECT_EQ(differentiable, static_cast<int>(covered.size()));
}

} // namespace
