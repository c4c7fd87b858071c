//===- VerifyStep.cpp - accel-verify-step ---------------------------------===//

#include "compiler/transforms/Passes.h"
#include "compiler/transforms/StepContract.h"

namespace accel {
#define GEN_PASS_DEF_VERIFYSTEPPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;

namespace {
struct VerifyStepPass : accel::impl::VerifyStepPassBase<VerifyStepPass> {
  using Base::Base;

  void runOnOperation() override {
    auto step = getOperation().lookupSymbol<func::FuncOp>(entry);
    if (!step) {
      getOperation().emitError() << "no function '@" << entry << "' to verify";
      return signalPassFailure();
    }
    if (failed(accel::verifyStepContract(step)))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace
