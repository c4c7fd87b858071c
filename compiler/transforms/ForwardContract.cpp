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
  // Buffers and FP8 scaling state are what a forward result may update.
  llvm::StringMap<std::pair<StringRef, Type>> state; // name -> (role, type)
  for (unsigned i = 0, e = forward.getNumArguments(); i < e; ++i) {
    if (auto name = forward.getArgAttrOfType<StringAttr>(
            i, AccelDialect::kBufferAttrName))
      state[name.getValue()] = {AccelDialect::kBufferAttrName,
                                forward.getArgumentTypes()[i]};
    else if (auto name = forward.getArgAttrOfType<StringAttr>(
                 i, AccelDialect::kFp8StateAttrName))
      state[name.getValue()] = {AccelDialect::kFp8StateAttrName,
                                forward.getArgumentTypes()[i]};
    else if (!forward.getArgAttr(i, AccelDialect::kParamAttrName) &&
             !forward.getArgAttr(i, AccelDialect::kInputAttrName) &&
             !forward.getArgAttr(i, AccelDialect::kSeedAttrName))
      return forward.emitError()
             << "argument #" << i << " is neither a parameter ('"
             << AccelDialect::kParamAttrName << "'), a buffer ('"
             << AccelDialect::kBufferAttrName << "'), FP8 state ('"
             << AccelDialect::kFp8StateAttrName << "'), an input ('"
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
    StringRef role = AccelDialect::kBufferAttrName;
    auto name = forward.getResultAttrOfType<StringAttr>(i, role);
    if (!name) {
      role = AccelDialect::kFp8StateAttrName;
      name = forward.getResultAttrOfType<StringAttr>(i, role);
    }
    if (!name)
      return forward.emitError()
             << "result #" << i << " must name the buffer it updates with '"
             << AccelDialect::kBufferAttrName << "' (or the FP8 state, '"
             << AccelDialect::kFp8StateAttrName << "')";
    auto it = state.find(name.getValue());
    if (it == state.end() || it->second.first != role)
      return forward.emitError()
             << "result #" << i << " updates \"" << name.getValue()
             << "\", which is not a"
             << (role == AccelDialect::kBufferAttrName ? " buffer"
                                                       : "n FP8 state")
             << " argument";
    if (it->second.second != results[i])
      return forward.emitError()
             << "result #" << i << " of type " << results[i] << " updates "
             << (role == AccelDialect::kBufferAttrName ? "buffer" : "FP8 state")
             << " \"" << name.getValue() << "\" of type " << it->second.second;
    if (!updated.insert(name.getValue()).second)
      return forward.emitError() << "\"" << name.getValue()
                                 << "\" is updated by more than one result";
  }
  return success();
}

} // namespace accel
