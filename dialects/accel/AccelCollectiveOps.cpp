//===- AccelCollectiveOps.cpp - collectives between ranks -----------------===//

#include "dialects/accel/AccelOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

namespace accel {

LogicalResult AllReduceOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  if (auto names = getNames(); names && names->size() != getInputs().size())
    return emitOpError() << "names " << names->size()
                         << " tensors but has " << getInputs().size()
                         << " operands";
  return success();
}

namespace {
/// The result gradients a collective's VJP carries (those present), with
/// the operand types and names they come back as.
struct PresentGrads {
  SmallVector<Value> grads;
  SmallVector<Type> types; // of the matching operands
  SmallVector<unsigned> at; // operand positions
  ArrayAttr names;          // null when the op names nothing

  PresentGrads(Builder &b, ArrayRef<Value> resultGrads, TypeRange operandTypes,
               std::optional<ArrayAttr> allNames) {
    SmallVector<Attribute> kept;
    for (auto [i, g] : llvm::enumerate(resultGrads)) {
      if (!g)
        continue;
      grads.push_back(g);
      types.push_back(operandTypes[i]);
      at.push_back(i);
      if (allNames)
        kept.push_back((*allNames)[i]);
    }
    if (allNames)
      names = b.getArrayAttr(kept);
  }

  /// operandGrads[at[k]] = results[k], null elsewhere.
  void scatter(ValueRange results, unsigned operands,
               SmallVectorImpl<Value> &operandGrads) const {
    operandGrads.assign(operands, Value());
    for (auto [k, i] : llvm::enumerate(at))
      operandGrads[i] = results[k];
  }
};
} // namespace

LogicalResult AllReduceOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // d(Σ_q x_q)/dx_r = 1 on every rank r, and rank r's loss term reaches
  // the result on every rank: the gradient of x_r combines all ranks'
  // result gradients the same way (the mean's 1/N included).
  PresentGrads present(b, resultGrads, getInputs().getTypes(), getNames());
  if (present.grads.empty()) {
    operandGrads.assign(getNumOperands(), Value());
    return success();
  }
  auto op = AllReduceOp::create(b, getLoc(), present.types, getKindAttr(),
                                present.grads, getRanksAttr(), getBucketAttr(),
                                present.names);
  present.scatter(op.getResults(), getNumOperands(), operandGrads);
  return success();
}

/// Checks that `shards[i]` is the 1-D shard over `ranks` ranks of
/// `wholes[i]`; `shardSide` names the shards in errors. The element types
/// match, except that with `converts` an f32 shard may gather into a
/// 16-bit float whole (mixed precision's compute type).
static LogicalResult verifyShards(Operation *op, TypeRange wholes,
                                  TypeRange shards, int64_t ranks,
                                  StringRef shardSide,
                                  std::optional<ArrayAttr> names,
                                  bool converts = false) {
  if (wholes.empty())
    return op->emitOpError("needs at least one operand");
  if (wholes.size() != shards.size())
    return op->emitOpError() << "has " << wholes.size() << " whole tensors but "
                             << shards.size() << " shards";
  if (names && names->size() != wholes.size())
    return op->emitOpError() << "names " << names->size() << " tensors but has "
                             << wholes.size() << " operands";
  for (auto [i, whole, shard] : llvm::enumerate(wholes, shards)) {
    auto w = cast<RankedTensorType>(whole);
    auto s = cast<RankedTensorType>(shard);
    Type element = w.getElementType();
    if (converts && s.getElementType().isF32() &&
        (element.isBF16() || element.isF16()))
      element = s.getElementType();
    auto expected = RankedTensorType::get(
        {shardElements(w.getNumElements(), ranks)}, element);
    if (s != expected)
      return op->emitOpError()
             << shardSide << " #" << i << " must be " << expected
             << " (the shard of " << w << " over " << ranks
             << " ranks), got " << s;
  }
  return success();
}

LogicalResult ReduceScatterOp::verify() {
  return verifyShards(*this, getInputs().getTypes(), getResults().getTypes(),
                      getRanks(), "result", getNames());
}

LogicalResult AllGatherOp::verify() {
  if (std::optional<Type> reduce = getReduceType();
      reduce && !reduce->isF32() && !reduce->isBF16() && !reduce->isF16())
    return emitOpError() << "reduces gradients in f32, bf16 or f16, not "
                         << *reduce;
  return verifyShards(*this, getResults().getTypes(), getInputs().getTypes(),
                      getRanks(), "operand", getNames(), /*converts=*/true);
}

/// `v` as `element`, through an accel.cast when it is another type.
static Value castTo(OpBuilder &b, Location loc, Value v, Type element) {
  auto type = cast<RankedTensorType>(v.getType());
  if (type.getElementType() == element)
    return v;
  return CastOp::create(b, loc, type.clone(element), v);
}

LogicalResult AllGatherOp::buildVjp(OpBuilder &b, ArrayRef<Value> resultGrads,
                                    SmallVectorImpl<Value> &operandGrads) {
  // Rank r's loss reads every rank's shard: the gradient of rank q's shard
  // combines (as the losses combine) every rank's gradient of q's part.
  std::optional<ReduceKind> kind = getBackward();
  if (!kind)
    return emitOpError("is differentiated but does not say how the ranks' "
                       "losses combine ('backward mean' or 'backward sum')");
  PresentGrads present(b, resultGrads, getInputs().getTypes(), getNames());
  if (present.grads.empty()) {
    operandGrads.assign(getNumOperands(), Value());
    return success();
  }
  // The gradients are reduced in `reduce_type` (by default the shards'
  // type: a bf16 gather's gradients are widened first, as FSDP2 reduces
  // in f32) and arrive as the shards' type.
  SmallVector<Value> grads;
  SmallVector<Type> reducedTypes;
  for (auto [g, shardType] : llvm::zip(present.grads, present.types)) {
    auto shard = cast<RankedTensorType>(shardType);
    Type element = getReduceType() ? *getReduceType() : shard.getElementType();
    grads.push_back(castTo(b, getLoc(), g, element));
    reducedTypes.push_back(shard.clone(element));
  }
  auto op = ReduceScatterOp::create(
      b, getLoc(), reducedTypes, ReduceKindAttr::get(getContext(), *kind),
      grads, getRanksAttr(), getBucketAttr(), present.names);
  SmallVector<Value> shards;
  for (auto [reduced, shardType] : llvm::zip(op.getResults(), present.types))
    shards.push_back(
        castTo(b, getLoc(), reduced,
               cast<RankedTensorType>(shardType).getElementType()));
  present.scatter(shards, getNumOperands(), operandGrads);
  return success();
}

LogicalResult WaitOp::verify() {
  if (getInputs().empty())
    return emitOpError("needs at least one operand");
  Operation *started = getInputs().front().getDefiningOp();
  if (!isa_and_nonnull<AllReduceOp, ReduceScatterOp, AllGatherOp>(started))
    return emitOpError("waits for the results of an all_reduce, "
                       "reduce_scatter or all_gather");
  if (!llvm::equal(getInputs(), started->getResults()))
    return emitOpError() << "must wait for all " << started->getNumResults()
                         << " results of its " << started->getName()
                         << ", in order";
  for (Value v : getInputs())
    if (!v.hasOneUse())
      return emitOpError() << "must be the only user of its "
                           << started->getName()
                           << "'s results (they are not ready before it)";
  return success();
}

LogicalResult LocalShardOp::verify() {
  return verifyShards(*this, getInput().getType(), getResult().getType(),
                      getRanks(), "result", std::nullopt);
}

} // namespace accel
