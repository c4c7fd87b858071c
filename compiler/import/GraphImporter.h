//===- GraphImporter.h - state of one graph import -------------*- C++ -*-===//
//
// Shared between the lowering (GraphLowering.cpp) and the aten op
// converters (AtenOps.cpp): what each graph value has become — an MLIR
// tensor, a compile-time constant (numbers, lists, strings, constant
// tensors), or a reference to a submodule — and helpers to read op
// arguments.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_GRAPHIMPORTER_H
#define ACCEL_COMPILER_IMPORT_GRAPHIMPORTER_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringMap.h"

#include <torch/csrc/jit/ir/ir.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace accel::import {

/// The location of a node: its TorchScript source (file:line:col) wrapped in
/// its module scope name when it has one; `modelPath` when it has neither.
mlir::Location nodeLocation(mlir::MLIRContext *context,
                            const torch::jit::Node *node,
                            llvm::StringRef modelPath);

class GraphImporter {
public:
  GraphImporter(mlir::MLIRContext &context, mlir::Block &body,
                std::string modelPath);

  mlir::OpBuilder &builder() { return b; }
  mlir::MLIRContext *getContext() { return b.getContext(); }

  mlir::Location loc(const torch::jit::Node *node) {
    if (locations)
      if (auto it = locations->find(node); it != locations->end())
        return it->second;
    return nodeLocation(getContext(), node, modelPath);
  }
  /// Locations of nodes that carry no TorchScript source range.
  void setLocations(
      const llvm::DenseMap<const torch::jit::Node *, mlir::Location> *map) {
    locations = map;
  }

  /// Whatever a TorchScript value stands for, copied out so that it
  /// survives the value being rebound (loop bodies convert repeatedly).
  struct Binding {
    std::optional<mlir::Value> tensor;
    std::optional<c10::IValue> constant;
    std::optional<std::vector<mlir::Value>> list;
  };
  Binding lookup(const torch::jit::Value *v) const;
  void bind(const torch::jit::Value *v, const Binding &binding);

  // What TorchScript values stand for.
  void setTensor(const torch::jit::Value *v, mlir::Value value);
  void setConstant(const torch::jit::Value *v, c10::IValue value);
  void setTensorList(const torch::jit::Value *v,
                     std::vector<mlir::Value> values);
  bool isTensor(const torch::jit::Value *v) const;
  const c10::IValue *constant(const torch::jit::Value *v) const;
  const std::vector<mlir::Value> *tensorList(const torch::jit::Value *v) const;

  /// The MLIR tensor for `v`; a constant tensor or number is materialised as
  /// an arith.constant (numbers with `like`'s element type, or f32).
  mlir::FailureOr<mlir::Value> tensor(const torch::jit::Node *node,
                                      const torch::jit::Value *v,
                                      mlir::Type like = nullptr);
  /// Like tensor(), but None gives a null value.
  mlir::FailureOr<mlir::Value> optionalTensor(const torch::jit::Node *node,
                                              const torch::jit::Value *v);

  // Compile-time arguments; each fails with an error at the node when the
  // value is not a constant of that kind.
  mlir::FailureOr<int64_t> intArg(const torch::jit::Node *node, size_t i);
  mlir::FailureOr<double> doubleArg(const torch::jit::Node *node, size_t i);
  mlir::FailureOr<bool> boolArg(const torch::jit::Node *node, size_t i);
  mlir::FailureOr<std::string> stringArg(const torch::jit::Node *node,
                                         size_t i);
  mlir::FailureOr<std::vector<int64_t>> intListArg(const torch::jit::Node *node,
                                                   size_t i);
  bool isNone(const torch::jit::Node *node, size_t i) const;

  /// Normalises a PyTorch dimension (negative counts from the end).
  mlir::FailureOr<int64_t> dim(const torch::jit::Node *node, int64_t d,
                               int64_t rank);

  /// A rank-0 constant tensor holding `v`.
  mlir::Value scalar(mlir::Location loc, double v, mlir::Type elementType);

  /// The step's random seed argument, created on first use.
  mlir::Value seed();
  /// The seed argument if an op used it, else null.
  mlir::Value seedArgument() const { return seedArg; }
  /// A fresh stream number for an op that draws random numbers.
  int64_t nextRandomStream() { return randomStreams++; }

  /// Records that the buffer read through `buffer` now holds `value` (a
  /// BatchNorm running statistic, say); the function returns it.
  void updateBuffer(const torch::jit::Value *buffer, mlir::Value value);

  /// Buffer arguments by TorchScript value, and their current values.
  llvm::DenseMap<const torch::jit::Value *, std::string> bufferOf;
  llvm::StringMap<mlir::Value> bufferValues;

  mlir::LogicalResult error(const torch::jit::Node *node,
                            const llvm::Twine &message);

private:
  mlir::OpBuilder b;
  mlir::Block &body;
  std::string modelPath;
  llvm::DenseMap<const torch::jit::Value *, mlir::Value> tensors;
  llvm::DenseMap<const torch::jit::Value *, c10::IValue> constants;
  llvm::DenseMap<const torch::jit::Value *, std::vector<mlir::Value>> lists;
  mlir::Value seedArg;
  int64_t randomStreams = 0;
  const llvm::DenseMap<const torch::jit::Node *, mlir::Location> *locations =
      nullptr;
};

/// Converts one aten node whose inputs are all available; emits an error at
/// the node and fails when its arguments are invalid.
using Converter = std::function<mlir::LogicalResult(GraphImporter &,
                                                    const torch::jit::Node *)>;

/// One op kind the importer converts, and the ops its conversion may emit
/// besides arith.constant (checked on every conversion, so the list that
/// accel-import --list-ops prints from it stays true).
struct AtenOp {
  Converter convert;
  std::vector<std::string> emits;
};

/// The ops accel imports, by qualified name ("aten::linear").
const llvm::StringMap<AtenOp> &atenOps();

/// The MLIR element type for a LibTorch dtype, or null if accel has none.
mlir::Type elementTypeFor(mlir::MLIRContext *context, c10::ScalarType dtype);

} // namespace accel::import

#endif // ACCEL_COMPILER_IMPORT_GRAPHIMPORTER_H
