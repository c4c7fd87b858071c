//===- PrecisionReport.cpp - accel-precision-report -----------------------===//
//
// Prints, for every op of the forward function, where it comes from in the
// user's model, its operand and result types and the rule that chose them
// (the accel.autocast attributes accel-autocast leaves), then totals: ops
// per type, casts inserted, activation bytes per type, the loss scaling
// the training step does, and each linear layer's FP8 GEMMs or why it
// stayed in high precision. Text for people, JSON for tools.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Report.h"
#include "dialects/accel/AccelOps.h"
#include "dialects/accel/Float8Recipes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <map>
#include <optional>

namespace accel {
#define GEN_PASS_DEF_PRECISIONREPORTPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

std::string str(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << t;
  return s;
}

std::string typesOf(TypeRange types) {
  std::string s;
  for (auto [i, t] : llvm::enumerate(types))
    s += (i ? ", " : "") + str(t);
  return s;
}

struct Row {
  std::string source, op, operands, results, rule;
};

/// A linear layer accel-fp8 decided about: its three GEMMs' operand
/// formats and scalings, or why it stayed in high precision.
struct Fp8Layer {
  std::string name, source;
  bool converted;
  std::string recipe, output, gradInput, gradWeight; // converted
  std::string reason;                        // kept
};

/// Everything the report prints, in either format.
struct Report {
  std::string precision = "fp32", policy = "-", lossScaling, fp8Recipe = "none";
  std::vector<Row> rows;
  std::vector<Fp8Layer> fp8Layers;
  std::map<std::string, int64_t> opsPerType, bytesPerType;
  int64_t parameterCasts = 0, operandCasts = 0, resultCasts = 0;
};

struct PrecisionReportPass
    : accel::impl::PrecisionReportPassBase<PrecisionReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkReportFormat(module, format)))
      return signalPassFailure();
    auto f = module.lookupSymbol<func::FuncOp>(entry);
    if (!f) {
      module.emitError() << "no function '@" << entry << "' to report on";
      return signalPassFailure();
    }
    Report report;
    if (auto p = f->getAttrOfType<StringAttr>("accel.precision"))
      report.precision = p.str();
    if (auto p = f->getAttrOfType<StringAttr>("accel.autocast_policy"))
      report.policy = p.str();
    if (auto p = f->getAttrOfType<StringAttr>("accel.fp8_recipe"))
      report.fp8Recipe = p.str();
    f.walk([&](Operation *op) {
      if (isa<arith::ConstantOp, func::ReturnOp, func::FuncOp>(op))
        return;
      std::string rule;
      if (auto r = op->getAttrOfType<StringAttr>("accel.autocast"))
        rule = r.str();
      else
        rule = report.precision == "fp32" ? "fp32 (no autocast)"
                                          : "inputs' type";
      if (auto d = op->getAttrOfType<StringAttr>("accel.fp8")) {
        rule += "; " + d.str();
        report.fp8Layers.push_back(fp8Layer(op));
      }
      if (isa<CastOp>(op) && op->hasAttr("accel.autocast")) {
        StringRef r = op->getAttrOfType<StringAttr>("accel.autocast").getValue();
        if (r.starts_with("parameter cast"))
          ++report.parameterCasts;
        else if (r.starts_with("result"))
          ++report.resultCasts;
        else
          ++report.operandCasts; // inputs, buffers and intermediate values
      }
      for (Value v : op->getResults()) {
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type)
          continue;
        std::string element = str(type.getElementType());
        ++report.opsPerType[element];
        report.bytesPerType[element] +=
            type.getNumElements() * ((type.getElementTypeBitWidth() + 7) / 8);
      }
      report.rows.push_back({sourceOf(op->getLoc()),
                             op->getName().getStringRef().str(),
                             typesOf(op->getOperandTypes()),
                             typesOf(op->getResultTypes()), rule});
    });
    report.lossScaling = lossScaling(module);

    if (failed(writeReport(module, output, [&](llvm::raw_ostream &os) {
          if (format == "json")
            printJson(os, report);
          else
            printTable(os, report);
        })))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }

  static Fp8Layer fp8Layer(Operation *op) {
    Fp8Layer layer;
    if (auto name = op->getAttrOfType<StringAttr>("accel.fp8_layer"))
      layer.name = name.str();
    layer.source = sourceOf(op->getLoc());
    auto mm = dyn_cast<ScaledMatmulOp>(op);
    layer.converted = mm && mm.getRecipe();
    if (!layer.converted) {
      layer.reason = op->getAttrOfType<StringAttr>("accel.fp8").str();
      return layer;
    }
    layer.recipe = recipeName(*mm.getRecipe()); // a layer may have its own
    Fp8Format grad = Fp8Format::E5M2;
    if (mm.getGradFormat() && isa<Float8E4M3FNType>(*mm.getGradFormat()))
      grad = Fp8Format::E4M3FN;
    Fp8RecipePlan plan = planFor(*mm.getRecipe(), grad);
    if (mm.getRecipe() == Fp8Recipe::Delayed)
      layer.recipe += " (amax history " +
                      std::to_string(cast<RankedTensorType>(
                                         mm.getGradHistory().getType())
                                         .getDimSize(0)) +
                      ", " + stringifyFp8AmaxAlgo(*mm.getAmaxAlgo()).str() +
                      ", margin " + std::to_string(*mm.getMargin()) + ")";
    layer.output = plan.output.str();
    layer.gradInput = plan.gradLhs.str();
    layer.gradWeight = plan.gradRhs.str();
    return layer;
  }

  /// How the training step scales the loss, if the module has one.
  std::string lossScaling(ModuleOp module) {
    auto step = module.lookupSymbol<func::FuncOp>("train_step");
    if (!step)
      return "no training step";
    bool dynamic = false, counted = false;
    for (unsigned i = 0; i < step.getNumArguments(); ++i)
      if (auto name = step.getArgAttrOfType<StringAttr>(
              i, AccelDialect::kOptStateAttrName)) {
        dynamic |= name.getValue() == "loss_scale";
        counted |= name.getValue() == "optimizer.step";
      }
    double initial = 0;
    if (auto grad = module.lookupSymbol<func::FuncOp>(entry + "_grad"))
      if (auto s = grad->getAttrOfType<FloatAttr>("accel.initial_loss_scale"))
        initial = s.getValueAsDouble();
    std::string text;
    llvm::raw_string_ostream os(text);
    if (dynamic)
      os << "dynamic, initial scale " << initial;
    else if (counted)
      os << "constant " << initial;
    else
      os << "none";
    return text;
  }

  template <typename Map>
  static std::string joined(const Map &m, StringRef unit) {
    std::string s;
    for (auto [i, entry] : llvm::enumerate(m))
      s += (i ? ", " : "") + entry.first + " " + std::to_string(entry.second) +
           unit.str();
    return s;
  }

  void printTable(llvm::raw_ostream &os, const Report &r) {
    size_t widths[4] = {6, 2, 8, 7};
    for (const Row &row : r.rows) {
      widths[0] = std::max(widths[0], row.source.size());
      widths[1] = std::max(widths[1], row.op.size());
      widths[2] = std::max(widths[2], row.results.size());
    }
    os << "precision report for @" << entry << ": " << r.precision
       << " (autocast policy " << r.policy << ")\n";
    auto pad = [&](StringRef s, size_t w) {
      os << s;
      for (size_t i = s.size(); i < w + 2; ++i)
        os << ' ';
    };
    pad("source", widths[0]);
    pad("op", widths[1]);
    pad("results", widths[2]);
    os << "rule; operands\n";
    for (const Row &row : r.rows) {
      pad(row.source, widths[0]);
      pad(row.op, widths[1]);
      pad(row.results, widths[2]);
      os << row.rule << "; " << row.operands << "\n";
    }
    os << "ops by result type: " << joined(r.opsPerType, "") << "\n"
       << "casts inserted: "
       << r.parameterCasts + r.operandCasts + r.resultCasts << " ("
       << r.parameterCasts << " parameter, " << r.operandCasts
       << " operand, " << r.resultCasts << " result)\n"
       << "activation bytes by type: " << joined(r.bytesPerType, " B") << "\n"
       << "loss scaling: " << r.lossScaling << "\n";
    if (r.fp8Recipe == "none")
      return;
    size_t converted = llvm::count_if(
        r.fp8Layers, [](const Fp8Layer &l) { return l.converted; });
    os << "fp8: recipe " << r.fp8Recipe << ", " << converted << " of "
       << r.fp8Layers.size()
       << " linear layers converted (GEMM operands: lhs x rhs)\n";
    size_t width = 5;
    for (const Fp8Layer &l : r.fp8Layers)
      width = std::max(width, l.name.size());
    for (const Fp8Layer &l : r.fp8Layers) {
      os << "  ";
      pad(l.name, width);
      if (!l.converted) {
        os << l.reason << "\n";
        continue;
      }
      std::string indent(width + 4 + l.recipe.size() + 3, ' ');
      os << "[" << l.recipe << "] output: " << l.output << "\n";
      os << indent << "grad_input: " << l.gradInput << "\n";
      os << indent << "grad_weight: " << l.gradWeight << "\n";
    }
  }

  void printJson(llvm::raw_ostream &os, const Report &r) {
    llvm::json::Array ops;
    for (const Row &row : r.rows)
      ops.push_back(llvm::json::Object{{"source", row.source},
                                       {"op", row.op},
                                       {"operands", row.operands},
                                       {"results", row.results},
                                       {"rule", row.rule}});
    llvm::json::Array layers;
    for (const Fp8Layer &l : r.fp8Layers) {
      llvm::json::Object o{{"name", l.name},
                           {"source", l.source},
                           {"converted", l.converted}};
      if (l.converted) {
        o["recipe"] = l.recipe;
        o["output"] = l.output;
        o["grad_input"] = l.gradInput;
        o["grad_weight"] = l.gradWeight;
      } else {
        o["reason"] = l.reason;
      }
      layers.push_back(std::move(o));
    }
    llvm::json::Object byType, bytes;
    for (auto &[type, count] : r.opsPerType)
      byType[type] = count;
    for (auto &[type, count] : r.bytesPerType)
      bytes[type] = count;
    llvm::json::Object report{
        {"function", entry},
        {"precision", r.precision},
        {"policy", r.policy},
        {"ops", std::move(ops)},
        {"ops_by_type", std::move(byType)},
        {"casts", llvm::json::Object{{"parameter", r.parameterCasts},
                                     {"operand", r.operandCasts},
                                     {"result", r.resultCasts}}},
        {"activation_bytes", std::move(bytes)},
        {"loss_scaling", r.lossScaling},
        {"fp8", llvm::json::Object{{"recipe", r.fp8Recipe},
                                   {"linears", std::move(layers)}}}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
};

} // namespace
