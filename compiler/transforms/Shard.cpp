//===- Shard.cpp - accel-shard --------------------------------------------===//
//
// Splits a forward function's batch over data-parallel ranks: every input's
// leading dimension B becomes B / N, and the batch dimension is followed
// through each op to retype its results. What crosses the batch is
// checked: only the loss may reduce over it, and only linearly, so that
// combining the ranks' gradients (the all-reduce accel-optimizer places)
// gives exactly the gradient of the whole batch.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/ForwardContract.h"
#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/GlobPattern.h"

namespace accel {
#define GEN_PASS_DEF_SHARDPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

/// How a value relates to the batch the ranks split. `dim` is the
/// dimension holding the batch: in row-major order it is (outer, batch,
/// inner) with `inner` values per sample (a batch merged with the
/// dimensions around it by a reshape), and rank r holds the r-th of N
/// equal, contiguous parts of the batch digit. A partial value has been
/// reduced over the batch and is, over the ranks, the sum or the mean of
/// their values.
struct BatchInfo {
  int64_t dim = -1;
  int64_t inner = 1;
  enum class Partial { None, Sum, Mean } partial = Partial::None;

  bool batched() const { return dim >= 0; }
  bool isPartial() const { return partial != Partial::None; }
  bool touched() const { return batched() || isPartial(); }
};

int64_t rankOf(Value v) { return cast<RankedTensorType>(v.getType()).getRank(); }
ArrayRef<int64_t> shapeOf(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape();
}

class BatchSplitter {
public:
  BatchSplitter(func::FuncOp forward, int64_t ranks)
      : forward(forward), ranks(ranks) {}

  LogicalResult run();
  BatchInfo::Partial lossReduction() const { return loss; }
  int64_t globalBatch() const { return batch; }

private:
  BatchInfo info(Value v) const { return infos.lookup(v); }
  InFlightDiagnostic fail(Operation *op) {
    return op->emitOpError() << "cannot be split over " << ranks
                             << " data-parallel ranks: ";
  }
  /// The results' batch dimensions and partial kinds, or failure with an
  /// error at the op.
  LogicalResult propagate(Operation *op);
  /// Elementwise ops and broadcasting: the batch dimension of each operand,
  /// aligned to the result's rank from the right.
  FailureOr<BatchInfo> broadcastInfo(Operation *op, ValueRange operands,
                                     Value result);
  LogicalResult retype(Operation *op);
  /// Training-mode batch norm over the whole batch (PyTorch's
  /// SyncBatchNorm): the op becomes its formula, with the per-channel sums
  /// of x and of (x - mean)² all-reduced over the ranks.
  LogicalResult synchronizeBatchNorm(BatchNormOp bn);

  func::FuncOp forward;
  int64_t ranks;
  int64_t batch = -1;
  BatchInfo::Partial loss = BatchInfo::Partial::None;
  DenseMap<Value, BatchInfo> infos;
};

FailureOr<BatchInfo> BatchSplitter::broadcastInfo(Operation *op,
                                                  ValueRange operands,
                                                  Value result) {
  int64_t rank = rankOf(result);
  BatchInfo out;
  for (Value v : operands) {
    BatchInfo in = info(v);
    if (!in.batched())
      continue;
    int64_t dim = rank - rankOf(v) + in.dim;
    if (out.batched() && (out.dim != dim || out.inner != in.inner))
      return fail(op) << "its operands hold the batch in different dimensions";
    out = in;
    out.dim = dim;
  }
  if (!out.batched())
    return out;
  // An operand without the batch broadcasts along it; one that has the
  // batch's size there without being the batch (a constant, a parameter)
  // would be split wrongly.
  for (Value v : operands) {
    if (info(v).batched() || !isa<RankedTensorType>(v.getType()))
      continue;
    int64_t at = out.dim - (rank - rankOf(v));
    if (at >= 0 && shapeOf(v)[at] != 1)
      return fail(op) << "operand " << v.getType()
                      << " spans the batch dimension without being split "
                         "with it";
  }
  return out;
}

LogicalResult BatchSplitter::propagate(Operation *op) {
  using Partial = BatchInfo::Partial;
  auto set = [&](Value v, BatchInfo i) {
    infos[v] = i;
    return success();
  };
  // `from`'s batch, now in dimension `dim`.
  auto batchedAt = [&](int64_t dim, BatchInfo from) {
    from.dim = dim;
    from.partial = BatchInfo::Partial::None;
    return from;
  };
  auto partialOf = [&](Partial p) {
    BatchInfo i;
    i.partial = p;
    return i;
  };
  bool anyPartial = llvm::any_of(op->getOperands(),
                                 [&](Value v) { return info(v).isPartial(); });
  bool anyBatched = llvm::any_of(op->getOperands(),
                                 [&](Value v) { return info(v).batched(); });
  if (anyPartial && anyBatched)
    return fail(op) << "it combines a value reduced over the batch with the "
                       "batch itself";

  // After the loss reduces over the batch, only linear arithmetic keeps
  // the ranks' values combinable into the whole batch's.
  if (anyPartial) {
    return TypeSwitch<Operation *, LogicalResult>(op)
        .Case<NegOp, CastOp>([&](Operation *) -> LogicalResult {
          return set(op->getResult(0), info(op->getOperand(0)));
        })
        .Case<MulOp, DivOp>([&](Operation *) -> LogicalResult {
          BatchInfo lhs = info(op->getOperand(0)), rhs = info(op->getOperand(1));
          if (rhs.isPartial() && (isa<DivOp>(op) || lhs.isPartial()))
            return fail(op) << "the loss is not linear in the per-rank losses";
          return set(op->getResult(0), lhs.isPartial() ? lhs : rhs);
        })
        .Case<AddOp, SubOp>([&](Operation *) -> LogicalResult {
          BatchInfo lhs = info(op->getOperand(0)), rhs = info(op->getOperand(1));
          if (lhs.isPartial() && rhs.isPartial() && lhs.partial == rhs.partial)
            return set(op->getResult(0), lhs);
          // A term that every rank adds: the ranks' mean keeps it once,
          // their sum would count it N times.
          BatchInfo p = lhs.isPartial() ? lhs : rhs;
          if (!(lhs.isPartial() && rhs.isPartial()) &&
              p.partial == Partial::Mean)
            return set(op->getResult(0), p);
          return fail(op) << "it adds terms that do not combine over the "
                             "ranks as the whole batch's loss";
        })
        .Default([&](Operation *) -> LogicalResult {
          return fail(op) << "it transforms the batch-reduced loss "
                             "non-linearly";
        });
  }

  Value result0 = op->getNumResults() ? op->getResult(0) : Value();
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case<AddOp, SubOp, MulOp, DivOp, MaskedFillOp, ReluOp, TanhOp, SigmoidOp,
            ExpOp, LogOp, SqrtOp, RsqrtOp, NegOp, GeluOp, ClampOp, CastOp>(
          [&](Operation *) -> LogicalResult {
            FailureOr<BatchInfo> i =
                broadcastInfo(op, op->getOperands(), result0);
            if (failed(i))
              return failure();
            return set(result0, *i);
          })
      .Case([&](DropoutOp d) -> LogicalResult {
        // Each rank's elements must be one contiguous run of the global
        // tensor's: the batch is its outermost digit.
        BatchInfo x = info(d.getInput());
        if (x.dim != 0 || shapeOf(d.getInput())[0] != batch / ranks * x.inner)
          return fail(op) << "dropout's mask is split by rank only when the "
                             "batch is the tensor's outermost dimension";
        return set(result0, x);
      })
      .Case([&](BroadcastToOp b) -> LogicalResult {
        FailureOr<BatchInfo> i = broadcastInfo(op, {b.getInput()}, result0);
        if (failed(i))
          return failure();
        // The input is already this rank's slice; the result still has
        // the global shape.
        int64_t at = i->dim - rankOf(result0) + rankOf(b.getInput());
        if (shapeOf(result0)[i->dim] != shapeOf(b.getInput())[at] * ranks)
          return fail(op) << "it broadcasts along the batch dimension";
        return set(result0, *i);
      })
      .Case([&](LinearOp l) -> LogicalResult {
        BatchInfo x = info(l.getInput());
        if (info(l.getWeight()).batched() ||
            (l.getBias() && info(l.getBias()).batched()))
          return fail(op) << "its weight depends on the batch";
        if (x.dim == rankOf(l.getInput()) - 1)
          return fail(op) << "it contracts over the batch dimension";
        return set(result0, x);
      })
      .Case([&](MatmulOp m) -> LogicalResult {
        int64_t rank = rankOf(result0);
        int64_t lr = rankOf(m.getLhs()), rr = rankOf(m.getRhs());
        if (lr < 2 || rr < 2)
          return fail(op) << "a vector operand's batch split is not handled";
        BatchInfo out;
        auto place = [&](int64_t dim, BatchInfo from) -> LogicalResult {
          if (out.batched() && (out.dim != dim || out.inner != from.inner))
            return fail(op) << "both operands hold the batch, in different "
                               "dimensions of the result";
          out = batchedAt(dim, from);
          return success();
        };
        if (BatchInfo l = info(m.getLhs()); l.batched()) {
          if (l.dim == lr - 1)
            return fail(op) << "it contracts over the batch dimension";
          if (failed(place(l.dim == lr - 2 ? rank - 2 : rank - lr + l.dim, l)))
            return failure();
        }
        if (BatchInfo r = info(m.getRhs()); r.batched()) {
          if (r.dim == rr - 2)
            return fail(op) << "it contracts over the batch dimension";
          if (failed(place(r.dim == rr - 1 ? rank - 1 : rank - rr + r.dim, r)))
            return failure();
        }
        // An operand without the batch may broadcast along it (a weight
        // matrix), but not span it.
        for (Value v : {m.getLhs(), m.getRhs()}) {
          int64_t at = out.dim - (rank - rankOf(v));
          if (!info(v).batched() && out.dim < rank - 2 && at >= 0 &&
              shapeOf(v)[at] != 1)
            return fail(op) << "operand " << v.getType()
                            << " spans the batch dimension without being "
                               "split with it";
        }
        return set(result0, out);
      })
      .Case([&](Conv2dOp c) -> LogicalResult {
        if (info(c.getInput()).dim != 0 || info(c.getWeight()).batched() ||
            (c.getBias() && info(c.getBias()).batched()))
          return fail(op) << "only a convolution's input may hold the batch, "
                             "in its first dimension";
        return set(result0, info(c.getInput()));
      })
      .Case([&](BatchNormOp bn) -> LogicalResult {
        // (Training mode is rewritten by synchronizeBatchNorm first.)
        if (info(bn.getInput()).dim != 0)
          return fail(op) << "only its input may hold the batch, first";
        infos[bn.getNewRunningMean()] = {};
        infos[bn.getNewRunningVar()] = {};
        return set(bn.getResult(), info(bn.getInput()));
      })
      .Case([&](LayerNormOp ln) -> LogicalResult {
        BatchInfo x = info(ln.getInput());
        if (!x.batched() || x.dim >= rankOf(ln.getInput()) -
                                         static_cast<int64_t>(
                                             ln.getNormalizedShape().size()))
          return fail(op) << "it normalises over the batch dimension";
        return set(result0, x);
      })
      .Case<MaxPool2dOp, AvgPool2dOp, AdaptiveAvgPool2dOp>(
          [&](Operation *) -> LogicalResult {
            BatchInfo x = info(op->getOperand(0));
            if (x.dim >= rankOf(op->getOperand(0)) - 2)
              return fail(op) << "it pools over the batch dimension";
            return set(result0, x);
          })
      .Case<ReshapeOp, FlattenOp>([&](Operation *) -> LogicalResult {
        // A reshape keeps the row-major order, so the batch digit keeps its
        // stride (the values after it in the flat order): the result
        // dimension whose values span that stride holds it, with the
        // factor of that dimension below the digit as its new `inner`.
        // The operand is already this rank's; the dimensions after its
        // batch dimension are whole.
        Value in = op->getOperand(0);
        BatchInfo x = info(in);
        int64_t stride = x.inner;
        for (int64_t d = x.dim + 1; d < rankOf(in); ++d)
          stride *= shapeOf(in)[d];
        ArrayRef<int64_t> out = shapeOf(result0);
        int64_t below = 1; // values after dimension j
        for (int64_t j = static_cast<int64_t>(out.size()) - 1; j >= 0; --j) {
          if (stride < below * out[j]) {
            // Dimension j holds the digit; it must hold all of it.
            if (stride % below == 0 && out[j] % (stride / below * batch) == 0) {
              BatchInfo r = batchedAt(j, x);
              r.inner = stride / below;
              return set(result0, r);
            }
            break;
          }
          below *= out[j];
        }
        return fail(op) << "the reshape to " << result0.getType()
                        << " splits the batch (of " << batch
                        << " samples) across dimensions";
      })
      .Case([&](TransposeOp t) -> LogicalResult {
        int64_t d = info(t.getInput()).dim;
        int64_t a = t.getDim0(), b = t.getDim1();
        return set(result0, batchedAt(d == a ? b : d == b ? a : d,
                                      info(t.getInput())));
      })
      .Case([&](PermuteOp p) -> LogicalResult {
        int64_t d = info(p.getInput()).dim;
        for (auto [j, from] : llvm::enumerate(p.getPermutation()))
          if (from == d)
            return set(result0, batchedAt(j, info(p.getInput())));
        return fail(op) << "invalid permutation";
      })
      .Case([&](SliceOp s) -> LogicalResult {
        if (static_cast<int64_t>(s.getDim()) == info(s.getInput()).dim)
          return fail(op) << "it slices the batch dimension";
        return set(result0, info(s.getInput()));
      })
      .Case([&](ConcatOp c) -> LogicalResult {
        int64_t d = info(c.getInputs().front()).dim;
        for (Value v : c.getInputs())
          if (info(v).dim != d || d < 0 ||
              info(v).inner != info(c.getInputs().front()).inner)
            return fail(op) << "it concatenates values that are not all "
                               "split along the same batch dimension";
        if (static_cast<int64_t>(c.getDim()) == d)
          return fail(op) << "it concatenates along the batch dimension";
        return set(result0, info(c.getInputs().front()));
      })
      .Case([&](EmbeddingOp e) -> LogicalResult {
        if (info(e.getWeight()).batched())
          return fail(op) << "its table depends on the batch";
        return set(result0, info(e.getIndices()));
      })
      .Case<SumOp, MeanOp, AmaxOp>([&](Operation *) -> LogicalResult {
        Value in = op->getOperand(0);
        int64_t d = info(in).dim;
        auto dims = op->getAttrOfType<DenseI64ArrayAttr>("dims").asArrayRef();
        bool keepdim = op->hasAttr("keepdim");
        if (llvm::is_contained(dims, d)) {
          if (isa<AmaxOp>(op))
            return fail(op) << "a maximum over the batch is not a sum or a "
                               "mean of the ranks' maxima";
          return set(result0, partialOf(isa<SumOp>(op) ? Partial::Sum
                                                       : Partial::Mean));
        }
        int64_t below = llvm::count_if(dims, [&](int64_t k) { return k < d; });
        return set(result0, batchedAt(keepdim ? d : d - below, info(in)));
      })
      .Case<SoftmaxOp, LogSoftmaxOp>([&](Operation *) -> LogicalResult {
        if (op->getAttrOfType<IntegerAttr>("dim").getInt() ==
            info(op->getOperand(0)).dim)
          return fail(op) << "it normalises over the batch dimension";
        return set(result0, info(op->getOperand(0)));
      })
      .Case([&](CrossEntropyOp c) -> LogicalResult {
        if (info(c.getLogits()).dim != 0 || info(c.getTarget()).dim != 0)
          return fail(op) << "its logits and targets must both hold the "
                             "batch in their first dimension";
        switch (c.getReduction()) {
        case Reduction::None:
          return set(result0, info(c.getLogits()));
        case Reduction::Sum:
          return set(result0, partialOf(Partial::Sum));
        case Reduction::Mean:
          return set(result0, partialOf(Partial::Mean));
        }
        return failure();
      })
      .Case([&](MseLossOp m) -> LogicalResult {
        FailureOr<BatchInfo> i =
            broadcastInfo(op, {m.getInput(), m.getTarget()}, m.getInput());
        if (failed(i))
          return failure();
        if (!info(m.getInput()).batched() || !info(m.getTarget()).batched())
          return fail(op) << "its input and target must both hold the batch";
        switch (m.getReduction()) {
        case Reduction::None:
          return set(result0, *i);
        case Reduction::Sum:
          return set(result0, partialOf(Partial::Sum));
        case Reduction::Mean:
          return set(result0, partialOf(Partial::Mean));
        }
        return failure();
      })
      .Case<Fp8QuantizeOp, Fp8QuantizeScaledOp, ScaledMatmulOp,
            Fp8ScaleUpdateOp>([&](Operation *) -> LogicalResult {
        return fail(op) << "FP8 scales would come from each rank's own "
                           "amax (FP8 with data parallelism is not "
                           "implemented yet)";
      })
      .Default([&](Operation *) -> LogicalResult {
        return fail(op) << "accel-shard does not know how it treats the "
                           "batch dimension";
      });
}

LogicalResult BatchSplitter::retype(Operation *op) {
  for (Value result : op->getResults()) {
    BatchInfo i = info(result);
    if (!i.batched())
      continue;
    auto type = cast<RankedTensorType>(result.getType());
    SmallVector<int64_t> shape(type.getShape());
    if (shape[i.dim] % ranks != 0)
      return fail(op) << "its batch dimension of size " << shape[i.dim]
                      << " does not split evenly";
    shape[i.dim] /= ranks;
    result.setType(type.clone(shape));
  }
  if (auto d = dyn_cast<DropoutOp>(op))
    d.setRankStride(cast<RankedTensorType>(d.getType()).getNumElements());
  return success();
}

LogicalResult BatchSplitter::synchronizeBatchNorm(BatchNormOp bn) {
  Value x = bn.getInput();
  auto type = cast<RankedTensorType>(x.getType());
  if (info(x).dim != 0 || info(bn.getWeight()).touched() ||
      info(bn.getBias()).touched())
    return fail(bn) << "only its input may hold the batch, first";
  Type element = type.getElementType();
  auto isF32 = [](Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType().isF32();
  };
  if (!(element.isF32() || element.isBF16() || element.isF16()) ||
      !isF32(bn.getRunningMean()) || !isF32(bn.getRunningVar()))
    return fail(bn) << "synchronised batch norm needs an f32, bf16 or f16 "
                       "input and f32 running statistics";
  OpBuilder b(bn);
  Location loc = bn.getLoc();
  MLIRContext *ctx = b.getContext();
  // Under mixed precision (a 16-bit input, f32 parameters) the statistics
  // and the normalisation are computed in f32 and the result rounded once
  // to the input's type, as ATen's batch norm computes a bf16 input.
  auto widen = [&](Value v) -> Value {
    if (isF32(v))
      return v;
    auto t = cast<RankedTensorType>(v.getType());
    return CastOp::create(b, loc, t.clone(b.getF32Type()), v);
  };
  x = widen(x);
  type = cast<RankedTensorType>(x.getType());
  Value weight = widen(bn.getWeight()), bias = widen(bn.getBias());
  int64_t channels = type.getDimSize(1);
  // Every dimension but the channels is reduced; `count` values per
  // channel over all ranks.
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < type.getRank(); ++d)
    if (d != 1)
      dims.push_back(d);
  int64_t count = type.getNumElements() / channels * ranks;
  auto constant = [&](double v) -> Value {
    auto scalar = RankedTensorType::get({}, type.getElementType());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(scalar, b.getF32FloatAttr(v)));
  };
  auto make = [&](auto tag, ValueRange operands,
                  ArrayRef<NamedAttribute> attrs = {}) -> Value {
    using OpTy = decltype(tag);
    return (*createChecked<OpTy>(b, loc, operands, attrs))->getResult(0);
  };
  auto channelSum = [&](Value v) {
    return make(SumOp(), {v},
                {b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims)),
                 b.getNamedAttr("keepdim", b.getUnitAttr())});
  };
  std::string name = "batch_norm";
  if (auto arg = dyn_cast<BlockArgument>(bn.getWeight()))
    if (auto param = forward.getArgAttrOfType<StringAttr>(
            arg.getArgNumber(), AccelDialect::kParamAttrName))
      name = param.str();
  auto allReduce = [&](Value v, StringRef what) -> Value {
    return AllReduceOp::create(b, loc, TypeRange{v.getType()},
                               ReduceKindAttr::get(ctx, ReduceKind::Sum),
                               ValueRange{v}, b.getI64IntegerAttr(ranks),
                               b.getI64IntegerAttr(-1),
                               b.getStrArrayAttr({name + ":" + what.str()}))
        .getResult(0);
  };
  // Two passes, as the mean is known before the squares are summed.
  Value mean = make(MulOp(), {allReduce(channelSum(x), "sum"),
                              constant(1.0 / count)});
  Value centred = make(SubOp(), {x, mean});
  Value squares = allReduce(channelSum(make(MulOp(), {centred, centred})),
                            "sum_sq");
  Value var = make(MulOp(), {squares, constant(1.0 / count)});
  Value invstd = RsqrtOp::create(
      b, loc, make(AddOp(), {var, constant(bn.getEps().convertToDouble())}));
  auto statType = cast<RankedTensorType>(mean.getType());
  auto perChannel = [&](Value v, RankedTensorType to) -> Value {
    return ReshapeOp::create(b, loc, to, v);
  };
  Value y = make(MulOp(), {make(MulOp(), {centred, invstd}),
                           perChannel(weight, statType)});
  y = make(AddOp(), {y, perChannel(bias, statType)});
  if (!element.isF32())
    y = CastOp::create(b, loc, type.clone(element), y);
  // Running statistics as torch updates them: the unbiased variance.
  double momentum = bn.getMomentum().convertToDouble();
  auto runningType = cast<RankedTensorType>(bn.getRunningMean().getType());
  auto update = [&](Value running, Value batch) {
    return make(AddOp(), {make(MulOp(), {running, constant(1.0 - momentum)}),
                          make(MulOp(), {perChannel(batch, runningType),
                                         constant(momentum)})});
  };
  Value newMean = update(bn.getRunningMean(), mean);
  Value newVar = update(
      bn.getRunningVar(),
      make(MulOp(), {squares, constant(1.0 / std::max<int64_t>(count - 1, 1))}));
  infos[y].dim = 0;
  bn.getResult().replaceAllUsesWith(y);
  bn.getNewRunningMean().replaceAllUsesWith(newMean);
  bn.getNewRunningVar().replaceAllUsesWith(newVar);
  bn.erase();
  return success();
}

LogicalResult BatchSplitter::run() {
  Block &body = forward.getBody().front();
  SmallVector<Type> argTypes(forward.getArgumentTypes());
  for (BlockArgument arg : body.getArguments()) {
    unsigned i = arg.getArgNumber();
    if (!forward.getArgAttr(i, AccelDialect::kInputAttrName))
      continue;
    auto type = cast<RankedTensorType>(arg.getType());
    auto name = forward.getArgAttrOfType<StringAttr>(
        i, AccelDialect::kInputAttrName);
    if (type.getRank() == 0)
      return forward.emitError() << "input '" << name.getValue()
                                 << "' is a scalar: it has no batch to split";
    int64_t b = type.getDimSize(0);
    if (batch >= 0 && b != batch)
      return forward.emitError()
             << "inputs disagree on the batch size: '" << name.getValue()
             << "' has " << b << ", an earlier input " << batch;
    batch = b;
    if (b % ranks != 0)
      return forward.emitError()
             << "the batch of " << b << " samples (input '" << name.getValue()
             << "') does not divide evenly over " << ranks << " ranks";
    SmallVector<int64_t> shape(type.getShape());
    shape[0] /= ranks;
    arg.setType(type.clone(shape));
    argTypes[i] = arg.getType();
    infos[arg].dim = 0;
  }
  if (batch < 0)
    return forward.emitError() << "the forward has no batch input to split";

  for (Operation &op : llvm::make_early_inc_range(body.without_terminator())) {
    if (!llvm::any_of(op.getOperands(),
                      [&](Value v) { return info(v).touched(); }))
      continue;
    if (auto bn = dyn_cast<BatchNormOp>(op); bn && bn.getTraining()) {
      if (failed(synchronizeBatchNorm(bn)))
        return failure();
      continue;
    }
    if (failed(propagate(&op)) || failed(retype(&op)))
      return failure();
  }

  Operation *ret = body.getTerminator();
  for (OpOperand &result : ret->getOpOperands()) {
    BatchInfo i = info(result.get());
    unsigned n = result.getOperandNumber();
    if (n == 0) {
      if (!i.isPartial())
        return forward.emitError()
               << "the loss (result #0) is not a sum or mean over the batch, "
                  "so the ranks' losses do not combine into the whole "
                  "batch's";
      loss = i.partial;
    } else if (i.touched()) {
      return forward.emitError()
             << "result #" << n
             << " (a buffer's new value) depends on the batch: each rank "
                "would compute a different one";
    }
  }
  forward.setFunctionType(FunctionType::get(
      forward.getContext(), argTypes, ret->getOperandTypes()));
  return verify(forward);
}

/// FSDP's unit of a parameter: the shortest module prefix of its name that
/// one of `globs` matches ("" when none does); without globs, its
/// top-level child ("0", "wte"), or a numbered child of a top-level list
/// ("blocks.3").
std::string unitOf(StringRef param, ArrayRef<llvm::GlobPattern> globs) {
  SmallVector<StringRef> parts;
  param.split(parts, '.');
  if (globs.empty()) {
    unsigned index;
    if (parts.size() > 2 && !parts[1].getAsInteger(10, index))
      return (parts[0] + "." + parts[1]).str();
    return parts.size() > 1 ? parts[0].str() : std::string();
  }
  // The shortest such prefix: `*` also matches dots, and "blocks.*"
  // means each block, not each block's every submodule.
  for (size_t n = 1; n < parts.size(); ++n) {
    std::string prefix =
        llvm::join(ArrayRef<StringRef>(parts).take_front(n), ".");
    if (llvm::any_of(globs, [&](const llvm::GlobPattern &g) {
          return g.match(prefix);
        }))
      return prefix;
  }
  return "";
}

/// The 16-bit type every use of `param` casts it to (autocast's parameter
/// casts), or null when some use reads it as it is or casts differ.
Type computeTypeOf(BlockArgument param) {
  Type common;
  if (!cast<RankedTensorType>(param.getType()).getElementType().isF32())
    return Type();
  for (Operation *user : param.getUsers()) {
    auto c = dyn_cast<CastOp>(user);
    Type to = c ? cast<RankedTensorType>(c.getType()).getElementType() : Type();
    if (!to || !(to.isBF16() || to.isF16()) || (common && to != common))
      return Type();
    common = to;
  }
  return common;
}

/// FSDP: every parameter argument becomes this rank's 1-D shard of it, and
/// each unit's parameters are gathered (all_gather, bucket = the unit's
/// number in order of first use) right before the first op that uses one.
/// A parameter that mixed precision only ever reads cast to bf16 or f16
/// is gathered in that type (the casts fold into the gather); its
/// gradients are reduced in `reduceType` (null: f32, the shards' type).
void shardParameters(func::FuncOp forward, int64_t ranks, ReduceKind loss,
                     bool reshard, ArrayRef<llvm::GlobPattern> globs,
                     Type reduceType) {
  Block &body = forward.getBody().front();
  OpBuilder b(forward.getContext());
  // Autocast casts each parameter once, at the top of the function (its
  // weight cache). A unit is gathered before its first use, so each such
  // cast first moves to just before the first op that reads it: otherwise
  // every unit would be gathered, and held whole, from the start.
  for (BlockArgument arg : body.getArguments()) {
    if (!forward.getArgAttr(arg.getArgNumber(), AccelDialect::kParamAttrName))
      continue;
    for (Operation *user : llvm::make_early_inc_range(arg.getUsers())) {
      if (!isa<CastOp>(user))
        continue;
      Operation *first = nullptr;
      for (Operation *reader : user->getUsers())
        if (reader->getBlock() == &body &&
            (!first || reader->isBeforeInBlock(first)))
          first = reader;
      if (first && user->isBeforeInBlock(first))
        user->moveBefore(first);
    }
  }
  // Units in order of their parameters' first use.
  SmallVector<std::string> order;
  llvm::StringMap<SmallVector<BlockArgument>> members;
  llvm::StringMap<Operation *> firstUse;
  for (Operation &op : body.without_terminator())
    for (Value v : op.getOperands()) {
      auto arg = dyn_cast<BlockArgument>(v);
      auto name = arg && arg.getOwner() == &body
                      ? forward.getArgAttrOfType<StringAttr>(
                            arg.getArgNumber(), AccelDialect::kParamAttrName)
                      : StringAttr();
      if (!name || llvm::is_contained(members[unitOf(name, globs)], arg))
        continue;
      std::string unit = unitOf(name, globs);
      if (!firstUse.count(unit)) {
        firstUse[unit] = &op;
        order.push_back(unit);
      }
      members[unit].push_back(arg);
    }
  SmallVector<Type> argTypes(forward.getArgumentTypes());
  for (auto [number, unit] : llvm::enumerate(order)) {
    SmallVector<Value> shards;
    SmallVector<Type> wholes;
    SmallVector<StringRef> names;
    SmallVector<Type> computeTypes; // per member: its gather's type, or null
    for (BlockArgument arg : members[unit]) {
      auto type = cast<RankedTensorType>(arg.getType());
      unsigned i = arg.getArgNumber();
      computeTypes.push_back(computeTypeOf(arg));
      forward.setArgAttr(i, AccelDialect::kShardOfAttrName,
                         b.getDenseI64ArrayAttr(type.getShape()));
      arg.setType(RankedTensorType::get(
          {shardElements(type.getNumElements(), ranks)},
          type.getElementType()));
      argTypes[i] = arg.getType();
      shards.push_back(arg);
      wholes.push_back(computeTypes.back() ? type.clone(computeTypes.back())
                                           : type);
      names.push_back(
          forward.getArgAttrOfType<StringAttr>(i, AccelDialect::kParamAttrName)
              .getValue());
    }
    b.setInsertionPoint(firstUse[unit]);
    auto gather = AllGatherOp::create(
        b, firstUse[unit]->getLoc(), wholes, shards, b.getI64IntegerAttr(ranks),
        b.getI64IntegerAttr(number), b.getStrArrayAttr(names),
        ReduceKindAttr::get(b.getContext(), loss),
        reshard ? b.getUnitAttr() : UnitAttr(),
        reduceType ? TypeAttr::get(reduceType) : TypeAttr());
    for (auto [shard, whole, computeType] :
         llvm::zip(shards, gather.getResults(), computeTypes)) {
      if (computeType)
        for (Operation *c : llvm::make_early_inc_range(shard.getUsers()))
          if (c != gather) {
            c->getResult(0).replaceAllUsesWith(whole);
            c->erase();
          }
      shard.replaceAllUsesExcept(whole, gather);
    }
  }
  forward.setFunctionType(FunctionType::get(
      forward.getContext(), argTypes, forward.getResultTypes()));
}

struct ShardPass : accel::impl::ShardPassBase<ShardPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<func::FuncOp> forward = lookupForward(module, entry);
    if (failed(forward) || failed(verifyForwardContract(*forward)))
      return signalPassFailure();
    if (strategy != "ddp" && strategy != "zero1" && strategy != "zero2" &&
        strategy != "fsdp") {
      module.emitError() << "accel-shard strategy '" << strategy
                         << "' is unknown (strategies: ddp, zero1, zero2, "
                            "fsdp)";
      return signalPassFailure();
    }
    if (!units.empty() && strategy != "fsdp") {
      module.emitError() << "accel-shard units= groups parameters for "
                            "strategy fsdp, not " << strategy;
      return signalPassFailure();
    }
    SmallVector<llvm::GlobPattern> globs;
    for (const std::string &text : units) {
      llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(text);
      if (!glob) {
        module.emitError() << "accel-shard units: '" << text
                           << "' is not a glob: "
                           << llvm::toString(glob.takeError());
        return signalPassFailure();
      }
      globs.push_back(std::move(*glob));
    }
    if (ranks < 1) {
      module.emitError() << "accel-shard needs ranks >= 1, got "
                         << static_cast<int64_t>(ranks);
      return signalPassFailure();
    }
    Type reduceType; // null: gradients reduce in their own type
    if (reduceDtype == "bf16") {
      reduceType = BFloat16Type::get(&getContext());
    } else if (reduceDtype == "fp16") {
      reduceType = Float16Type::get(&getContext());
    } else if (reduceDtype != "fp32") {
      module.emitError() << "accel-shard reduce-dtype '" << reduceDtype
                         << "' is unknown (choices: fp32, bf16, fp16)";
      return signalPassFailure();
    }
    if (bucketMb <= 0 || firstBucketMb <= 0) {
      module.emitError() << "accel-shard bucket sizes must be positive";
      return signalPassFailure();
    }
    if (module.lookupSymbol(entry + "_grad") ||
        module.lookupSymbol("train_step")) {
      module.emitError() << "accel-shard splits the forward's batch and runs "
                            "before accel-autodiff; @"
                         << entry << "_grad already exists";
      return signalPassFailure();
    }
    if ((*forward)->hasAttr(AccelDialect::kDataParallelAttrName)) {
      module.emitError() << "@" << entry << " is already split by accel-shard";
      return signalPassFailure();
    }
    // Evaluation runs the model as written, on one rank, on the whole
    // parameters: synchronised batch norm leaves no batch-norm op in the
    // split forward to switch to running statistics, and an fsdp forward
    // gathers shards. Keep the unsplit forward for it.
    if (module.lookupSymbol(entry + "_eval")) {
      module.emitError() << "accel-shard keeps the unsplit forward as @"
                         << entry << "_eval, which already exists";
      return signalPassFailure();
    }
    func::FuncOp eval = forward->clone();
    eval.setSymName(entry + "_eval");
    module.insert(std::next(Block::iterator(*forward)), eval);
    BatchSplitter splitter(*forward, ranks);
    if (failed(splitter.run()))
      return signalPassFailure();
    if (strategy == "fsdp")
      shardParameters(*forward, ranks,
                      splitter.lossReduction() == BatchInfo::Partial::Sum
                          ? ReduceKind::Sum
                          : ReduceKind::Mean,
                      reshardAfterForward, globs, reduceType);
    Builder b(&getContext());
    auto mib = [&](double m) {
      return b.getI64IntegerAttr(static_cast<int64_t>(m * 1048576.0));
    };
    SmallVector<NamedAttribute> split = {
        b.getNamedAttr("strategy", b.getStringAttr(strategy)),
        b.getNamedAttr("ranks", b.getI64IntegerAttr(ranks)),
        b.getNamedAttr("global_batch",
                       b.getI64IntegerAttr(splitter.globalBatch())),
        b.getNamedAttr("loss", b.getStringAttr(splitter.lossReduction() ==
                                                       BatchInfo::Partial::Sum
                                                   ? "sum"
                                                   : "mean")),
        b.getNamedAttr("bucket_bytes", mib(bucketMb)),
        b.getNamedAttr("first_bucket_bytes", mib(firstBucketMb)),
    };
    if (reduceType)
      split.push_back(
          b.getNamedAttr("reduce_dtype", TypeAttr::get(reduceType)));
    (*forward)->setAttr(AccelDialect::kDataParallelAttrName,
                        b.getDictionaryAttr(split));
  }
};

} // namespace
