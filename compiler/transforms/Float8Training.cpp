//===- Float8Training.cpp - accel-fp8 -------------------------------------===//
//
// FP8 training decided ahead of time: each eligible linear of the forward
// function becomes fp8_quantize ×2 → scaled_matmul, whose VJP quantises the
// backward GEMMs as the recipe says (dialects/accel/Float8Recipes.h). The
// layers that stay in high precision say why.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "dialects/accel/Float8Recipes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/GlobPattern.h"

namespace accel {
#define GEN_PASS_DEF_FLOAT8TRAININGPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

constexpr llvm::StringLiteral kDecisionAttr = "accel.fp8";
constexpr llvm::StringLiteral kLayerAttr = "accel.fp8_layer";

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

constexpr llvm::StringLiteral kRecipeChoices =
    "tensorwise, rowwise, rowwise-gw-hp, mxfp8 or delayed";

/// The recipe named on the command line. The IR's enum spells
/// rowwise-gw-hp with underscores; the options take the hyphenated name
/// only, as documented.
std::optional<Fp8Recipe> parseRecipe(StringRef name) {
  if (name == "rowwise-gw-hp")
    return Fp8Recipe::RowwiseGwHp;
  if (name == "rowwise_gw_hp")
    return std::nullopt;
  return symbolizeFp8Recipe(name);
}

/// A glob and the recipe its layers get (the `override` option).
struct Override {
  std::string text;
  llvm::GlobPattern glob;
  Fp8Recipe recipe;
};

/// The parameter a value is, looking through the casts autocast adds.
std::optional<StringRef> parameterName(func::FuncOp f, Value v) {
  while (auto c = v.getDefiningOp<CastOp>())
    v = c.getInput();
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != &f.getBody().front())
    return std::nullopt;
  if (auto name = f.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                 AccelDialect::kParamAttrName))
    return name.getValue();
  return std::nullopt;
}

/// One GEMM the pass may convert: x [.., K] · Wᵀ with W [N, K] (a linear),
/// or A [M, K] · B [K, N] (a matmul).
struct Candidate {
  Operation *op;
  std::string layer;  // module path ("blocks.0.attn.query"), or a placeholder
  std::string weight; // the weight's parameter name, if it is one
  int64_t in, out, rows;
  bool isLinear;
  Fp8Recipe recipe;
  std::string decision; // empty while eligible
};

struct Float8TrainingPass
    : accel::impl::Float8TrainingPassBase<Float8TrainingPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::optional<Fp8Recipe> parsed = parseRecipe(recipe);
    if (!parsed) {
      module.emitError() << "unknown FP8 recipe '" << recipe << "' ("
                         << kRecipeChoices << ")";
      return signalPassFailure();
    }
    auto f = module.lookupSymbol<func::FuncOp>(entry);
    if (!f) {
      module.emitError() << "no function '@" << entry << "' to convert to FP8";
      return signalPassFailure();
    }
    if (f->hasAttr("accel.fp8_recipe")) {
      f.emitError() << "is already converted to FP8 ("
                    << f->getAttr("accel.fp8_recipe") << ")";
      return signalPassFailure();
    }
    SmallVector<llvm::GlobPattern> globs;
    for (const std::string &text : exclude) {
      llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(text);
      if (!glob) {
        module.emitError() << "bad exclude glob '" << text
                           << "': " << llvm::toString(glob.takeError());
        return signalPassFailure();
      }
      globs.push_back(std::move(*glob));
    }
    SmallVector<Override> perLayer;
    for (const std::string &text : overrides) {
      auto [pattern, name] = StringRef(text).rsplit('=');
      std::optional<Fp8Recipe> r = parseRecipe(name);
      if (pattern.empty() || name.empty() || !r) {
        module.emitError() << "bad override '" << text
                           << "': expected GLOB=RECIPE with RECIPE one of "
                           << kRecipeChoices;
        return signalPassFailure();
      }
      llvm::Expected<llvm::GlobPattern> glob = llvm::GlobPattern::create(pattern);
      if (!glob) {
        module.emitError() << "bad override glob '" << pattern
                           << "': " << llvm::toString(glob.takeError());
        return signalPassFailure();
      }
      perLayer.push_back({text, std::move(*glob), *r});
    }

    std::optional<Fp8AmaxAlgo> algo = symbolizeFp8AmaxAlgo(amaxAlgo);
    if (!algo) {
      module.emitError() << "unknown amax-algo '" << amaxAlgo
                         << "' (max or most_recent)";
      return signalPassFailure();
    }
    delayedAlgo = *algo;
    if (format != "hybrid" && format != "e4m3") {
      module.emitError() << "unknown FP8 format '" << format
                         << "' (hybrid or e4m3)";
      return signalPassFailure();
    }
    if (amaxHistory < 1 || margin < 0) {
      module.emitError() << "delayed scaling needs amax-history >= 1 and "
                            "margin >= 0, got "
                         << static_cast<int64_t>(amaxHistory) << " and "
                         << static_cast<int64_t>(margin);
      return signalPassFailure();
    }

    SmallVector<Candidate> candidates = collect(f);
    for (Candidate &c : candidates) {
      c.recipe = *parsed;
      for (const Override &o : perLayer)
        if (o.glob.match(c.layer) || o.glob.match(c.weight)) {
          c.recipe = o.recipe;
          break;
        }
    }
    decide(candidates, globs);
    for (const Override &o : perLayer)
      if (llvm::none_of(candidates, [&](const Candidate &c) {
            return o.glob.match(c.layer) || o.glob.match(c.weight);
          }))
        f.emitWarning() << "override '" << o.text
                        << "' matches no linear layer";
    for (auto [glob, text] : llvm::zip(globs, exclude))
      if (llvm::none_of(candidates, [&](const Candidate &c) {
            return glob.match(c.layer) || glob.match(c.weight);
          }))
        f.emitWarning() << "exclude glob '" << text
                        << "' matches no linear layer";
    if (llvm::all_of(candidates,
                     [](const Candidate &c) { return !c.decision.empty(); })) {
      InFlightDiagnostic d = f.emitError()
                             << "no linear layer is eligible for FP8 (recipe "
                             << recipe << ")";
      if (candidates.empty())
        d << ": the function has no linear layer or 2-d matmul";
      for (const Candidate &c : candidates)
        d.attachNote(c.op->getLoc()) << c.layer << ": " << c.decision;
      return signalPassFailure();
    }

    MLIRContext *ctx = &getContext();
    forward = f;
    for (Candidate &c : candidates) {
      if (!c.decision.empty()) {
        c.op->setAttr(kDecisionAttr, StringAttr::get(ctx, c.decision));
        c.op->setAttr(kLayerAttr, StringAttr::get(ctx, c.layer));
        continue;
      }
      Operation *mm = c.recipe == Fp8Recipe::Delayed ? rewriteDelayed(c)
                                                      : rewrite(c);
      mm->setAttr(kDecisionAttr,
                  StringAttr::get(ctx, "fp8 " + recipeName(c.recipe)));
      mm->setAttr(kLayerAttr, StringAttr::get(ctx, c.layer));
    }
    f->setAttr("accel.fp8_recipe", StringAttr::get(ctx, recipe.getValue()));
    if (!stateResults.empty()) {
      // The forward's updates of the inputs' and weights' scaling state
      // become results after the existing ones.
      auto ret = cast<func::ReturnOp>(f.getBody().front().getTerminator());
      unsigned first = ret.getNumOperands();
      ret->insertOperands(first, stateResults);
      f.setFunctionType(FunctionType::get(
          ctx, f.getArgumentTypes(), ret.getOperandTypes()));
      for (auto [i, name] : llvm::enumerate(stateResultNames))
        f.setResultAttr(first + i, AccelDialect::kFp8StateAttrName,
                        StringAttr::get(ctx, name));
    }
  }

  // Delayed scaling: the options, and the state the rewrite adds.
  Fp8AmaxAlgo delayedAlgo = Fp8AmaxAlgo::Max;
  func::FuncOp forward;
  SmallVector<Value> stateResults;
  SmallVector<std::string> stateResultNames;
  llvm::StringSet<> stateNames;

  /// A new `accel.fp8_state` argument of the forward function, named
  /// `name` (made unique), starting at `init`.
  Value addStateArgument(StringRef name, RankedTensorType type, double init,
                         Location loc) {
    std::string unique = name.str();
    for (int n = 2; !stateNames.insert(unique).second; ++n)
      unique = name.str() + "#" + std::to_string(n);
    Builder b(&getContext());
    SmallVector<NamedAttribute> attrs = {b.getNamedAttr(
        AccelDialect::kFp8StateAttrName, b.getStringAttr(unique))};
    if (init != 0)
      attrs.push_back(
          b.getNamedAttr(AccelDialect::kInitAttrName, b.getF32FloatAttr(init)));
    unsigned index = forward.getNumArguments();
    if (failed(forward.insertArgument(index, type,
                                      b.getDictionaryAttr(attrs), loc)))
      llvm::report_fatal_error("cannot add an FP8 state argument");
    return forward.getArgument(index);
  }

  /// The amax history and scale of one operand of `layer`.
  std::pair<Value, Value> addState(StringRef layer, StringRef operand,
                                   Location loc) {
    Type f32 = Float32Type::get(&getContext());
    std::string prefix = (layer + ".fp8." + operand).str();
    Value history = addStateArgument(
        prefix + ".amax_history",
        RankedTensorType::get({static_cast<int64_t>(amaxHistory)}, f32), 0,
        loc);
    Value scale = addStateArgument(prefix + ".scale",
                                   RankedTensorType::get({}, f32), 1.0, loc);
    return {history, scale};
  }

  /// The name of the FP8 state argument `arg`.
  StringRef stateName(Value arg) {
    return forward
        .getArgAttrOfType<StringAttr>(cast<BlockArgument>(arg).getArgNumber(),
                                      AccelDialect::kFp8StateAttrName)
        .getValue();
  }

  /// The delayed recipe: x and W quantised with their state's scales
  /// (their amaxes update the state, returned by the forward), the
  /// gradient's state handed to the GEMM for its VJP.
  Operation *rewriteDelayed(const Candidate &c) {
    OpBuilder b(c.op);
    Location loc = c.op->getLoc();
    MLIRContext *ctx = b.getContext();
    auto [lhs, rhs, bias] = operands(b, c);
    RankedTensorType resultType = typeOf(c.op->getResult(0));
    Type element = resultType.getElementType();
    Type e4m3 = Float8E4M3FNType::get(ctx);
    Type gradFormat = format == "hybrid" ? Type(Float8E5M2Type::get(ctx)) : e4m3;
    auto [xHistory, xScale] = addState(c.layer, "input", loc);
    auto [wHistory, wScale] = addState(c.layer, "weight", loc);
    auto [gHistory, gScale] = addState(c.layer, "grad_output", loc);
    auto f32Scalar = RankedTensorType::get({}, Float32Type::get(ctx));
    auto algo = Fp8AmaxAlgoAttr::get(ctx, delayedAlgo);
    auto quantize = [&](Value x, Value history, Value scale) {
      RankedTensorType t = typeOf(x);
      auto q = Fp8QuantizeScaledOp::create(
          b, loc, RankedTensorType::get(t.getShape(), e4m3), f32Scalar, x,
          scale);
      auto update = Fp8ScaleUpdateOp::create(
          b, loc, history.getType(), f32Scalar, history, scale, q.getAmax(),
          delayedAlgo, static_cast<uint64_t>(margin), e4m3);
      stateResults.push_back(update.getNewHistory());
      stateResults.push_back(update.getNewScale());
      stateResultNames.push_back(stateName(history).str());
      stateResultNames.push_back(stateName(scale).str());
      return q;
    };
    Fp8QuantizeScaledOp xq = quantize(lhs, xHistory, xScale);
    Fp8QuantizeScaledOp wq = quantize(rhs, wHistory, wScale);
    auto product = ScaledMatmulOp::create(
        b, loc, RankedTensorType::get({c.rows, c.out}, element), xq.getData(),
        xScale, wq.getData(), wScale, lhs, rhs, gHistory, gScale,
        Fp8RecipeAttr::get(ctx, Fp8Recipe::Delayed), /*output_scaled=*/true,
        algo, b.getI64IntegerAttr(margin), TypeAttr::get(gradFormat));
    return finish(b, c, product, bias);
  }

  SmallVector<Candidate> collect(func::FuncOp f) {
    SmallVector<Candidate> out;
    int unnamed = 0;
    f.walk([&](Operation *op) {
      Candidate c{op, "", "", 0, 0, 0, false, Fp8Recipe::Tensorwise, ""};
      if (auto linear = dyn_cast<LinearOp>(op)) {
        RankedTensorType w = typeOf(linear.getWeight());
        c.in = w.getDimSize(1);
        c.out = w.getDimSize(0);
        c.rows = typeOf(linear.getInput()).getNumElements() / c.in;
        c.isLinear = true;
        if (auto name = parameterName(f, linear.getWeight()))
          c.weight = *name;
      } else if (auto mm = dyn_cast<MatmulOp>(op)) {
        RankedTensorType a = typeOf(mm.getLhs()), b = typeOf(mm.getRhs());
        if (a.getRank() != 2 || b.getRank() != 2)
          return;
        c.in = b.getDimSize(0);
        c.out = b.getDimSize(1);
        c.rows = a.getDimSize(0);
        if (auto name = parameterName(f, mm.getRhs()))
          c.weight = *name;
        else if (auto name = parameterName(f, mm.getLhs()))
          c.weight = *name;
      } else {
        return;
      }
      StringRef layer = c.weight;
      layer.consume_back(".weight");
      c.layer = !layer.empty() ? layer.str()
                               : "<" + op->getName().getStringRef().str() +
                                     " #" + std::to_string(unnamed++) + ">";
      out.push_back(std::move(c));
    });
    return out;
  }

  void decide(MutableArrayRef<Candidate> candidates,
              ArrayRef<llvm::GlobPattern> globs) {
    Candidate *first = nullptr, *last = nullptr;
    for (Candidate &c : candidates)
      if (c.isLinear) {
        first = first ? first : &c;
        last = &c;
      }
    for (Candidate &c : candidates) {
      Type element = typeOf(c.op->getResult(0)).getElementType();
      if (!element.isF32() && !element.isBF16() && !element.isF16()) {
        std::string name;
        llvm::raw_string_ostream(name) << element;
        c.decision = "kept: computes in " + name;
        continue;
      }
      for (auto [glob, text] : llvm::zip(globs, exclude))
        if (glob.match(c.layer) || glob.match(c.weight)) {
          c.decision = "kept: excluded by '" + text + "'";
          break;
        }
      if (!c.decision.empty())
        continue;
      if (keepFirstLast && &c == first) {
        c.decision = "kept: first linear layer";
      } else if (keepFirstLast && &c == last) {
        c.decision = "kept: last linear layer";
      } else if (c.in % 16 || c.out % 16) {
        c.decision = "kept: " + std::to_string(c.in) + " in, " +
                     std::to_string(c.out) +
                     " out features; FP8 GEMMs need multiples of 16";
      } else if (c.recipe == Fp8Recipe::Mxfp8 &&
                 (c.in % kMxBlockSize || c.out % kMxBlockSize ||
                  c.rows % kMxBlockSize)) {
        // Every GEMM dimension is some GEMM's reduction dimension.
        c.decision = "kept: " + std::to_string(c.rows) + " rows, " +
                     std::to_string(c.in) + " in, " + std::to_string(c.out) +
                     " out features; MX blocks need multiples of 32";
      }
    }
  }

  /// Replaces the candidate's op with the FP8 form; returns the forward
  /// scaled_matmul.
  Operation *rewrite(const Candidate &c) {
    Fp8Recipe recipe = c.recipe;
    OpBuilder b(c.op);
    Location loc = c.op->getLoc();
    MLIRContext *ctx = b.getContext();
    Fp8RecipePlan plan = planFor(recipe);
    auto [lhs, rhs, bias] = operands(b, c);
    Fp8QuantizeOp lq = buildFp8Quantize(b, loc, lhs, plan.output.lhs);
    Fp8QuantizeOp rq = buildFp8Quantize(b, loc, rhs, plan.output.rhs);
    Type element = typeOf(c.op->getResult(0)).getElementType();
    auto product = ScaledMatmulOp::create(
        b, loc, RankedTensorType::get({c.rows, c.out}, element), lq.getData(),
        lq.getScale(), rq.getData(), rq.getScale(), lhs, rhs, Value(), Value(),
        Fp8RecipeAttr::get(ctx, recipe), /*output_scaled=*/false, nullptr,
        nullptr, nullptr);
    return finish(b, c, product, bias);
  }

  /// The GEMM's operands in lhs · rhsᵀ form, lhs flattened to [rows, in],
  /// and the bias (null without one).
  std::tuple<Value, Value, Value> operands(OpBuilder &b, const Candidate &c) {
    Location loc = c.op->getLoc();
    Value lhs, rhs, bias;
    if (auto linear = dyn_cast<LinearOp>(c.op)) {
      lhs = linear.getInput();
      rhs = linear.getWeight();
      bias = linear.getBias();
    } else {
      auto mm = cast<MatmulOp>(c.op);
      lhs = mm.getLhs();
      Value b2 = mm.getRhs();
      RankedTensorType t = typeOf(b2);
      rhs = TransposeOp::create(
          b, loc,
          RankedTensorType::get({t.getDimSize(1), t.getDimSize(0)},
                                t.getElementType()),
          b2, 0, 1);
    }
    auto flat =
        RankedTensorType::get({c.rows, c.in}, typeOf(lhs).getElementType());
    if (typeOf(lhs) != flat)
      lhs = ReshapeOp::create(b, loc, flat, lhs);
    return {lhs, rhs, bias};
  }

  /// Adds the bias to the GEMM `product`, restores the result's shape and
  /// replaces the candidate's op; returns `product`.
  Operation *finish(OpBuilder &b, const Candidate &c, ScaledMatmulOp product,
                    Value bias) {
    Location loc = c.op->getLoc();
    RankedTensorType resultType = typeOf(c.op->getResult(0));
    Value y = product;
    if (bias)
      y = AddOp::create(b, loc, y.getType(), y, bias);
    if (y.getType() != resultType)
      y = ReshapeOp::create(b, loc, resultType, y);
    for (NamedAttribute a : c.op->getDiscardableAttrs())
      if (a.getName() != kDecisionAttr && a.getName() != kLayerAttr)
        product->setAttr(a.getName(), a.getValue());
    c.op->getResult(0).replaceAllUsesWith(y);
    c.op->erase();
    return product;
  }
};

} // namespace
