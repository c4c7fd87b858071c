//===- PrecisionReport.cpp - accel-precision-report -----------------------===//
//
// Prints, for every op of the forward function, where it comes from in the
// user's model, its operand and result types and the rule that chose them
// (the accel.autocast attributes accel-autocast leaves), then totals: ops
// per type, casts inserted, activation bytes per type, and the loss
// scaling the training step does. Text for people, JSON for tools.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/Support/FileSystem.h"
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

/// The innermost file location of `loc` ("model.py:12:5"), which for an
/// imported model is its TorchScript source; "?" when there is none.
std::string sourceOf(Location loc) {
  std::string found = "?";
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      found = (file.getFilename().str() + ":" + std::to_string(file.getLine()) +
               ":" + std::to_string(file.getColumn()));
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

struct Row {
  std::string source, op, operands, results, rule;
};

struct PrecisionReportPass
    : accel::impl::PrecisionReportPassBase<PrecisionReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (format != "table" && format != "json") {
      module.emitError() << "unknown report format '" << format
                         << "' (table or json)";
      return signalPassFailure();
    }
    auto f = module.lookupSymbol<func::FuncOp>(entry);
    if (!f) {
      module.emitError() << "no function '@" << entry << "' to report on";
      return signalPassFailure();
    }
    std::string precision = "fp32", policy = "-";
    if (auto p = f->getAttrOfType<StringAttr>("accel.precision"))
      precision = p.str();
    if (auto p = f->getAttrOfType<StringAttr>("accel.autocast_policy"))
      policy = p.str();

    std::vector<Row> rows;
    std::map<std::string, int64_t> opsPerType, bytesPerType;
    int64_t parameterCasts = 0, operandCasts = 0, resultCasts = 0;
    f.walk([&](Operation *op) {
      if (isa<arith::ConstantOp, func::ReturnOp, func::FuncOp>(op))
        return;
      std::string rule;
      if (auto r = op->getAttrOfType<StringAttr>("accel.autocast"))
        rule = r.str();
      else
        rule = precision == "fp32" ? "fp32 (no autocast)" : "inputs' type";
      if (isa<CastOp>(op) && op->hasAttr("accel.autocast")) {
        StringRef r = op->getAttrOfType<StringAttr>("accel.autocast").getValue();
        if (r.starts_with("parameter cast"))
          ++parameterCasts;
        else if (r.starts_with("result"))
          ++resultCasts;
        else
          ++operandCasts; // inputs, buffers and intermediate values
      }
      for (Value v : op->getResults()) {
        auto type = dyn_cast<RankedTensorType>(v.getType());
        if (!type)
          continue;
        std::string element = str(type.getElementType());
        ++opsPerType[element];
        bytesPerType[element] += type.getNumElements() *
                                 ((type.getElementTypeBitWidth() + 7) / 8);
      }
      rows.push_back({sourceOf(op->getLoc()), op->getName().getStringRef().str(),
                      typesOf(op->getOperandTypes()),
                      typesOf(op->getResultTypes()), rule});
    });
    std::string scaling = lossScaling(module);

    std::optional<llvm::raw_fd_ostream> file;
    if (output != "-") {
      std::error_code ec;
      file.emplace(output, ec, llvm::sys::fs::OF_Text);
      if (ec) {
        module.emitError() << "cannot write '" << output
                           << "': " << ec.message();
        return signalPassFailure();
      }
    }
    llvm::raw_ostream &os = file ? *file : llvm::outs();
    if (format == "json")
      printJson(os, precision, policy, rows, opsPerType, bytesPerType,
                parameterCasts, operandCasts, resultCasts, scaling);
    else
      printTable(os, precision, policy, rows, opsPerType, bytesPerType,
                 parameterCasts, operandCasts, resultCasts, scaling);
    os.flush();
    markAllAnalysesPreserved();
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

  void printTable(llvm::raw_ostream &os, StringRef precision, StringRef policy,
                  const std::vector<Row> &rows,
                  const std::map<std::string, int64_t> &opsPerType,
                  const std::map<std::string, int64_t> &bytesPerType,
                  int64_t parameterCasts, int64_t operandCasts,
                  int64_t resultCasts, StringRef scaling) {
    size_t widths[4] = {6, 2, 8, 7};
    for (const Row &r : rows) {
      widths[0] = std::max(widths[0], r.source.size());
      widths[1] = std::max(widths[1], r.op.size());
      widths[2] = std::max(widths[2], r.results.size());
    }
    os << "precision report for @" << entry << ": " << precision
       << " (autocast policy " << policy << ")\n";
    auto pad = [&](StringRef s, size_t w) {
      os << s;
      for (size_t i = s.size(); i < w + 2; ++i)
        os << ' ';
    };
    pad("source", widths[0]);
    pad("op", widths[1]);
    pad("results", widths[2]);
    os << "rule; operands\n";
    for (const Row &r : rows) {
      pad(r.source, widths[0]);
      pad(r.op, widths[1]);
      pad(r.results, widths[2]);
      os << r.rule << "; " << r.operands << "\n";
    }
    os << "ops by result type: " << joined(opsPerType, "") << "\n"
       << "casts inserted: " << parameterCasts + operandCasts + resultCasts
       << " (" << parameterCasts << " parameter, " << operandCasts
       << " operand, " << resultCasts << " result)\n"
       << "activation bytes by type: " << joined(bytesPerType, " B") << "\n"
       << "loss scaling: " << scaling << "\n";
  }

  void printJson(llvm::raw_ostream &os, StringRef precision, StringRef policy,
                 const std::vector<Row> &rows,
                 const std::map<std::string, int64_t> &opsPerType,
                 const std::map<std::string, int64_t> &bytesPerType,
                 int64_t parameterCasts, int64_t operandCasts,
                 int64_t resultCasts, StringRef scaling) {
    llvm::json::Array ops;
    for (const Row &r : rows)
      ops.push_back(llvm::json::Object{{"source", r.source},
                                       {"op", r.op},
                                       {"operands", r.operands},
                                       {"results", r.results},
                                       {"rule", r.rule}});
    llvm::json::Object byType, bytes;
    for (auto &[type, count] : opsPerType)
      byType[type] = count;
    for (auto &[type, count] : bytesPerType)
      bytes[type] = count;
    llvm::json::Object report{
        {"function", entry},
        {"precision", precision},
        {"policy", policy},
        {"ops", std::move(ops)},
        {"ops_by_type", std::move(byType)},
        {"casts", llvm::json::Object{{"parameter", parameterCasts},
                                     {"operand", operandCasts},
                                     {"result", resultCasts}}},
        {"activation_bytes", std::move(bytes)},
        {"loss_scaling", scaling}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
};

} // namespace
