//===- OverlapCollectives.cpp - accel-overlap-collectives -----------------===//
//
// Splits a step's collectives into a start and an `accel.wait`, the start
// as early as its operands allow and the wait where its results are first
// needed, so that a rank communicates while it computes. Moving ops only
// hoists collectives (nothing else changes place), and every rank runs the
// same program, so every rank still starts the same collectives in the same
// order.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <tuple>

namespace accel {
#define GEN_PASS_DEF_OVERLAPCOLLECTIVESPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;

namespace accel {
namespace {

bool isCollective(Operation *op) {
  return isa<AllReduceOp, ReduceScatterOp, AllGatherOp>(op);
}

/// A collective the runtime can run while the rank computes: not yet
/// split, and not a forward pass's batch statistics (needed by the very
/// next op, and by every rank before it goes on).
bool overlappable(Operation *op) {
  if (!isCollective(op))
    return false;
  if (auto r = dyn_cast<AllReduceOp>(op);
      r && static_cast<int64_t>(r.getBucket()) < 0)
    return false;
  return llvm::none_of(op->getUsers(),
                       [](Operation *user) { return isa<WaitOp>(user); });
}

struct OverlapCollectivesPass
    : impl::OverlapCollectivesPassBase<OverlapCollectivesPass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (maxInFlight < 1) {
      func.emitError() << "max-in-flight must be at least 1, got "
                       << static_cast<int64_t>(maxInFlight);
      return signalPassFailure();
    }
    if (func.isExternal() || !func.getBody().hasOneBlock())
      return;
    Block &body = func.getBody().front();
    DenseMap<Operation *, int64_t> position;
    SmallVector<Operation *> ops;
    for (Operation &op : body) {
      position[&op] = static_cast<int64_t>(ops.size());
      ops.push_back(&op);
    }
    // Where a value is first and last read, as positions of the ops (or
    // their ancestors in this block) that read it.
    auto uses = [&](Operation *op) {
      int64_t first = INT64_MAX, last = -1;
      for (Operation *user : op->getUsers())
        if (Operation *at = body.findAncestorOpInBlock(*user)) {
          first = std::min(first, position[at]);
          last = std::max(last, position[at]);
        }
      return std::pair{first, last};
    };

    // Each collective's earliest start: before the op at `earliest[op]`.
    DenseMap<Operation *, int64_t> earliest;
    SmallVector<Operation *> started;
    SmallVector<AllGatherOp> gathers; // every all_gather so far
    for (Operation *op : ops) {
      if (!overlappable(op)) {
        if (auto g = dyn_cast<AllGatherOp>(op))
          gathers.push_back(g);
        continue;
      }
      int64_t at = 0;
      for (Value operand : op->getOperands())
        if (Operation *def = operand.getDefiningOp();
            def && def->getBlock() == &body)
          at = std::max(at, position[def] + 1);
      if (auto gather = dyn_cast<AllGatherOp>(op)) {
        // FSDP's prefetch: gather the next unit while the previous one
        // computes, and no earlier (a gather's operands are the shards
        // the step starts with: unbounded, every unit would be whole at
        // once). A gather again of the same shards (the backward pass's,
        // reshard-after-forward) starts no earlier than the first gather's
        // tensors die.
        if (gathers.empty()) {
          at = position[op]; // the first: where it is
        } else {
          at = std::max(at, uses(gathers.back()).first);
          for (AllGatherOp before : gathers)
            if (llvm::equal(before.getInputs(), gather.getInputs()))
              at = std::max(at, uses(before).second + 1);
        }
        gathers.push_back(gather);
      }
      earliest[op] = std::min(at, position[op]);
      started.push_back(op);
    }
    if (started.empty())
      return;

    // Hoist: each started collective goes before the op at its earliest
    // position, after the collectives hoisted there before it. A stable
    // order by (place, hoisted first, original position) keeps every
    // operand before its users.
    SmallVector<std::tuple<int64_t, int, int64_t, Operation *>> order;
    for (Operation *op : ops) {
      auto it = earliest.find(op);
      if (it != earliest.end())
        order.emplace_back(it->second, 0, position[op], op);
      else
        order.emplace_back(position[op], 1, position[op], op);
    }
    llvm::stable_sort(order, [](const auto &a, const auto &b) {
      return std::make_tuple(std::get<0>(a), std::get<1>(a), std::get<2>(a)) <
             std::make_tuple(std::get<0>(b), std::get<1>(b), std::get<2>(b));
    });
    for (auto &entry : order)
      std::get<3>(entry)->moveBefore(&body, body.end());
    llvm::sort(started, [](Operation *a, Operation *b) {
      return a->isBeforeInBlock(b);
    });

    // Wait where a result is first read, or before the collective
    // `maxInFlight` starts later, whichever comes first: that bounds the
    // tensors kept alive by collectives in flight.
    for (auto [i, op] : llvm::enumerate(started)) {
      Operation *before = body.getTerminator();
      for (Operation *user : op->getUsers())
        if (Operation *at = body.findAncestorOpInBlock(*user);
            at && at->isBeforeInBlock(before))
          before = at;
      size_t limit = i + static_cast<size_t>(maxInFlight);
      if (limit < started.size() && started[limit]->isBeforeInBlock(before))
        before = started[limit];
      OpBuilder b(before);
      auto wait = WaitOp::create(b, op->getLoc(), op->getResultTypes(),
                                 op->getResults());
      for (auto [result, ready] :
           llvm::zip(op->getResults(), wait.getResults()))
        result.replaceAllUsesExcept(ready, wait);
    }
  }
};

} // namespace
} // namespace accel
