//===- torch-parity.cpp - accel IR vs. LibTorch, numerically --------------===//
//
//   torch-parity --model M.pt --mlir M.mlir --params M.safetensors
//                --input NAME=SHAPExTYPE ... [--loss cross-entropy|mse
//                --target NAME=SHAPExTYPE] [--function forward]
//                [--int-bound N] [--seed S] [--rtol 1e-5]
//
// Draws inputs, runs the TorchScript module with LibTorch (and autograd),
// evaluates an accel function (the imported @forward, or @forward_grad from
// accel-autodiff) with the reference interpreter on the parameters that
// accel-import wrote, and compares the loss, every buffer update and every
// gradient (results marked accel.grad) with LibTorch's. Exits non-zero,
// printing the errors, when any differs by more than rtol, measured as
// max|accel - LibTorch| / max|LibTorch|.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/TorchScriptImporter.h"
#include "dialects/accel/AccelDialect.h"
#include "runtime/io/Safetensors.h"
#include "tests/parity/Tensors.h"
#include "tests/reference/ReferenceInterpreter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <ATen/ATen.h>
#include <torch/script.h>

#include <map>

using namespace llvm;

static cl::opt<std::string> model("model", cl::Required, cl::desc("TorchScript file"));
static cl::opt<std::string> mlirPath("mlir", cl::Required, cl::desc("Imported IR"));
static cl::opt<std::string> params("params", cl::Required,
                                   cl::desc("Parameters written by accel-import"));
static cl::list<std::string> inputs("input", cl::desc("NAME=SHAPExTYPE"));
static cl::opt<std::string> loss("loss", cl::desc("cross-entropy or mse"));
static cl::opt<std::string> target("target", cl::desc("NAME=SHAPExTYPE"));
static cl::opt<int64_t> intBound("int-bound", cl::init(10),
                                 cl::desc("Integer inputs are drawn from [0, N)"));
static cl::opt<uint64_t> seed("seed", cl::init(0));
static cl::opt<double> rtol("rtol", cl::init(1e-5));
static cl::opt<std::string> function("function", cl::init("forward"),
                                     cl::desc("The accel function to evaluate"));

static int fail(const Twine &message) {
  errs() << "torch-parity: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "imported IR vs. LibTorch\n");
  at::manual_seed(seed);

  std::map<std::string, at::Tensor> values;
  for (const std::string &text : inputs) {
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(text);
    if (!spec)
      return fail(toString(spec.takeError()));
    values[spec->name] = accel::parity::draw(*spec, intBound);
  }
  std::optional<std::string> targetName;
  if (!target.empty()) {
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(target);
    if (!spec)
      return fail(toString(spec.takeError()));
    values[spec->name] = accel::parity::draw(*spec, intBound);
    targetName = spec->name;
  }

  // The imported function on the reference interpreter.
  mlir::MLIRContext context;
  context.loadDialect<accel::AccelDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(mlirPath, &context);
  if (!module)
    return fail("cannot parse " + mlirPath);
  auto forward = module->lookupSymbol<mlir::func::FuncOp>(function);
  if (!forward)
    return fail(mlirPath + " has no @" + function);
  Expected<accel::io::SafetensorsFile> state =
      accel::io::SafetensorsFile::read(params);
  if (!state)
    return fail(toString(state.takeError()));
  std::vector<at::Tensor> args;
  for (unsigned i = 0; i < forward.getNumArguments(); ++i) {
    std::string name;
    for (StringRef role : {accel::AccelDialect::kParamAttrName,
                           accel::AccelDialect::kBufferAttrName})
      if (auto attr = forward.getArgAttrOfType<mlir::StringAttr>(i, role))
        if (const auto *t = state->find(attr.getValue()))
          args.push_back(accel::parity::fromSafetensors(*t));
    if (auto attr = forward.getArgAttrOfType<mlir::StringAttr>(
            i, accel::AccelDialect::kInputAttrName))
      args.push_back(values.at(attr.getValue().str()));
    if (forward.getArgAttr(i, accel::AccelDialect::kSeedAttrName))
      args.push_back(at::scalar_tensor(0, at::kLong));
    if (args.size() != i + 1)
      return fail("no value for argument #" + Twine(i));
  }
  Expected<std::vector<at::Tensor>> ours = accel::reference::interpret(forward, args);
  if (!ours)
    return fail(toString(ours.takeError()));

  // The same step with LibTorch.
  torch::jit::Module reference = torch::jit::load(model);
  std::vector<c10::IValue> torchInputs;
  const c10::FunctionSchema &schema = reference.get_method("forward").function().getSchema();
  for (size_t i = 1; i < schema.arguments().size(); ++i) {
    std::string name = schema.arguments()[i].name();
    if (!values.count(name))
      return fail("no --input for '" + name + "'");
    torchInputs.push_back(values.at(name));
  }
  at::Tensor expectedLoss = reference.forward(torchInputs).toTensor();
  if (loss == "cross-entropy")
    expectedLoss = at::cross_entropy_loss(expectedLoss, values.at(*targetName));
  else if (loss == "mse")
    expectedLoss = at::mse_loss(expectedLoss, values.at(*targetName));

  // Gradients of the loss, as LibTorch's autograd computes them.
  bool wantGrads = false;
  for (unsigned i = 1; i < forward.getNumResults(); ++i)
    wantGrads |= static_cast<bool>(
        forward.getResultAttr(i, accel::AccelDialect::kGradAttrName));
  std::map<std::string, at::Tensor> torchGrads;
  if (wantGrads) {
    expectedLoss.backward();
    for (const auto &p : reference.named_parameters(/*recurse=*/true))
      torchGrads[p.name] =
          p.value.grad().defined() ? p.value.grad() : at::zeros_like(p.value);
  }

  bool ok = true;
  auto check = [&](const std::string &what, const at::Tensor &a,
                   const at::Tensor &e) {
    if (a.sizes() != e.sizes()) {
      outs() << "FAIL " << what << ": shape differs\n";
      ok = false;
      return;
    }
    double err = accel::parity::relativeError(a, e);
    bool pass = err <= rtol;
    ok &= pass;
    outs() << (pass ? "ok   " : "FAIL ") << what << ": relative error "
           << format("%.3g", err);
    if (a.numel() == 1)
      outs() << " (accel " << format("%.9g", a.item<double>()) << ", LibTorch "
             << format("%.9g", e.item<double>()) << ")";
    outs() << "\n";
  };
  check("loss", (*ours)[0], expectedLoss);
  std::map<std::string, at::Tensor> buffers;
  for (const auto &b : reference.named_buffers(/*recurse=*/true))
    buffers[b.name] = b.value;
  // A gradient that is zero in exact arithmetic (a conv bias followed by
  // BatchNorm, whose mean subtraction cancels it) comes out of both
  // implementations as fp32 rounding noise, ~1e-7 of the model's largest
  // gradient. Such gradients are compared against that scale instead of
  // their own.
  double largestGrad = 0;
  for (const auto &[name, g] : torchGrads)
    largestGrad = std::max(largestGrad, g.abs().max().item<double>());
  auto checkGrad = [&](const std::string &name, const at::Tensor &a,
                       const at::Tensor &e) {
    double own = e.abs().max().item<double>();
    if (own >= 1e-6 * largestGrad)
      return check("grad " + name, a, e);
    double err = (a.to(at::kDouble) - e.to(at::kDouble)).abs().max().item<double>() /
                 std::max(largestGrad, 1e-30);
    bool pass = err <= rtol;
    ok &= pass;
    outs() << (pass ? "ok   " : "FAIL ") << "grad " << name
           << ": zero up to rounding (largest " << format("%.3g", own)
           << "), error relative to the model's largest gradient "
           << format("%.3g", err) << "\n";
  };

  unsigned checkedBuffers = 0, checkedGrads = 0;
  for (unsigned i = 1; i < forward.getNumResults(); ++i) {
    if (auto grad = forward.getResultAttrOfType<mlir::StringAttr>(
            i, accel::AccelDialect::kGradAttrName)) {
      std::string name = grad.getValue().str();
      if (!torchGrads.count(name))
        return fail("result #" + Twine(i) + " names no parameter of the module");
      checkGrad(name, (*ours)[i], torchGrads.at(name));
      ++checkedGrads;
      continue;
    }
    auto name = forward.getResultAttrOfType<mlir::StringAttr>(
        i, accel::AccelDialect::kBufferAttrName);
    if (!name || !buffers.count(name.getValue().str()))
      return fail("result #" + Twine(i) + " names no buffer of the module");
    check(name.getValue().str(), (*ours)[i], buffers.at(name.getValue().str()));
    ++checkedBuffers;
  }
  outs() << (ok ? "PASS" : "FAIL") << ": loss, " << checkedGrads
         << " gradient(s) and " << checkedBuffers
         << " buffer update(s) within rtol " << rtol << "\n";
  return ok ? 0 : 1;
}
