//===- StepContract.cpp - the signature of a training step ----------------===//

#include "compiler/transforms/StepContract.h"

#include "dialects/accel/AccelDialect.h"
#include "llvm/ADT/StringMap.h"

using namespace mlir;

namespace accel {

namespace {
/// The state roles a step's arguments and results share.
constexpr llvm::StringLiteral kStateRoles[] = {AccelDialect::kParamAttrName,
                                               AccelDialect::kBufferAttrName,
                                               AccelDialect::kOptStateAttrName,
                                               AccelDialect::kFp8StateAttrName};
} // namespace

LogicalResult verifyStepContract(func::FuncOp step) {
  for (StringRef role : kStateRoles) {
    // name -> (argument index, results naming it)
    llvm::StringMap<std::pair<unsigned, unsigned>> arguments;
    for (unsigned i = 0; i < step.getNumArguments(); ++i)
      if (auto name = step.getArgAttrOfType<StringAttr>(i, role)) {
        if (name.getValue() == "__metadata__")
          return step.emitError()
                 << "argument #" << i << " is named \"__metadata__\", which "
                 << "safetensors reserves; rename the " << role;
        arguments[name.getValue()] = {i, 0};
      }
    for (unsigned r = 0; r < step.getNumResults(); ++r) {
      auto name = step.getResultAttrOfType<StringAttr>(r, role);
      if (!name)
        continue;
      auto it = arguments.find(name.getValue());
      if (it == arguments.end())
        return step.emitError()
               << "result #" << r << " updates " << role << " \""
               << name.getValue() << "\", which no argument holds";
      auto &[arg, count] = it->second;
      if (step.getResultTypes()[r] != step.getArgumentTypes()[arg])
        return step.emitError()
               << "result #" << r << " of type " << step.getResultTypes()[r]
               << " updates \"" << name.getValue() << "\" (argument #" << arg
               << ") of type " << step.getArgumentTypes()[arg];
      if (++count > 1)
        return step.emitError() << "\"" << name.getValue()
                                << "\" (argument #" << arg
                                << ") is updated by more than one result";
    }
    if (role == AccelDialect::kBufferAttrName)
      continue; // a buffer nothing updates keeps its value
    for (auto &entry : arguments)
      if (entry.second.second == 0)
        return step.emitError()
               << "argument #" << entry.second.first << " (" << role << " \""
               << entry.getKey() << "\") has no result carrying its new value "
               << "(a result with " << role << " = \"" << entry.getKey()
               << "\"); it would never change";
  }
  return success();
}

} // namespace accel
