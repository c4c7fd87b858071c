//===- FuseElementwise.cpp - accel-fuse-elementwise -----------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/IRMapping.h"

namespace accel {
#define GEN_PASS_DEF_FUSEELEMENTWISEPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;

namespace accel {
namespace {

/// The iteration shape of a fusible op, or nullopt. Operands must have that
/// shape or hold one element, so the body can run per element.
std::optional<ArrayRef<int64_t>> fusibleShape(Operation *op) {
  if (!isa<AddOp, SubOp, MulOp, DivOp, NegOp, ReluOp, TanhOp, SigmoidOp, ExpOp,
           LogOp, SqrtOp, RsqrtOp, GeluOp, ReluGradOp, GeluGradOp>(op))
    return std::nullopt;
  auto type = dyn_cast<RankedTensorType>(op->getResult(0).getType());
  Type element = type ? type.getElementType() : Type();
  if (!type || !type.hasStaticShape() || type.getNumElements() <= 1 ||
      !(element.isF32() || element.isBF16() || element.isF16()))
    return std::nullopt;
  for (Type t : op->getOperandTypes()) {
    auto operand = cast<RankedTensorType>(t);
    if (operand.getShape() != type.getShape() &&
        !(operand.hasStaticShape() && operand.getNumElements() == 1))
      return std::nullopt;
  }
  return type.getShape();
}

struct Group {
  SmallVector<Operation *> ops; // in program order
  ArrayRef<int64_t> shape;
  bool open = true;
};

/// Values from outside `ops`, in first-use order.
SetVector<Value> externalInputs(ArrayRef<Operation *> ops) {
  DenseSet<Operation *> members(ops.begin(), ops.end());
  SetVector<Value> inputs;
  for (Operation *op : ops)
    for (Value v : op->getOperands())
      if (!members.contains(v.getDefiningOp()))
        inputs.insert(v);
  return inputs;
}

struct FuseElementwisePass
    : impl::FuseElementwisePassBase<FuseElementwisePass> {
  using Base::Base;

  void runOnOperation() override {
    func::FuncOp func = getOperation();
    if (func.isExternal())
      return;
    std::vector<Group> groups;
    DenseMap<Operation *, size_t> groupOf;
    auto groupOfValue = [&](Value v) -> std::optional<size_t> {
      Operation *def = v.getDefiningOp();
      auto it = def ? groupOf.find(def) : groupOf.end();
      if (it == groupOf.end())
        return std::nullopt;
      return it->second;
    };

    for (Block &block : func.getBody()) {
      // A fused op replaces its members in place: groups stay in a block.
      for (Group &g : groups)
        g.open = false;
      for (Operation &op : block) {
        std::optional<ArrayRef<int64_t>> shape = fusibleShape(&op);
        // The open groups of this shape that feed the op merge with it, as
        // long as the union stays within max-values.
        SmallVector<size_t> feeding;
        if (shape)
          for (Value v : op.getOperands())
            if (auto g = groupOfValue(v); g && groups[*g].open &&
                                          groups[*g].shape == *shape &&
                                          !llvm::is_contained(feeding, *g))
              feeding.push_back(*g);
        SmallVector<Operation *> merged;
        for (size_t g : feeding)
          merged.append(groups[g].ops);
        merged.push_back(&op);
        if (static_cast<int64_t>(merged.size() + externalInputs(merged).size()) >
            maxValues)
          feeding.clear(); // start afresh; the feeding groups close below
        // Any other group this op reads from is used outside itself now.
        for (Value v : op.getOperands())
          if (auto g = groupOfValue(v); g && !llvm::is_contained(feeding, *g))
            groups[*g].open = false;
        if (!shape)
          continue;
        size_t target;
        if (feeding.empty()) {
          groups.push_back(Group{{}, *shape, true});
          target = groups.size() - 1;
        } else {
          target = *llvm::min_element(feeding);
          for (size_t g : feeding) {
            if (g == target)
              continue;
            for (Operation *member : groups[g].ops)
              groupOf[member] = target;
            groups[target].ops.append(groups[g].ops);
            groups[g].ops.clear();
            groups[g].open = false;
          }
          llvm::sort(groups[target].ops, [](Operation *a, Operation *b) {
            return a->isBeforeInBlock(b);
          });
        }
        groups[target].ops.push_back(&op);
        groupOf[&op] = target;
      }
    }

    for (Group &g : groups)
      if (g.ops.size() >= 2)
        fuse(g);
  }


  void fuse(Group &g) {
    Operation *last = g.ops.back();
    DenseSet<Operation *> members(g.ops.begin(), g.ops.end());
    // Values needed after the group are its results.
    SmallVector<Value> results;
    for (Operation *op : g.ops)
      for (Value r : op->getResults())
        if (llvm::any_of(r.getUsers(),
                         [&](Operation *u) { return !members.contains(u); }))
          results.push_back(r);
    if (results.empty())
      return; // dead chain; leave it to DCE

    OpBuilder b(last);
    SmallVector<Type> resultTypes;
    for (Value r : results)
      resultTypes.push_back(r.getType());
    // Inputs produced by groups fused before this one already name their
    // fused ops (the uses were rewired when those were built). No map from
    // erased values is kept: a new op can reuse an erased op's address, and
    // such a map then rewires an unrelated value (EfficientNet's
    // squeeze-excitation met it, fusing a 4x672x2x2 input into a 4x672x1x1
    // group).
    SmallVector<Value> inputs = externalInputs(g.ops).takeVector();
    auto fused = FusedOp::create(
        b, b.getFusedLoc(llvm::to_vector(
            llvm::map_range(g.ops, [](Operation *op) { return op->getLoc(); }))),
        resultTypes, inputs);
    if (keepFp32Intermediates)
      fused->setAttr("accel.fp32_intermediates", b.getUnitAttr());
    Block *body = b.createBlock(&fused.getBody());
    IRMapping map;
    for (Value in : inputs) {
      auto element = RankedTensorType::get(
          {}, cast<RankedTensorType>(in.getType()).getElementType());
      map.map(in, body->addArgument(element, in.getLoc()));
    }
    b.setInsertionPointToStart(body);
    for (Operation *op : g.ops) {
      Operation *clone = b.clone(*op, map);
      for (Value r : clone->getResults())
        r.setType(RankedTensorType::get(
            {}, cast<RankedTensorType>(r.getType()).getElementType()));
    }
    SmallVector<Value> yielded;
    for (Value r : results)
      yielded.push_back(map.lookup(r));
    YieldOp::create(b, last->getLoc(), yielded);

    for (auto [r, f] : llvm::zip(results, fused.getResults())) {
      r.replaceUsesWithIf(f, [&](OpOperand &use) {
        return !members.contains(use.getOwner());
      });
    }
    for (Operation *op : llvm::reverse(g.ops))
      op->erase();
  }
};

} // namespace
} // namespace accel
