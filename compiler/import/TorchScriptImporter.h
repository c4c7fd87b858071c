//===- TorchScriptImporter.h - TorchScript to the accel dialect -*- C++ -*-===//
//
// Loads a TorchScript module with LibTorch and builds `func.func @forward`
// in the accel dialect: parameters and buffers become arguments named by
// their module paths, the method's tensor arguments become inputs with the
// static shapes the caller gives, and each aten op becomes accel ops located
// at its TorchScript source.
//
// A TorchScript file is code: loading one runs no Python, but it can make
// LibTorch do anything a model can. Import only files from trusted sources.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_TORCHSCRIPTIMPORTER_H
#define ACCEL_COMPILER_IMPORT_TORCHSCRIPTIMPORTER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/OwningOpRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <ATen/Tensor.h>

#include <optional>
#include <string>
#include <vector>

namespace accel {

/// A statically shaped input: `name=DIMSxTYPE`, e.g. `x=128x784xf32`,
/// `y=128xi64`, `s=f32` (a scalar).
struct InputSpec {
  std::string name;
  std::vector<int64_t> shape;
  std::string elementType; // MLIR spelling: f32, bf16, f16, i64, i1

  static llvm::Expected<InputSpec> parse(llvm::StringRef text);
};

enum class LossKind { None, CrossEntropy, Mse };

struct ImportOptions {
  std::string modelPath;
  std::string method = "forward";
  std::vector<InputSpec> inputs;
  /// Appended to a method that returns logits or predictions.
  LossKind loss = LossKind::None;
  std::optional<InputSpec> target;
};

/// A parameter or buffer, named as the module's named_parameters() and
/// named_buffers() name it.
struct ModuleState {
  std::string name;
  at::Tensor value;
  bool trainable;
};

struct ImportResult {
  mlir::OwningOpRef<mlir::ModuleOp> module;
  std::vector<ModuleState> state;
};

/// Imports `options.method` of the TorchScript file. Errors (an unreadable
/// or corrupt archive, a missing method, inputs that do not match the
/// signature, unsupported ops, shapes an op rejects) come back as one
/// llvm::Error whose message names the problem and its source location;
/// unsupported ops are listed all at once, each kind with where it occurs.
llvm::Expected<ImportResult> importTorchScript(mlir::MLIRContext &context,
                                               const ImportOptions &options);

} // namespace accel

#endif // ACCEL_COMPILER_IMPORT_TORCHSCRIPTIMPORTER_H
