//===- VerifyForward.cpp - accel-verify-forward ---------------------------===//

#include "compiler/transforms/ForwardContract.h"
#include "compiler/transforms/Passes.h"

namespace accel {
#define GEN_PASS_DEF_VERIFYFORWARDPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;

namespace {
struct VerifyForwardPass
    : accel::impl::VerifyForwardPassBase<VerifyForwardPass> {
  using Base::Base;

  void runOnOperation() override {
    FailureOr<func::FuncOp> forward =
        accel::lookupForward(getOperation(), entry);
    if (failed(forward) || failed(accel::verifyForwardContract(*forward)))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }
};
} // namespace
