//===- GraphLowering.h - a front end's graph to func.func @forward -*- C++ -*-===//
//
// Both front ends read a model into the same form — a LibTorch graph of
// aten ops, the parameters and buffers it reads, its tensor inputs and the
// value it returns — and share everything after that: the check that every
// op is importable, the conversion of each aten op through one table
// (AtenOps.cpp), compile-time evaluation of what does not depend on a
// runtime tensor, the appended loss and the function's signature.
//
// TorchScriptImporter.cpp reads TorchScript archives (the graph is the
// method's, inlined); ExportedProgramImporter.cpp reads torch.export
// archives (the graph is built from the serialized program's nodes).
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_GRAPHLOWERING_H
#define ACCEL_COMPILER_IMPORT_GRAPHLOWERING_H

#include "compiler/import/TorchScriptImporter.h"

#include "mlir/IR/Location.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/Error.h"

#include <torch/csrc/jit/ir/ir.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace accel::import {

/// What a front end read from a model file.
struct FrontEndGraph {
  std::shared_ptr<torch::jit::Graph> graph;
  /// Parameters, then buffers, as named_parameters()/named_buffers() name
  /// them; each becomes an argument of @forward in this order.
  std::vector<ModuleState> state;
  /// Graph values that read a parameter or buffer, by its name.
  llvm::DenseMap<const torch::jit::Value *, std::string> stateReads;
  /// The method's inputs in order, with their names.
  std::vector<std::pair<const torch::jit::Value *, std::string>> inputs;
  /// The value @forward returns (the loss, or predictions with --loss).
  const torch::jit::Value *result = nullptr;
  /// Buffers the graph returns new values for, besides those updated by
  /// in-place ops on them (torch.export's buffer mutations).
  std::vector<std::pair<std::string, const torch::jit::Value *>> bufferResults;
  /// Where each node came from, for nodes without a TorchScript source
  /// range (a torch.export node's stack trace and module path).
  llvm::DenseMap<const torch::jit::Node *, mlir::Location> locations;
};

/// Builds `func.func @forward` from what a front end read. Errors (ops
/// without a converter, listed all at once with their locations; inputs
/// that do not match --input; shapes an op rejects) come back as one
/// llvm::Error.
llvm::Expected<ImportResult> lowerGraph(mlir::MLIRContext &context,
                                        const ImportOptions &options,
                                        FrontEndGraph &front);

llvm::Error makeError(const llvm::Twine &message);

/// The first non-blank line of a LibTorch error (the rest is a C++
/// backtrace; TorchScript's parse errors start with a newline).
std::string firstLine(const std::string &message);

/// Checks that `t`'s sizes, strides and offset stay inside its storage and
/// that the storage holds data on the CPU, before anything reads it.
llvm::Error checkTensorGeometry(const at::Tensor &t, const std::string &what);

} // namespace accel::import

#endif // ACCEL_COMPILER_IMPORT_GRAPHLOWERING_H
