//===- ForwardContract.cpp - the signature of a forward function ----------===//

#include "compiler/transforms/ForwardContract.h"

#include "dialects/accel/AccelDialect.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringSet.h"

using namespace mlir;

namespace accel {

FailureOr<func::FuncOp> lookupForward(ModuleOp module, StringRef entry) {
  auto forward = module.lookupSymbol<func::FuncOp>(entry);
  if (!forward)
    return module.emitError() << "no function named '@" << entry
                              << "' to train";
  return forward;
}

LogicalResult verifyForwardContract(func::FuncOp forward) {
  if (forward.isExternal())
    return forward.emitError() << "forward function has no body";

  // The dialect's attribute verifier already ensures at most one role per
  // argument and unique names; the contract adds that each has a role.
  llvm::StringMap<Type> buffers;
  for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
    if (auto name = forward.getArgAttrOfType<StringAttr>(
            i, AccelDialect::kBufferAttrName))
      buffers[name.getValue()] = forward.getArgumentTypes()[i];
    else if (!forward.getArgAttr(i, AccelDialect::kParamAttrName) &&
             !forward.getArgAttr(i, AccelDialect::kInputAttrName) &&
             !forward.getArgAttr(i, AccelDialect::kSeedAttrName))
      return forward.emitError()
             << "argument #" << i << " is neither a parameter ('"
             << AccelDialect::kParamAttrName << "'), a buffer ('"
             << AccelDialect::kBufferAttrName << "'), an input ('"
             << AccelDialect::kInputAttrName << "') nor the seed ('"
             << AccelDialect::kSeedAttrName << "')";
  }

  ArrayRef<Type> results = forward.getResultTypes();
  auto loss = results.empty() ? nullptr
                              : dyn_cast<RankedTensorType>(results.front());
  if (!loss || loss.getRank() != 0 || !isa<FloatType>(loss.getElementType()))
    return forward.emitError()
           << "result #0 must be the loss, a rank-0 floating-point tensor, got "
           << (results.empty() ? "no result" : "") << results;
  if (forward.getResultAttr(0, AccelDialect::kBufferAttrName))
    return forward.emitError() << "result #0 is the loss and cannot carry '"
                               << AccelDialect::kBufferAttrName << "'";

  llvm::StringSet<> updated;
  for (unsigned i = 1, e = results.size(); i < e; ++i) {
    auto name =
        forward.getResultAttrOfType<StringAttr>(i, AccelDialect::kBufferAttrName);
    if (!name)
      return forward.emitError()
             << "result #" << i << " must name the buffer it updates with '"
             << AccelDialect::kBufferAttrName << "'";
    auto it = buffers.find(name.getValue());
    if (it == buffers.end())
      return forward.emitError()
             << "result #" << i << " updates \"" << name.getValue()
             << "\", which is not a buffer argument";
    if (it->second != results[i])
      return forward.emitError()
             << "result #" << i << " of type " << results[i]
             << " updates buffer \"" << name.getValue() << "\" of type "
             << it->second;
    if (!updated.insert(name.getValue()).second)
      return forward.emitError() << "buffer \"" << name.getValue()
                                 << "\" is updated by more than one result";
  }
  return success();
}

} // namespace accel
