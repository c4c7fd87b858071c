//===- train-parity.cpp - training steps vs. torch.optim ------------------===//
//
//   train-parity --model M.pt --mlir STEP.mlir --params M.safetensors
//                --input NAME=SHAPExTYPE ... [--loss ... --target ...]
//                --optimizer sgd|adam|adamw [--lr --momentum --dampening
//                --nesterov --beta1 --beta2 --eps --weight-decay
//                --clip-norm --grad-accum K] [--steps 20] [--rtol 1e-5]
//
// Runs --steps training steps twice on the same batches: accel's
// @train_step on the reference interpreter (state fed back from its named
// results), and LibTorch — forward, (loss / K).backward() per micro-batch,
// torch::nn::utils::clip_grad_norm_, and the torch::optim optimizer with
// the same options. Compares every step's loss and the final parameters
// and buffers (relative error max|accel - LibTorch| / max|LibTorch|).
// Parameters whose first gradient is zero up to fp32 rounding are held to
// the drift the optimizer allows instead (2 * lr * steps).
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

#include <torch/script.h>
#include <torch/torch.h>

#include <map>
#include <set>

using namespace llvm;

static cl::opt<std::string> model("model", cl::Required);
static cl::opt<std::string> mlirPath("mlir", cl::Required);
static cl::opt<std::string> params("params", cl::Required);
static cl::list<std::string> inputs("input", cl::desc("NAME=SHAPExTYPE of one micro-batch"));
static cl::opt<std::string> loss("loss");
static cl::opt<std::string> target("target");
static cl::opt<std::string> optimizer("optimizer", cl::Required);
static cl::opt<double> lr("lr", cl::init(1e-3));
static cl::opt<double> momentum("momentum", cl::init(0.0));
static cl::opt<double> dampening("dampening", cl::init(0.0));
static cl::opt<bool> nesterov("nesterov", cl::init(false));
static cl::opt<double> beta1("beta1", cl::init(0.9));
static cl::opt<double> beta2("beta2", cl::init(0.999));
static cl::opt<double> eps("eps", cl::init(1e-8));
static cl::opt<double> weightDecay("weight-decay", cl::init(-1.0));
static cl::opt<double> clipNorm("clip-norm", cl::init(0.0));
static cl::opt<int64_t> gradAccum("grad-accum", cl::init(1));
static cl::opt<int64_t> steps("steps", cl::init(20));
static cl::opt<int64_t> intBound("int-bound", cl::init(10));
static cl::opt<double> rtol("rtol", cl::init(1e-5));

static int fail(const Twine &message) {
  errs() << "train-parity: " << message << "\n";
  return 1;
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "training steps vs. torch.optim\n");
  double wd = weightDecay >= 0 ? weightDecay
                               : (optimizer == "adamw" ? 1e-2 : 0.0);

  // The batches: steps x micro-batches x named inputs.
  std::vector<accel::InputSpec> specs;
  for (const std::string &text : inputs) {
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(text);
    if (!spec)
      return fail(toString(spec.takeError()));
    specs.push_back(*spec);
  }
  if (!target.empty()) {
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(target);
    if (!spec)
      return fail(toString(spec.takeError()));
    specs.push_back(*spec);
  }
  at::manual_seed(1);
  std::vector<std::vector<std::map<std::string, at::Tensor>>> batches(steps);
  for (auto &step : batches)
    for (int64_t m = 0; m < gradAccum; ++m) {
      std::map<std::string, at::Tensor> micro;
      for (const accel::InputSpec &s : specs)
        micro[s.name] = accel::parity::draw(s, intBound);
      step.push_back(micro);
    }

  // accel: @train_step on the reference interpreter.
  mlir::MLIRContext context;
  context.loadDialect<accel::AccelDialect, mlir::func::FuncDialect,
                      mlir::arith::ArithDialect>();
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceFile<mlir::ModuleOp>(mlirPath, &context);
  if (!module)
    return fail("cannot parse " + mlirPath);
  auto step = module->lookupSymbol<mlir::func::FuncOp>("train_step");
  if (!step)
    return fail(mlirPath + " has no @train_step");
  Expected<accel::io::SafetensorsFile> file =
      accel::io::SafetensorsFile::read(params);
  if (!file)
    return fail(toString(file.takeError()));
  std::map<std::string, at::Tensor> state;
  for (const std::string &name : file->names()) {
    state[name] = accel::parity::fromSafetensors(*file->find(name));
  }
  using accel::AccelDialect;
  std::vector<double> accelLosses;
  for (int64_t s = 0; s < steps; ++s) {
    std::vector<at::Tensor> args;
    for (unsigned i = 0; i < step.getNumArguments(); ++i) {
      auto role = [&](StringRef r) {
        auto a = step.getArgAttrOfType<mlir::StringAttr>(i, r);
        return a ? a.getValue().str() : std::string();
      };
      if (std::string n = role(AccelDialect::kParamAttrName); !n.empty())
        args.push_back(state.at(n));
      else if (std::string n = role(AccelDialect::kBufferAttrName); !n.empty())
        args.push_back(state.at(n));
      else if (std::string n = role(AccelDialect::kInputAttrName); !n.empty()) {
        std::vector<at::Tensor> micro;
        for (auto &m : batches[s])
          micro.push_back(m.at(n));
        args.push_back(gradAccum > 1 ? at::stack(micro) : micro[0]);
      } else if (std::string n = role(AccelDialect::kOptStateAttrName); !n.empty()) {
        if (!state.count(n)) {
          // Optimizer state starts at zero, shaped like its parameter.
          auto type = llvm::cast<mlir::RankedTensorType>(step.getArgumentTypes()[i]);
          state[n] = at::zeros(std::vector<int64_t>(type.getShape().begin(),
                                                    type.getShape().end()));
        }
        args.push_back(state.at(n));
      } else if (step.getArgAttr(i, AccelDialect::kSeedAttrName))
        args.push_back(at::scalar_tensor(s, at::kLong));
      else if (step.getArgAttr(i, AccelDialect::kStepAttrName))
        args.push_back(at::scalar_tensor(s + 1, at::kLong));
      else if (step.getArgAttr(i, AccelDialect::kLrAttrName))
        args.push_back(at::scalar_tensor(lr.getValue(), at::kFloat));
      else
        return fail("argument #" + Twine(i) + " of @train_step has no role");
    }
    Expected<std::vector<at::Tensor>> results =
        accel::reference::interpret(step, args);
    if (!results)
      return fail(toString(results.takeError()));
    accelLosses.push_back((*results)[0].item<double>());
    for (unsigned r = 1; r < step.getNumResults(); ++r)
      for (StringRef role : {AccelDialect::kParamAttrName,
                             AccelDialect::kBufferAttrName,
                             AccelDialect::kOptStateAttrName})
        if (auto n = step.getResultAttrOfType<mlir::StringAttr>(r, role))
          state[n.getValue().str()] = (*results)[r];
  }

  // LibTorch: the same batches through autograd and torch::optim.
  torch::jit::Module reference = torch::jit::load(model);
  std::vector<std::pair<std::string, at::Tensor>> named;
  std::vector<at::Tensor> unique;
  for (const auto &p : reference.named_parameters(/*recurse=*/true)) {
    named.push_back({p.name, p.value});
    if (llvm::none_of(unique, [&](const at::Tensor &u) { return u.is_same(p.value); }))
      unique.push_back(p.value);
  }
  std::unique_ptr<torch::optim::Optimizer> opt;
  if (optimizer == "sgd")
    opt = std::make_unique<torch::optim::SGD>(
        unique, torch::optim::SGDOptions(lr).momentum(momentum)
                    .dampening(dampening).nesterov(nesterov).weight_decay(wd));
  else if (optimizer == "adam")
    opt = std::make_unique<torch::optim::Adam>(
        unique, torch::optim::AdamOptions(lr).betas({beta1, beta2}).eps(eps)
                    .weight_decay(wd));
  else
    opt = std::make_unique<torch::optim::AdamW>(
        unique, torch::optim::AdamWOptions(lr).betas({beta1, beta2}).eps(eps)
                    .weight_decay(wd));
  const c10::FunctionSchema &schema =
      reference.get_method("forward").function().getSchema();
  std::vector<double> torchLosses;
  std::set<std::string> noiseGradient;
  for (int64_t s = 0; s < steps; ++s) {
    opt->zero_grad();
    double total = 0;
    for (auto &micro : batches[s]) {
      std::vector<c10::IValue> in;
      for (size_t i = 1; i < schema.arguments().size(); ++i)
        in.push_back(micro.at(schema.arguments()[i].name()));
      at::Tensor l = reference.forward(in).toTensor();
      if (loss == "cross-entropy")
        l = at::cross_entropy_loss(l, micro.at(specs.back().name));
      else if (loss == "mse")
        l = at::mse_loss(l, micro.at(specs.back().name));
      (l / static_cast<double>(gradAccum)).backward();
      total += l.item<double>();
    }
    if (s == 0) {
      // Parameters whose gradient is zero in exact arithmetic (a key bias
      // under softmax, a conv bias before BatchNorm) get fp32 noise as
      // gradient; Adam normalises it into updates of size ~lr in a
      // direction no two implementations share.
      double largest = 0;
      for (const at::Tensor &p : unique)
        if (p.grad().defined())
          largest = std::max(largest, p.grad().abs().max().item<double>());
      for (auto &[name, p] : named)
        if (!p.grad().defined() ||
            p.grad().abs().max().item<double>() < 1e-6 * largest)
          noiseGradient.insert(name);
    }
    torchLosses.push_back(total / gradAccum);
    if (clipNorm > 0)
      torch::nn::utils::clip_grad_norm_(unique, clipNorm);
    opt->step();
  }

  bool ok = true;
  double worstLoss = 0;
  for (int64_t s = 0; s < steps; ++s)
    worstLoss = std::max(worstLoss, std::abs(accelLosses[s] - torchLosses[s]) /
                                        std::abs(torchLosses[s]));
  ok &= worstLoss <= rtol;
  outs() << (worstLoss <= rtol ? "ok   " : "FAIL ") << "losses of " << steps
         << " steps: largest relative error " << format("%.3g", worstLoss)
         << " (last: accel " << format("%.9g", accelLosses.back())
         << ", LibTorch " << format("%.9g", torchLosses.back()) << ")\n";
  double worstParam = 0;
  std::string worstName;
  for (auto &[name, value] : named) {
    if (!state.count(name))
      continue; // a tied alias, kept under its first name
    if (noiseGradient.count(name)) {
      // Bounded by the drift the optimizer allows: SGD moves it by
      // lr * noise, Adam by at most ~lr per step.
      double drift = (state.at(name).to(at::kDouble) - value.detach().to(at::kDouble))
                         .abs().max().item<double>();
      bool pass = drift <= 2 * lr * steps;
      ok &= pass;
      outs() << (pass ? "ok   " : "FAIL ") << name
             << ": gradient zero up to rounding; parameters differ by "
             << format("%.3g", drift) << " (bound 2 * lr * steps = "
             << format("%.3g", 2 * lr * steps) << ")\n";
      continue;
    }
    double err = accel::parity::relativeError(state.at(name), value.detach());
    if (err > worstParam) {
      worstParam = err;
      worstName = name;
    }
  }
  ok &= worstParam <= rtol;
  outs() << (worstParam <= rtol ? "ok   " : "FAIL ")
         << "parameters after " << steps << " steps: largest relative error "
         << format("%.3g", worstParam) << (worstName.empty() ? "" : " (")
         << worstName << (worstName.empty() ? "" : ")") << "\n";
  for (const auto &b : reference.named_buffers(/*recurse=*/true))
    if (state.count(b.name) && b.value.is_floating_point()) {
      double err = accel::parity::relativeError(state.at(b.name), b.value);
      if (err > rtol) {
        ok = false;
        outs() << "FAIL buffer " << b.name << ": relative error "
               << format("%.3g", err) << "\n";
      }
    }
  outs() << (ok ? "PASS" : "FAIL") << ": " << optimizer << ", " << steps
         << " steps within rtol " << rtol << "\n";
  return ok ? 0 : 1;
}
