//===- accel-import.cpp - TorchScript and torch.export to accel IR --------===//
//
//   accel-import MODEL.pt|MODEL.pt2 --input NAME=SHAPExTYPE [--input ...] -o OUT.mlir
//                [--params-out PARAMS.safetensors]
//                [--loss cross-entropy|mse --target NAME=SHAPExTYPE]
//                [--method forward]
//   accel-import --list-ops
//
// Outputs are written to temporary files and renamed into place, so a
// failed import leaves no partial file behind.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ExportedProgramImporter.h"
#include "compiler/import/GraphImporter.h"
#include "compiler/import/TorchScriptImporter.h"
#include "dialects/accel/AccelDialect.h"
#include "dialects/accel/AccelOps.h"
#include "runtime/io/Safetensors.h"
#include "compiler/lowering/CpuKernelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OperationSupport.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

using namespace llvm;

static cl::OptionCategory category("accel-import options");

static cl::opt<std::string> modelPath(cl::Positional,
                                      cl::desc("<model.pt|model.pt2>"),
                                      cl::cat(category));
static cl::list<std::string>
    inputs("input", cl::desc("A method input and its static shape, "
                             "NAME=SHAPExTYPE (e.g. x=128x784xf32, y=128xi64); "
                             "one per input, in any order"),
           cl::value_desc("NAME=SHAPExTYPE"), cl::cat(category));
static cl::opt<std::string> outputPath("o",
                                       cl::desc("Output MLIR file (required)"),
                                       cl::value_desc("OUT.mlir"),
                                       cl::cat(category));
static cl::opt<std::string>
    paramsOut("params-out",
              cl::desc("Write every parameter and buffer to this safetensors "
                       "file, named as named_parameters()/named_buffers()"),
              cl::value_desc("PARAMS.safetensors"), cl::cat(category));
static cl::opt<accel::LossKind> loss(
    "loss", cl::desc("Append a loss to a method that returns predictions"),
    cl::values(clEnumValN(accel::LossKind::CrossEntropy, "cross-entropy",
                          "torch.nn.functional.cross_entropy (mean)"),
               clEnumValN(accel::LossKind::Mse, "mse",
                          "torch.nn.functional.mse_loss (mean)")),
    cl::init(accel::LossKind::None), cl::cat(category));
static cl::opt<std::string>
    target("target", cl::desc("The loss target, NAME=SHAPExTYPE"),
           cl::value_desc("NAME=SHAPExTYPE"), cl::cat(category));
static cl::opt<std::string> method("method",
                                   cl::desc("The method to import"),
                                   cl::init("forward"), cl::cat(category));

static cl::opt<bool> listOps(
    "list-ops",
    cl::desc("Print every op the importer converts, with the ops it becomes "
             "and whether they have a VJP and a CPU kernel, as a Markdown "
             "table, and exit"),
    cl::cat(category));

static int fail(const Twine &message) {
  WithColor::error(errs(), "accel-import") << message << "\n";
  return 1;
}

static Expected<accel::io::DType> safetensorsType(const at::Tensor &t) {
  switch (t.scalar_type()) {
  case at::kFloat:
    return accel::io::DType::F32;
  case at::kBFloat16:
    return accel::io::DType::BF16;
  case at::kHalf:
    return accel::io::DType::F16;
  case at::kLong:
    return accel::io::DType::I64;
  case at::kBool:
    return accel::io::DType::Bool;
  default:
    return createStringError(inconvertibleErrorCode(),
                             "no safetensors dtype for " +
                                 std::string(c10::toString(t.scalar_type())));
  }
}

/// The coverage table of --list-ops (also docs/import.md's): one row per
/// op kind of the importer's table. "VJP" means every accel op it becomes
/// implements DifferentiableOpInterface (integer arith ops need none);
/// "CPU kernel" that accel-run's CPU driver runs each of them (the backward
/// ops a VJP makes are covered by the training tests, not listed here).
static void printOpTable(raw_ostream &os) {
  mlir::MLIRContext context;
  context.loadDialect<accel::AccelDialect, mlir::arith::ArithDialect>();
  const StringMap<accel::import::AtenOp> &table = accel::import::atenOps();
  std::vector<std::string> kinds;
  for (const auto &entry : table)
    kinds.push_back(entry.getKey().str());
  llvm::sort(kinds);
  os << "| op | becomes | VJP | CPU kernel |\n|---|---|---|---|\n";
  for (const std::string &kind : kinds) {
    const std::vector<std::string> &emits = table.find(kind)->second.emits;
    if (emits.empty()) {
      os << "| `" << kind << "` | nothing: answered at compile time or "
         << "passed through | not needed | not needed |\n";
      continue;
    }
    std::vector<std::string> noVjp, noKernel, shown;
    for (const std::string &name : emits) {
      shown.push_back("`" + name + "`");
      std::optional<mlir::RegisteredOperationName> op =
          mlir::RegisteredOperationName::lookup(name, &context);
      bool integerArith = StringRef(name).starts_with("arith.");
      if (!integerArith &&
          !(op && op->hasInterface<accel::DifferentiableOpInterface>()))
        noVjp.push_back("`" + name + "`");
      if (!accel::hasCpuKernel(name))
        noKernel.push_back("`" + name + "`");
    }
    auto status = [](const std::vector<std::string> &missing) {
      return missing.empty() ? std::string("yes")
                             : "no: " + join(missing, ", ");
    };
    os << "| `" << kind << "` | " << join(shown, ", ") << " | "
       << status(noVjp) << " | " << status(noKernel) << " |\n";
  }
}

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "accel-import: TorchScript and torch.export to accel IR\n\n"
      "Imports a module saved by torch.jit.script(...).save() or\n"
      "torch.jit.trace(...).save() (or from LibTorch C++), or a program\n"
      "saved by torch.export.save(torch.export.export(...), 'M.pt2'), as\n"
      "func.func @forward in the accel dialect.\n\n"
      "WARNING: a TorchScript file contains code. Loading it can make\n"
      "LibTorch do anything the model's code does; import only files from\n"
      "sources you trust. A .pt2 archive holds no code.\n");

  if (listOps) {
    printOpTable(outs());
    return 0;
  }
  if (modelPath.empty())
    return fail("no model given (accel-import MODEL.pt|MODEL.pt2 -o OUT.mlir)");
  if (outputPath.empty())
    return fail("no output given (-o OUT.mlir)");

  accel::ImportOptions options;
  options.modelPath = modelPath;
  options.method = method;
  options.loss = loss;
  for (const std::string &text : inputs) {
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(text);
    if (!spec)
      return fail(toString(spec.takeError()));
    options.inputs.push_back(*spec);
  }
  if (!target.empty()) {
    if (loss == accel::LossKind::None)
      return fail("--target needs --loss cross-entropy|mse");
    Expected<accel::InputSpec> spec = accel::InputSpec::parse(target);
    if (!spec)
      return fail(toString(spec.takeError()));
    options.target = *spec;
  }

  mlir::MLIRContext context;
  Expected<accel::ImportResult> result =
      accel::isExportedProgramPath(modelPath)
          ? accel::importExportedProgram(context, options)
          : accel::importTorchScript(context, options);
  if (!result)
    return fail(toString(result.takeError()));

  if (!paramsOut.empty()) {
    std::vector<at::Tensor> keep;
    std::vector<accel::io::TensorRef> tensors;
    for (const accel::ModuleState &s : result->state) {
      Expected<accel::io::DType> dtype = safetensorsType(s.value);
      if (!dtype)
        return fail(s.name + ": " + toString(dtype.takeError()));
      at::Tensor t = s.value.detach().contiguous().cpu();
      keep.push_back(t);
      tensors.push_back(
          {s.name, *dtype, t.sizes().vec(),
           ArrayRef<uint8_t>(static_cast<const uint8_t *>(t.data_ptr()),
                             t.numel() * t.element_size())});
    }
    if (Error e = accel::io::writeSafetensors(paramsOut, tensors,
                                              {{"format", "pt"}}))
      return fail(toString(std::move(e)));
  }

  if (Error e = writeToOutput(outputPath, [&](raw_ostream &os) {
        // Locations are part of the output: later errors cite the
        // TorchScript source line an op came from.
        result->module->print(
            os, mlir::OpPrintingFlags().enableDebugInfo(/*enable=*/true,
                                                        /*prettyForm=*/false));
        return Error::success();
      }))
    return fail("cannot write '" + outputPath + "': " + toString(std::move(e)));
  return 0;
}
