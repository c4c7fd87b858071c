//===- OpInference.h - run accel result-type inference in tests -*- C++ -*-===//
//
// Builds accel ops from operand types and attributes and runs their
// result-type inference, capturing diagnostics instead of printing them, so
// tests can compare inferred shapes (or the error) with a reference.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_TESTS_UNIT_OPINFERENCE_H
#define ACCEL_TESTS_UNIT_OPINFERENCE_H

#include "dialects/accel/AccelOps.h"
#include "mlir/IR/Block.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"

#include <optional>
#include <string>
#include <vector>

namespace accel::testing {

class OpInference {
public:
  OpInference() : builder(&context), handler(&context, [this](mlir::Diagnostic &d) {
    lastError = d.str();
    return mlir::success();
  }) {
    context.loadDialect<AccelDialect>();
  }

  mlir::MLIRContext &getContext() { return context; }
  mlir::OpBuilder &getBuilder() { return builder; }

  /// A fresh value of type tensor<shape x elementType> (f32 by default).
  mlir::Value value(llvm::ArrayRef<int64_t> shape,
                    mlir::Type elementType = nullptr) {
    if (!elementType)
      elementType = builder.getF32Type();
    return values.addArgument(mlir::RankedTensorType::get(shape, elementType),
                              builder.getUnknownLoc());
  }

  /// Runs `opName`'s inference on these operands and attributes: the
  /// inferred shape of result `resultIndex`, or nullopt with the diagnostic
  /// kept in lastError.
  std::optional<std::vector<int64_t>>
  inferShape(llvm::StringRef opName, mlir::ValueRange operands,
             llvm::ArrayRef<mlir::NamedAttribute> attributes = {},
             unsigned numResults = 1, unsigned resultIndex = 0) {
    lastError.clear();
    mlir::OperationState state(builder.getUnknownLoc(), opName);
    state.addOperands(operands);
    state.addAttributes(attributes);
    state.addTypes(llvm::SmallVector<mlir::Type>(numResults,
                                                 builder.getNoneType()));
    mlir::Operation *op = mlir::Operation::create(state);
    llvm::SmallVector<mlir::Type> types;
    mlir::LogicalResult inferred =
        llvm::cast<mlir::InferTypeOpInterface>(op).inferReturnTypes(
            &context, op->getLoc(), op->getOperands(),
            op->getRawDictionaryAttrs(), op->getPropertiesStorage(),
            op->getRegions(), types);
    op->destroy();
    if (mlir::failed(inferred))
      return std::nullopt;
    auto shape = llvm::cast<mlir::RankedTensorType>(types[resultIndex]).getShape();
    return std::vector<int64_t>(shape.begin(), shape.end());
  }

  std::string lastError;

private:
  mlir::MLIRContext context;
  mlir::OpBuilder builder;
  mlir::ScopedDiagnosticHandler handler;
  mlir::Block values;
};

} // namespace accel::testing

#endif // ACCEL_TESTS_UNIT_OPINFERENCE_H
