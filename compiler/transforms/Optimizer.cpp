//===- Optimizer.cpp - accel-optimizer ------------------------------------===//
//
// Builds @train_step around @<entry>_grad: micro-batch accumulation,
// gradient clipping and a torch.optim update, with optimizer state as
// explicit, named arguments and results.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

#include <cmath>

namespace accel {
#define GEN_PASS_DEF_OPTIMIZERPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

/// Elementwise arithmetic on tensors with rank-0 constants, for writing the
/// update rules as formulas. Every op here is well-typed by construction.
class Arith {
public:
  Arith(OpBuilder &b, Location loc) : b(b), loc(loc) {}

  Value c(double v, Type element) {
    auto type = RankedTensorType::get({}, element);
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(type, b.getFloatAttr(element, v)));
  }
  Value c(double v, Value like) { return c(v, elementOf(like)); }
  Value add(Value x, Value y) { return make<AddOp>(x, y); }
  Value sub(Value x, Value y) { return make<SubOp>(x, y); }
  Value mul(Value x, Value y) { return make<MulOp>(x, y); }
  Value div(Value x, Value y) { return make<DivOp>(x, y); }
  Value mul(Value x, double k) { return mul(x, c(k, x)); }
  Value sqrt(Value x) { return SqrtOp::create(b, loc, x); }
  Value exp(Value x) { return ExpOp::create(b, loc, x); }
  Value relu(Value x) { return ReluOp::create(b, loc, x); }
  Value convert(Value x, Type element) {
    auto type = convertedType(x, element);
    return x.getType() == type ? x : CastOp::create(b, loc, type, x).getResult();
  }
  /// Σ x² over every element, as a scalar.
  Value sumOfSquares(Value x) {
    auto type = cast<RankedTensorType>(x.getType());
    SmallVector<int64_t> dims;
    for (int64_t i = 0; i < type.getRank(); ++i)
      dims.push_back(i);
    Value sq = mul(x, x);
    if (dims.empty())
      return sq;
    return *createChecked<SumOp>(
        b, loc, {sq}, {b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))});
  }
  static Type elementOf(Value v) {
    return cast<RankedTensorType>(v.getType()).getElementType();
  }

private:
  template <typename OpTy> Value make(Value x, Value y) {
    return (*createChecked<OpTy>(b, loc, {x, y}))->getResult(0);
  }
  static RankedTensorType convertedType(Value x, Type element) {
    return RankedTensorType::get(cast<RankedTensorType>(x.getType()).getShape(),
                                 element);
  }
  OpBuilder &b;
  Location loc;
};

struct Param {
  std::string name;
  Value value;   // current value (the argument)
  Value grad;    // accumulated gradient
  SmallVector<std::pair<std::string, Value>> state; // slot name -> argument
};

struct OptimizerPass : accel::impl::OptimizerPassBase<OptimizerPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    // Options first: they are wrong whatever the module holds.
    if (kind != "sgd" && kind != "adam" && kind != "adamw") {
      module.emitError() << "unknown optimizer kind '" << kind
                         << "' (sgd, adam or adamw)";
      return signalPassFailure();
    }
    if (gradAccum < 1) {
      module.emitError() << "grad-accum must be at least 1, got "
                         << static_cast<int64_t>(gradAccum);
      return signalPassFailure();
    }
    auto gradFn = module.lookupSymbol<func::FuncOp>(entry + "_grad");
    if (!gradFn) {
      module.emitError() << "no '@" << entry
                         << "_grad' to build the training step on; run "
                            "accel-autodiff first";
      return signalPassFailure();
    }
    if (module.lookupSymbol("train_step")) {
      module.emitError() << "'@train_step' already exists";
      return signalPassFailure();
    }
    if (failed(chooseLossScaling(module, gradFn)) || failed(build(module, gradFn)))
      return signalPassFailure();
  }

  /// Reads `loss-scale` (see the pass description) into `scaling` and
  /// `constantScale`, and checks the gradient function agrees.
  LogicalResult chooseLossScaling(ModuleOp module, func::FuncOp gradFn) {
    StringRef precision;
    if (auto forward = module.lookupSymbol<func::FuncOp>(entry))
      if (auto p = forward->getAttrOfType<StringAttr>("accel.precision"))
        precision = p.getValue();
    StringRef mode = lossScale;
    if (mode == "auto")
      mode = precision == "fp16" ? "dynamic" : "none";
    double constant = 0;
    if (mode == "none") {
      scaling = Scaling::None;
    } else if (mode == "dynamic") {
      scaling = Scaling::Dynamic;
    } else if (!mode.getAsDouble(constant) && std::isfinite(constant) &&
               constant > 0) {
      scaling = Scaling::Constant;
      constantScale = constant;
    } else {
      return module.emitError()
             << "unknown loss-scale '" << lossScale
             << "' (none, dynamic, auto or a positive number)";
    }
    if (scaling == Scaling::Dynamic &&
        !(initScale > 0 && std::isfinite(initScale) && growthFactor > 1 &&
          backoffFactor > 0 && backoffFactor < 1 && growthInterval >= 1))
      return module.emitError()
             << "dynamic loss scaling needs init-scale > 0, growth-factor > 1, "
                "0 < backoff-factor < 1 and growth-interval >= 1";
    lossScaleArg = -1;
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i)
      if (gradFn.getArgAttr(i, AccelDialect::kLossScaleAttrName))
        lossScaleArg = static_cast<int>(i);
    if (scaling != Scaling::None && lossScaleArg < 0)
      return module.emitError()
             << "loss scaling needs '@" << entry
             << "_grad' to take the loss scale; run accel-autodiff with "
                "loss-scale=true";
    if (scaling == Scaling::None && lossScaleArg >= 0)
      return module.emitError()
             << "'@" << entry
             << "_grad' takes a loss scale but loss-scale is none";
    if (scaling != Scaling::None)
      gradFn->setAttr("accel.initial_loss_scale",
                      Builder(module.getContext())
                          .getF64FloatAttr(scaling == Scaling::Dynamic
                                               ? initScale.getValue()
                                               : constantScale));
    if (scaling != Scaling::None && precision != "fp16")
      module.emitWarning()
          << "loss scaling a " << (precision.empty() ? "fp32" : precision)
          << " step: its gradients have f32's range and do not underflow as "
             "fp16's do; scaling anyway, as asked";
    return success();
  }

  enum class Scaling { None, Dynamic, Constant };
  Scaling scaling = Scaling::None;
  double constantScale = 1.0;
  int lossScaleArg = -1; // @<entry>_grad's loss-scale argument, if any

  double decay() const {
    return weightDecay >= 0 ? weightDecay : (kind == "adamw" ? 1e-2 : 0.0);
  }

  SmallVector<std::string> slots() const {
    if (kind == "sgd")
      return momentum != 0.0 ? SmallVector<std::string>{"momentum_buffer"}
                             : SmallVector<std::string>{};
    return {"exp_avg", "exp_avg_sq"};
  }

  /// The data-parallel split of the forward (accel-shard), if any.
  DictionaryAttr split;
  StringRef strategy;   // ddp, zero1, zero2, fsdp; empty without a split
  int64_t ranks = 1;
  int64_t nextBucket = 0; // collectives of the step are numbered in order
  /// accel-shard's reduce-dtype: gradients are cast to it for their
  /// reduction and back after; null when they reduce in their own type.
  Type reduceType;

  bool shardsOptimizerState() const {
    return strategy == "zero1" || strategy == "zero2" || strategy == "fsdp";
  }
  /// zero1/zero2: parameters whole, updated through this rank's shard and
  /// gathered after the update. fsdp: the parameters are shards already.
  bool gathersParameters() const {
    return strategy == "zero1" || strategy == "zero2";
  }
  int64_t splitInt(StringRef key) const {
    return cast<IntegerAttr>(split.get(key)).getInt();
  }

  /// DDP's buckets: parameters in reverse order, a bucket closing once it
  /// reaches its cap (the first's smaller). Each bucket lists indices into
  /// `values` (null values have no gradient and are left out).
  SmallVector<SmallVector<unsigned>> buckets(ArrayRef<Value> values) const {
    SmallVector<SmallVector<unsigned>> result(1);
    int64_t bytes = 0;
    for (size_t p = values.size(); p-- > 0;) {
      if (!values[p])
        continue;
      auto type = cast<RankedTensorType>(values[p].getType());
      result.back().push_back(p);
      bytes += type.getNumElements() *
               ((type.getElementTypeBitWidth() + 7) / 8);
      if (bytes >= splitInt(result.size() == 1 ? "first_bucket_bytes"
                                               : "bucket_bytes")) {
        result.emplace_back();
        bytes = 0;
      }
    }
    if (result.back().empty())
      result.pop_back();
    return result;
  }

  ReduceKindAttr lossReduction(OpBuilder &b) const {
    return ReduceKindAttr::get(
        b.getContext(), cast<StringAttr>(split.get("loss")).getValue() == "sum"
                            ? ReduceKind::Sum
                            : ReduceKind::Mean);
  }

  /// `v` as `element` (unchanged when null or already so).
  static Value castTo(OpBuilder &b, Location loc, Value v, Type element) {
    auto type = cast<RankedTensorType>(v.getType());
    if (!element || type.getElementType() == element)
      return v;
    return CastOp::create(b, loc, type.clone(element), v);
  }

  /// One all-reduce (`scatter` false) or reduce-scatter of `values[at]`,
  /// replacing each value with its result; in `element` when given (the
  /// results cast back to the values' types).
  void reduce(OpBuilder &b, Location loc, ReduceKindAttr kind, bool scatter,
              MutableArrayRef<Value> values, ArrayRef<unsigned> at,
              ArrayRef<StringRef> names, Type element = Type()) {
    SmallVector<Value> inputs;
    SmallVector<Type> types;
    SmallVector<Type> elements; // the values' own, to cast back to
    for (unsigned i : at) {
      elements.push_back(
          cast<RankedTensorType>(values[i].getType()).getElementType());
      inputs.push_back(castTo(b, loc, values[i], element));
      auto type = cast<RankedTensorType>(inputs.back().getType());
      types.push_back(
          scatter ? RankedTensorType::get(
                        {shardElements(type.getNumElements(), ranks)},
                        type.getElementType())
                  : Type(type));
    }
    auto bucket = b.getI64IntegerAttr(nextBucket++);
    ValueRange results =
        scatter ? ReduceScatterOp::create(b, loc, types, kind, inputs,
                                          b.getI64IntegerAttr(ranks), bucket,
                                          b.getStrArrayAttr(names))
                      .getResults()
                : AllReduceOp::create(b, loc, types, kind, inputs,
                                      b.getI64IntegerAttr(ranks), bucket,
                                      b.getStrArrayAttr(names))
                      .getResults();
    for (auto [i, r, own] : llvm::zip(at, results, elements))
      values[i] = castTo(b, loc, r, own);
  }

  /// Combines every rank's gradients and loss before anything reads them:
  /// the gradients in DDP's buckets (all-reduced; reduce-scattered under
  /// zero2, leaving each rank its shard), then the loss.
  void synchronize(OpBuilder &b, Location loc,
                   ArrayRef<std::pair<unsigned, std::string>> paramArgs,
                   MutableArrayRef<Value> grads, Value &loss) {
    ReduceKindAttr kind = lossReduction(b);
    // fsdp: each unit's gather in the forward pass reduce-scattered its
    // gradients in the backward pass already.
    for (ArrayRef<unsigned> bucket :
         strategy == "fsdp" ? SmallVector<SmallVector<unsigned>>()
                            : buckets(grads)) {
      SmallVector<StringRef> names;
      for (unsigned p : bucket)
        names.push_back(paramArgs[p].second);
      reduce(b, loc, kind, strategy == "zero2", grads, bucket, names,
             reduceType);
    }
    Value *lossRef = &loss;
    reduce(b, loc, kind, false, MutableArrayRef<Value>(lossRef, 1), {0},
           {"loss"});
  }

  /// The sum over the ranks of a scalar each computed from its shards.
  Value sumOverRanks(OpBuilder &b, Location loc, Value v, StringRef name) {
    return AllReduceOp::create(
               b, loc, TypeRange{v.getType()},
               ReduceKindAttr::get(b.getContext(), ReduceKind::Sum),
               ValueRange{v}, b.getI64IntegerAttr(ranks),
               b.getI64IntegerAttr(nextBucket++), b.getStrArrayAttr({name}))
        .getResult(0);
  }

  LogicalResult build(ModuleOp module, func::FuncOp gradFn) {
    MLIRContext *ctx = &getContext();
    OpBuilder b(ctx);
    Location loc = gradFn.getLoc();
    int64_t k = gradAccum;
    auto forward = module.lookupSymbol<func::FuncOp>(entry);
    split = forward ? forward->getAttrOfType<DictionaryAttr>(
                          AccelDialect::kDataParallelAttrName)
                    : DictionaryAttr();
    // A pass instance may run on several modules.
    strategy = "";
    ranks = 1;
    nextBucket = 0;
    reduceType = Type();
    if (split) {
      strategy = cast<StringAttr>(split.get("strategy")).getValue();
      ranks = splitInt("ranks");
      if (auto t = split.getAs<TypeAttr>("reduce_dtype"))
        reduceType = t.getValue();
    }

    // The step's arguments, as the design's signature orders them: model
    // state (parameters, buffers), optimizer state, the batch (inputs with a
    // micro-batch dimension, the seed), then step and lr. gradArgPos maps
    // each argument of @<entry>_grad to its position here.
    SmallVector<Type> argTypes;
    SmallVector<DictionaryAttr> argAttrs;
    SmallVector<unsigned> gradArgPos(gradFn.getNumArguments());
    auto isState = [&](unsigned i) {
      return gradFn.getArgAttr(i, AccelDialect::kParamAttrName) ||
             gradFn.getArgAttr(i, AccelDialect::kBufferAttrName) ||
             gradFn.getArgAttr(i, AccelDialect::kFp8StateAttrName);
    };
    auto addGradArg = [&](unsigned i) {
      auto type = cast<RankedTensorType>(gradFn.getArgumentTypes()[i]);
      if (k > 1 && gradFn.getArgAttr(i, AccelDialect::kInputAttrName)) {
        SmallVector<int64_t> shape = {k};
        llvm::append_range(shape, type.getShape());
        type = RankedTensorType::get(shape, type.getElementType());
      }
      gradArgPos[i] = argTypes.size();
      argTypes.push_back(type);
      argAttrs.push_back(gradFn.getArgAttrDict(i));
    };
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i)
      if (isState(i))
        addGradArg(i);
    SmallVector<std::pair<unsigned, std::string>> paramArgs;
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i)
      if (auto name = gradFn.getArgAttrOfType<StringAttr>(
              i, AccelDialect::kParamAttrName))
        paramArgs.push_back({i, name.str()});
    SmallVector<std::string> slotNames = slots();
    unsigned firstStateArg = argTypes.size();
    // ZeRO and FSDP: each rank holds its shard of every parameter's state.
    for (auto &[i, name] : paramArgs)
      for (const std::string &slot : slotNames) {
        auto type = cast<RankedTensorType>(gradFn.getArgumentTypes()[i]);
        NamedAttrList attrs;
        attrs.append(AccelDialect::kOptStateAttrName,
                     b.getStringAttr(name + "." + slot));
        if (auto whole = gradFn.getArgAttrOfType<DenseI64ArrayAttr>(
                i, AccelDialect::kShardOfAttrName)) {
          // fsdp: the parameter is a shard already; its state is alike.
          attrs.append(AccelDialect::kShardOfAttrName, whole);
        } else if (shardsOptimizerState()) {
          attrs.append(AccelDialect::kShardOfAttrName,
                       b.getDenseI64ArrayAttr(type.getShape()));
          type = RankedTensorType::get(
              {shardElements(type.getNumElements(), ranks)},
              type.getElementType());
        }
        argTypes.push_back(type);
        argAttrs.push_back(attrs.getDictionary(ctx));
      }
    // Loss-scaling state: the scale and growth tracker (dynamic), and the
    // optimizer's own step count, which skipped steps do not advance.
    auto i64Scalar = RankedTensorType::get({}, b.getI64Type());
    auto f32Scalar = RankedTensorType::get({}, b.getF32Type());
    auto addStateArg = [&](Type type, StringRef name) {
      argTypes.push_back(type);
      argAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
          AccelDialect::kOptStateAttrName, b.getStringAttr(name))));
      return argTypes.size() - 1;
    };
    unsigned scaleIndex = 0, trackerIndex = 0, optStepIndex = 0;
    if (scaling == Scaling::Dynamic) {
      scaleIndex = addStateArg(f32Scalar, "loss_scale");
      trackerIndex = addStateArg(i64Scalar, "loss_scale.growth_tracker");
    }
    if (scaling != Scaling::None)
      optStepIndex = addStateArg(i64Scalar, "optimizer.step");
    for (unsigned i = 0; i < gradFn.getNumArguments(); ++i)
      if (!isState(i) && static_cast<int>(i) != lossScaleArg)
        addGradArg(i);
    unsigned stepIndex = argTypes.size();
    argTypes.push_back(RankedTensorType::get({}, b.getI64Type()));
    argAttrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr(AccelDialect::kStepAttrName, b.getStringAttr("step"))));
    argTypes.push_back(RankedTensorType::get({}, b.getF32Type()));
    argAttrs.push_back(b.getDictionaryAttr(
        b.getNamedAttr(AccelDialect::kLrAttrName, b.getStringAttr("lr"))));

    b.setInsertionPointToEnd(module.getBody());
    auto step = func::FuncOp::create(b, loc, "train_step",
                                     b.getFunctionType(argTypes, {}));
    step->setAttr("accel.default_lr", b.getF64FloatAttr(lr));
    // Inputs hold this many micro-batches (a leading dimension when > 1).
    step->setAttr("accel.grad_accum", b.getI64IntegerAttr(k));
    Block *body = step.addEntryBlock();
    b.setInsertionPointToStart(body);
    Arith a(b, loc);

    auto i64Constant = [&](int64_t v) -> Value {
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i64Scalar, b.getI64IntegerAttr(v)));
    };
    auto boolConstant = [&](bool v) -> Value {
      auto type = RankedTensorType::get({}, b.getI1Type());
      return arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(type, b.getBoolAttr(v)));
    };
    // The scale this step's gradients are computed with: fixed across the
    // micro-batches; the dynamic one starts at init-scale on step 1.
    Value scale;
    if (scaling == Scaling::Constant)
      scale = a.c(constantScale, b.getF32Type());
    if (scaling == Scaling::Dynamic) {
      Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                          body->getArgument(stepIndex),
                                          i64Constant(1));
      scale = SelectOp::create(b, loc, first, a.c(initScale, b.getF32Type()),
                               body->getArgument(scaleIndex));
    }

    // Micro-batches: slice the inputs, call the gradient function, carry
    // the buffers forward, sum losses and gradients.
    unsigned gradArgs = gradFn.getNumArguments();
    SmallVector<Value> current;
    for (unsigned i = 0; i < gradArgs; ++i)
      current.push_back(static_cast<int>(i) == lossScaleArg
                            ? scale
                            : body->getArgument(gradArgPos[i]));
    Value lossSum;
    SmallVector<Value> gradSums(paramArgs.size());
    // (role, name, new value) of the buffers and FP8 state, carried from
    // micro-batch to micro-batch.
    SmallVector<std::tuple<StringRef, std::string, Value>> modelStateUpdates;
    for (int64_t m = 0; m < k; ++m) {
      SmallVector<Value> callArgs;
      for (unsigned i = 0; i < gradArgs; ++i) {
        // The step's argument, the buffers' latest values, or the scale.
        Value arg = current[i];
        if (k > 1 && gradFn.getArgAttr(i, AccelDialect::kInputAttrName)) {
          Value slice = *createChecked<SliceOp>(
              b, loc, {arg},
              {b.getNamedAttr("dim", b.getI64IntegerAttr(0)),
               b.getNamedAttr("start", b.getI64IntegerAttr(m)),
               b.getNamedAttr("end", b.getI64IntegerAttr(m + 1))});
          arg = ReshapeOp::create(b, loc, gradFn.getArgumentTypes()[i], slice);
        } else if (k > 1 && gradFn.getArgAttr(i, AccelDialect::kSeedAttrName)) {
          // Distinct masks per micro-batch: seed K * s + m.
          auto i64 = RankedTensorType::get({}, b.getI64Type());
          auto cst = [&](int64_t v) {
            return arith::ConstantOp::create(
                b, loc, DenseElementsAttr::get(i64, b.getI64IntegerAttr(v)));
          };
          arg = arith::AddIOp::create(
              b, loc, arith::MulIOp::create(b, loc, arg, cst(k)), cst(m));
        }
        callArgs.push_back(arg);
      }
      auto call = func::CallOp::create(b, loc, gradFn, callArgs);
      lossSum = lossSum ? a.add(lossSum, call.getResult(0)) : call.getResult(0);
      for (unsigned r = 1; r < call.getNumResults(); ++r) {
        if (auto g = gradFn.getResultAttrOfType<StringAttr>(
                r, AccelDialect::kGradAttrName)) {
          auto it = llvm::find_if(paramArgs, [&](auto &p) { return p.second == g.str(); });
          unsigned p = it - paramArgs.begin();
          gradSums[p] = gradSums[p] ? a.add(gradSums[p], call.getResult(r))
                                    : call.getResult(r);
        } else {
          for (StringRef role : {AccelDialect::kBufferAttrName,
                                 AccelDialect::kFp8StateAttrName}) {
            auto name = gradFn.getResultAttrOfType<StringAttr>(r, role);
            if (!name)
              continue;
            for (unsigned i = 0; i < gradArgs; ++i)
              if (gradFn.getArgAttrOfType<StringAttr>(i, role) == name)
                current[i] = call.getResult(r);
            if (m == k - 1)
              modelStateUpdates.push_back({role, name.str(), call.getResult(r)});
          }
        }
      }
    }
    Value loss = lossSum;
    if (k > 1) {
      loss = a.mul(lossSum, 1.0 / k);
      for (Value &g : gradSums)
        g = a.mul(g, 1.0 / k);
    }
    // Data parallelism: every rank's gradients and loss become the whole
    // batch's before anything reads them (clipping's norm, the overflow
    // check and the update are then the same on every rank). Under zero2
    // each rank is left with its shard of every gradient.
    if (split) {
      step->setAttr("accel.ranks", b.getI64IntegerAttr(ranks));
      step->setAttr("accel.strategy", b.getStringAttr(strategy));
      synchronize(b, loc, paramArgs, gradSums, loss);
    }
    bool gradShards = strategy == "zero2" || strategy == "fsdp";

    // GradScaler.unscale_: one check of the scaled gradients for inf/NaN,
    // then multiplication by 1 / scale (exact for the power-of-two scales
    // dynamic scaling produces).
    Value finite;
    if (scaling != Scaling::None && !gradSums.empty()) {
      finite = AllFiniteOp::create(b, loc, gradSums);
      if (gradShards) {
        // One verdict for all ranks: a NaN flag summed over them.
        Value flag = SelectOp::create(b, loc, finite, a.c(0.0, b.getF32Type()),
                                      a.c(NAN, b.getF32Type()));
        finite = AllFiniteOp::create(
            b, loc, ValueRange{sumOverRanks(b, loc, flag, "overflow")});
      }
      Value inv = a.div(a.c(1.0, scale), scale);
      for (Value &g : gradSums)
        g = a.mul(g, a.convert(inv, Arith::elementOf(g)));
    }

    // torch.nn.utils.clip_grad_norm_: scale by min(1, max / (‖g‖ + 1e-6)).
    if (clipNorm > 0 && !gradSums.empty()) {
      Value total;
      for (Value g : gradSums) {
        Value s = a.convert(a.sumOfSquares(g), b.getF32Type());
        total = total ? a.add(total, s) : s;
      }
      // Shards: each rank's part of the squares (padding adds zeros).
      if (gradShards)
        total = sumOverRanks(b, loc, total, "grad_norm_squared");
      Value norm = a.sqrt(total);
      Value coef = a.div(a.c(clipNorm, norm), a.add(norm, a.c(1e-6, norm)));
      // min(coef, 1) = coef - relu(coef - 1): exact for coef < 1, where
      // 1 - relu(1 - coef) would cancel catastrophically for a tiny coef.
      Value one = a.c(1.0, coef);
      Value clamped = a.sub(coef, a.relu(a.sub(coef, one)));
      for (Value &g : gradSums)
        g = a.mul(g, a.convert(clamped, Arith::elementOf(g)));
    }

    // The update.
    Value lrArg = body->getArgument(stepIndex + 1);
    // The update's step number: the runner's, or with loss scaling the
    // optimizer's own count of steps taken (skipped steps do not count).
    Value stepNumber = body->getArgument(stepIndex), newOptStep;
    if (scaling != Scaling::None) {
      newOptStep = arith::AddIOp::create(
          b, loc, body->getArgument(optStepIndex), i64Constant(1));
      stepNumber = newOptStep;
    }
    Value stepF = a.convert(stepNumber, b.getF32Type());
    // A skipped step keeps the old bits of every piece of state.
    auto keepIfSkipped = [&](Value updated, Value old) -> Value {
      if (!finite)
        return updated;
      return SelectOp::create(b, loc, finite, updated, old);
    };
    SmallVector<Value> results = {loss};
    SmallVector<DictionaryAttr> resultAttrs = {b.getDictionaryAttr({})};
    SmallVector<std::pair<std::string, Value>> stateResults;
    unsigned stateArg = firstStateArg;
    // ZeRO: each rank updates its shard of every parameter; the updated
    // shards are gathered below.
    auto shard = [&](Value v) -> Value {
      auto type = cast<RankedTensorType>(v.getType());
      return LocalShardOp::create(
          b, loc,
          RankedTensorType::get({shardElements(type.getNumElements(), ranks)},
                                type.getElementType()),
          v, b.getI64IntegerAttr(ranks));
    };
    SmallVector<Value> newParams;
    for (auto [p, entry] : llvm::enumerate(paramArgs)) {
      auto &[argIndex, name] = entry;
      Value param = body->getArgument(gradArgPos[argIndex]);
      Value g = gradSums[p];
      if (gathersParameters()) {
        param = shard(param);
        if (!gradShards)
          g = shard(g);
      }
      Value oldParam = param;
      SmallVector<Value> state;
      for (size_t s = 0; s < slotNames.size(); ++s)
        state.push_back(body->getArgument(stateArg++));
      Type element = Arith::elementOf(param);
      Value lrT = a.convert(lrArg, element);
      double wd = decay();
      Value newParam;
      SmallVector<Value> newState;
      if (kind == "sgd") {
        Value d = wd != 0 ? a.add(g, a.mul(param, wd)) : g;
        if (momentum != 0) {
          // The buffer starts as the first step's gradient.
          auto i64 = RankedTensorType::get({}, b.getI64Type());
          Value one = arith::ConstantOp::create(
              b, loc, DenseElementsAttr::get(i64, b.getI64IntegerAttr(1)));
          Value isFirst = arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq, stepNumber, one);
          Value first = a.convert(isFirst, element);
          Value later = a.add(a.mul(state[0], momentum), a.mul(d, 1.0 - dampening));
          Value buf = a.add(a.mul(first, d),
                            a.mul(a.sub(a.c(1.0, element), first), later));
          newState.push_back(buf);
          d = nesterov ? a.add(d, a.mul(buf, momentum)) : buf;
        }
        newParam = a.sub(param, a.mul(lrT, d));
      } else {
        if (kind == "adamw" && wd != 0)
          param = a.mul(param, a.sub(a.c(1.0, element), a.mul(lrT, wd)));
        if (kind == "adam" && wd != 0)
          g = a.add(g, a.mul(param, wd));
        Value m = a.add(a.mul(state[0], beta1), a.mul(g, 1.0 - beta1));
        Value v = a.add(a.mul(state[1], beta2), a.mul(a.mul(g, g), 1.0 - beta2));
        // 1 - beta^step, as exp(step * ln beta).
        auto correction = [&](double beta) {
          return a.sub(a.c(1.0, stepF),
                       a.exp(a.mul(stepF, a.c(std::log(beta), stepF))));
        };
        Value stepSize = a.convert(a.div(a.convert(lrArg, b.getF32Type()),
                                      correction(beta1)),
                                element);
        Value bc2Sqrt = a.convert(a.sqrt(correction(beta2)), element);
        Value denom = a.add(a.div(a.sqrt(v), bc2Sqrt), a.c(eps, element));
        newParam = a.sub(param, a.mul(stepSize, a.div(m, denom)));
        newState = {m, v};
      }
      newParams.push_back(keepIfSkipped(newParam, oldParam));
      for (auto [s, value] : llvm::enumerate(newState))
        stateResults.push_back(
            {name + "." + slotNames[s], keepIfSkipped(value, state[s])});
    }
    if (gathersParameters()) {
      // The updated shards become whole parameters on every rank, in the
      // gradients' buckets.
      SmallVector<Value> wholes;
      for (auto &[argIndex, name] : paramArgs)
        wholes.push_back(body->getArgument(gradArgPos[argIndex]));
      for (ArrayRef<unsigned> bucket : buckets(wholes)) {
        SmallVector<Value> shards;
        SmallVector<Type> types;
        SmallVector<StringRef> names;
        for (unsigned p : bucket) {
          shards.push_back(newParams[p]);
          types.push_back(wholes[p].getType());
          names.push_back(paramArgs[p].second);
        }
        auto gather = AllGatherOp::create(
            b, loc, types, shards, b.getI64IntegerAttr(ranks),
            b.getI64IntegerAttr(nextBucket++), b.getStrArrayAttr(names),
            ReduceKindAttr(), UnitAttr(), TypeAttr());
        for (auto [p, whole] : llvm::zip(bucket, gather.getResults()))
          newParams[p] = whole;
      }
    }
    for (auto [p, entry] : llvm::enumerate(paramArgs)) {
      results.push_back(newParams[p]);
      resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
          AccelDialect::kParamAttrName, b.getStringAttr(entry.second))));
    }
    for (auto &[role, name, value] : modelStateUpdates) {
      results.push_back(value);
      resultAttrs.push_back(
          b.getDictionaryAttr(b.getNamedAttr(role, b.getStringAttr(name))));
    }
    if (scaling == Scaling::Dynamic) {
      // GradScaler.update: back off after an overflow; otherwise count clean
      // steps and grow (to a finite value only) every growth-interval.
      Value tracker = body->getArgument(trackerIndex);
      Value counted = arith::AddIOp::create(b, loc, tracker, i64Constant(1));
      Value due = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                        counted, i64Constant(growthInterval));
      Value grown = a.mul(scale, a.c(growthFactor, scale));
      Value grownFinite = AllFiniteOp::create(b, loc, ValueRange{grown});
      Value cleanScale = SelectOp::create(
          b, loc, due, SelectOp::create(b, loc, grownFinite, grown, scale), scale);
      Value cleanTracker = SelectOp::create(b, loc, due, i64Constant(0), counted);
      Value backedOff = a.mul(scale, a.c(backoffFactor, scale));
      Value ok = finite ? finite : boolConstant(true);
      stateResults.push_back(
          {"loss_scale", SelectOp::create(b, loc, ok, cleanScale, backedOff)});
      stateResults.push_back(
          {"loss_scale.growth_tracker",
           SelectOp::create(b, loc, ok, cleanTracker, i64Constant(0))});
    }
    if (scaling != Scaling::None)
      stateResults.push_back(
          {"optimizer.step",
           keepIfSkipped(newOptStep, body->getArgument(optStepIndex))});
    for (auto &[name, value] : stateResults) {
      results.push_back(value);
      resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
          AccelDialect::kOptStateAttrName, b.getStringAttr(name))));
    }
    if (scaling != Scaling::None) {
      Value ok = finite ? finite : boolConstant(true);
      results.push_back(
          SelectOp::create(b, loc, ok, boolConstant(false), boolConstant(true)));
      resultAttrs.push_back(b.getDictionaryAttr(b.getNamedAttr(
          AccelDialect::kMetricAttrName, b.getStringAttr("skipped"))));
    }
    func::ReturnOp::create(b, loc, results);
    step.setFunctionType(
        b.getFunctionType(argTypes, ValueRange(results).getTypes()));
    step.setAllArgAttrs(argAttrs);
    step.setAllResultAttrs(resultAttrs);
    return success();
  }
};

} // namespace
