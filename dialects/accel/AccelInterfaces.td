//===- AccelInterfaces.td - accel op interfaces ------------*- tablegen -*-===//

#ifndef ACCEL_DIALECT_ACCELINTERFACES_TD
#define ACCEL_DIALECT_ACCELINTERFACES_TD

include "mlir/IR/OpBase.td"

def DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::accel";
  let description = [{
    An op that states its vector-Jacobian product (VJP): given the gradients
    of the loss with respect to its results, the ops that compute the
    gradients with respect to its operands. Reverse-mode autodiff
    (`accel-autodiff`) is generic over this interface.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the gradients of the operands at the builder's insertion
        point. `resultGrads` has one entry per result, null where the loss
        does not depend on that result; on success `operandGrads` has one
        entry per operand, null where the operand takes no gradient
        (integer indices, masks, seeds, statistics). Each gradient has its
        operand's type.
      }],
      "::mlir::LogicalResult", "buildVjp",
      (ins "::mlir::OpBuilder &":$builder,
           "::llvm::ArrayRef<::mlir::Value>":$resultGrads,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandGrads)>,
  ];
}

#endif // ACCEL_DIALECT_ACCELINTERFACES_TD
