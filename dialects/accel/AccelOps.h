//===- AccelOps.h - accel dialect ops ---------------------------*- C++ -*-===//

#ifndef ACCEL_DIALECTS_ACCEL_ACCELOPS_H
#define ACCEL_DIALECTS_ACCEL_ACCELOPS_H

#include "dialects/accel/AccelDialect.h"
#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "dialects/accel/AccelInterfaces.h.inc"

namespace accel::detail {
/// An adaptor over `properties` (which may be null or lack attributes the
/// caller did not set) with every default-valued attribute filled in.
template <typename OpTy>
typename OpTy::Adaptor
adaptorWithDefaults(mlir::MLIRContext *context, mlir::ValueRange operands,
                    mlir::DictionaryAttr attributes,
                    mlir::OpaqueProperties properties,
                    mlir::RegionRange regions) {
  using Properties = typename OpTy::Properties;
  Properties filled =
      properties ? *properties.as<Properties *>() : Properties{};
  OpTy::populateDefaultProperties(
      mlir::OperationName(OpTy::getOperationName(), context), filled);
  return typename OpTy::Adaptor(operands, attributes, filled, regions);
}

/// Verifies an op by running its result-type inference at its location; the
/// inference reports the first shape rule the operands break.
template <typename OpTy>
llvm::LogicalResult verifyByInference(OpTy op) {
  llvm::SmallVector<mlir::Type> types;
  return OpTy::inferReturnTypes(op.getContext(), op.getLoc(),
                                typename OpTy::Adaptor(op), types);
}
} // namespace accel::detail

#define GET_OP_CLASSES
#include "dialects/accel/AccelOps.h.inc"

namespace accel {
/// A transpose of the last two dimensions whose every user is a matrix
/// product: the CPU driver's products read its input with a transpose flag
/// instead (BLAS does it for free) and the transpose is not run, so memory
/// planning treats its result as its input's bytes (a view) that keeps the
/// input live.
bool isAbsorbedTranspose(TransposeOp t);

/// The elements of one rank's shard of a tensor of `elements` elements
/// split over `ranks` ranks, as reduce_scatter, all_gather and local_shard
/// split it: ceil(elements / ranks), the last shards padded with zeros.
inline int64_t shardElements(int64_t elements, int64_t ranks) {
  return (elements + ranks - 1) / ranks;
}

/// Creates an `OpTy` whose result types are inferred from `operands` and
/// `attributes`, or reports the inference error at `loc` and returns failure
/// (the generated builders abort on such an error). For code that builds ops
/// from input it does not control, such as the importer.
template <typename OpTy>
mlir::FailureOr<OpTy>
createChecked(mlir::OpBuilder &builder, mlir::Location loc,
              mlir::ValueRange operands,
              llvm::ArrayRef<mlir::NamedAttribute> attributes = {}) {
  mlir::MLIRContext *context = builder.getContext();
  mlir::OperationState state(loc, OpTy::getOperationName());
  state.addOperands(operands);
  state.addAttributes(attributes);
  using Properties = typename OpTy::Properties;
  if constexpr (!std::is_same_v<Properties, mlir::EmptyProperties>) {
    // Inherent attributes live in the op's properties.
    mlir::OpaqueProperties properties = &state.getOrAddProperties<Properties>();
    if (mlir::failed(state.name.getRegisteredInfo()->setOpPropertiesFromAttribute(
            state.name, properties, state.attributes.getDictionary(context),
            [&] { return mlir::emitError(loc); })))
      return mlir::failure();
  }
  llvm::SmallVector<mlir::Type> types;
  if (mlir::failed(OpTy::inferReturnTypes(
          context, loc, state.operands, state.attributes.getDictionary(context),
          state.getRawProperties(), state.regions, types)))
    return mlir::failure();
  state.addTypes(types);
  return llvm::cast<OpTy>(builder.create(state));
}
} // namespace accel

#endif // ACCEL_DIALECTS_ACCEL_ACCELOPS_H
