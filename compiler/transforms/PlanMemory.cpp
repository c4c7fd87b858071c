//===- PlanMemory.cpp - accel-plan-memory ---------------------------------===//

#include "compiler/planning/ArenaPlanner.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace accel {
#define GEN_PASS_DEF_PLANMEMORYPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;

namespace {

/// Bytes of a tensor; booleans take a byte each.
uint64_t byteSize(RankedTensorType type) {
  unsigned bits = type.getElementTypeBitWidth();
  return static_cast<uint64_t>(type.getNumElements()) * ((bits + 7) / 8);
}

/// Where the arena remark goes: the function's file and line with no
/// column. A diagnostic at a column is printed with its source line, and a
/// training step's signature is one line of thousands of characters; with
/// column 0 (unknown) the remark is one line, `file:line:0: remark: ...`.
Location summaryLocation(func::FuncOp func) {
  if (auto file = func.getLoc()->findInstanceOf<FileLineColLoc>())
    return FileLineColLoc::get(file.getFilename(), file.getLine(), 0);
  return func.getLoc();
}

struct PlanMemoryPass : accel::impl::PlanMemoryPassBase<PlanMemoryPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (alignment <= 0 || (alignment & (alignment - 1)) != 0) {
      module.emitError() << "alignment must be a power of two, got "
                         << static_cast<int64_t>(alignment);
      return signalPassFailure();
    }
    auto func = module.lookupSymbol<func::FuncOp>(entry);
    if (!func || func.isExternal()) {
      module.emitError() << "no function '@" << entry << "' to plan";
      return signalPassFailure();
    }
    if (!func.getBody().hasOneBlock()) {
      func.emitError() << "memory planning needs a single-block function";
      return signalPassFailure();
    }
    Block &body = func.getBody().front();

    // Reshapes and flattens are views: their result is the bytes of the
    // value they reshape (its root), which stays live while any view of it
    // is read. A transpose the products absorb is read through the same way
    // and is not run.
    auto isView = [](Operation &op) {
      if (auto t = dyn_cast<accel::TransposeOp>(op))
        return accel::isAbsorbedTranspose(t);
      return isa<accel::ReshapeOp, accel::FlattenOp, accel::WaitOp>(op);
    };
    DenseMap<Value, Value> rootOf;
    auto root = [&](Value v) {
      auto it = rootOf.find(v);
      return it == rootOf.end() ? v : it->second;
    };
    // Live ranges over the op sequence; returned values stay live to the end.
    DenseMap<Operation *, int64_t> position;
    DenseMap<Value, int64_t> lastUse;
    for (auto [i, op] : llvm::enumerate(body)) {
      position[&op] = static_cast<int64_t>(i);
      if (isView(op))
        for (auto [result, operand] : llvm::zip(op.getResults(), op.getOperands()))
          rootOf[result] = root(operand);
      op.walk([&](Operation *nested) {
        for (Value operand : nested->getOperands()) {
          int64_t &last = lastUse[root(operand)];
          last = std::max(last, static_cast<int64_t>(i));
        }
      });
      // A started collective reads its operands until its wait (its
      // results are written from its start: they live from there anyway).
      if (auto wait = dyn_cast<accel::WaitOp>(op))
        for (Value operand : wait.getInputs().front().getDefiningOp()->getOperands()) {
          int64_t &last = lastUse[root(operand)];
          last = std::max(last, static_cast<int64_t>(i));
        }
    }
    std::vector<accel::planning::BufferRequest> requests;
    SmallVector<Value> values;
    for (Operation &op : body) {
      if (isa<CallOpInterface>(op)) {
        op.emitOpError() << "must be inlined before memory planning "
                            "(run --inline first)";
        return signalPassFailure();
      }
      if (isa<arith::ConstantOp>(op))
        continue; // constants live in their own pool
      if (isView(op)) {
        op.setAttr("accel.view", UnitAttr::get(&getContext()));
        continue;
      }
      for (Value result : op.getResults()) {
        auto type = dyn_cast<RankedTensorType>(result.getType());
        if (!type)
          continue;
        int64_t first = position[&op];
        requests.push_back({byteSize(type), first,
                            std::max(first, lastUse.lookup(result))});
        values.push_back(result);
      }
    }
    accel::planning::ArenaPlan plan =
        accel::planning::planArena(requests, static_cast<uint64_t>(alignment));

    OpBuilder b(&getContext());
    DenseMap<Value, int64_t> offsetOf;
    for (auto [value, offset] : llvm::zip(values, plan.offsets))
      offsetOf[value] = static_cast<int64_t>(offset);
    if (printPlan)
      for (auto [value, request, offset] : llvm::zip(values, requests, plan.offsets))
        emitRemark(value.getLoc())
            << "result #" << cast<OpResult>(value).getResultNumber() << ": "
            << request.bytes << " bytes at offset " << offset
            << ", live over ops [" << request.firstUse << ", " << request.lastUse
            << "]";
    for (Operation &op : body) {
      SmallVector<int64_t> offsets;
      for (Value result : op.getResults())
        if (offsetOf.count(root(result)))
          offsets.push_back(offsetOf[root(result)]);
      if (!offsets.empty())
        op.setAttr("accel.arena_offsets", b.getDenseI64ArrayAttr(offsets));
    }
    func->setAttr("accel.arena_bytes",
                  b.getI64IntegerAttr(static_cast<int64_t>(plan.arenaBytes)));
    emitRemark(summaryLocation(func))
        << "arena of " << plan.arenaBytes << " bytes for " << requests.size()
        << " buffers (at least " << plan.liveLowerBound
        << " bytes are live at once)";
  }
};

} // namespace
