//===- CommReport.cpp - accel-comm-report ---------------------------------===//
//
// Prints what data parallelism costs a training step before it runs: every
// collective with its bucket, tensors, element type, bytes and source; the
// bytes per step; each rank's memory for parameters, gradients, optimizer
// state and buffers (as multiples of the parameter count, the terms of the
// ZeRO paper); and the planned arena. Text for people, JSON for tools.
//
//===----------------------------------------------------------------------===//

#include "compiler/transforms/Passes.h"
#include "compiler/transforms/Report.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/raw_ostream.h"

#include <optional>

namespace accel {
#define GEN_PASS_DEF_COMMREPORTPASS
#include "compiler/transforms/Passes.h.inc"
} // namespace accel

using namespace mlir;
using namespace accel;

namespace {

int64_t bytesOf(Type type) {
  auto t = cast<RankedTensorType>(type);
  return t.getNumElements() * ((t.getElementTypeBitWidth() + 7) / 8);
}

std::string elementName(Type type) {
  std::string s;
  llvm::raw_string_ostream os(s);
  os << cast<RankedTensorType>(type).getElementType();
  return s;
}

struct Collective {
  std::string kind, reduction, dtype, source;
  int64_t bucket, bytes;
  std::vector<std::string> tensors;
};

struct Report {
  std::string function, strategy = "none";
  int64_t ranks = 1, globalBatch = 0;
  std::vector<Collective> collectives;
  int64_t payload = 0;            // bytes all-reduced per step
  int64_t parameterCount = 0;     // Ψ
  int64_t parameters = 0, gradients = 0, optimizerState = 0, buffers = 0;
  std::optional<int64_t> arena;

  /// Bytes one rank sends (and receives) per step when each all-reduce
  /// runs as a ring: a reduce-scatter and an all-gather, each moving
  /// (N - 1) / N of the payload.
  int64_t ringBytes() const {
    return ranks > 1 ? 2 * payload * (ranks - 1) / ranks : 0;
  }
};

/// `bytes` as a multiple of Ψ when it is one ("16Ψ"), for the ZeRO terms.
std::string psi(int64_t bytes, int64_t count) {
  if (count == 0)
    return "";
  if (bytes % count == 0)
    return llvm::formatv(" ({0}Ψ)", bytes / count).str();
  return llvm::formatv(" ({0:F2}Ψ)", static_cast<double>(bytes) / count).str();
}

struct CommReportPass : accel::impl::CommReportPassBase<CommReportPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (failed(checkReportFormat(module, format)))
      return signalPassFailure();
    auto step = module.lookupSymbol<func::FuncOp>(entry);
    if (!step || step.isExternal()) {
      module.emitError() << "no function '@" << entry
                         << "' to report on (build it with "
                            "--accel-train-pipeline)";
      return signalPassFailure();
    }
    Report r;
    r.function = entry;
    for (auto f : module.getOps<func::FuncOp>())
      if (auto split = f->getAttrOfType<DictionaryAttr>(
              AccelDialect::kDataParallelAttrName)) {
        r.strategy = cast<StringAttr>(split.get("strategy")).str();
        r.ranks = cast<IntegerAttr>(split.get("ranks")).getInt();
        r.globalBatch = cast<IntegerAttr>(split.get("global_batch")).getInt();
      }
    // The step's own collectives, and those of the functions it calls
    // (the gradient function, once per micro-batch) until inlined.
    SmallVector<AllReduceOp> ops;
    step.walk([&](Operation *op) {
      if (auto reduce = dyn_cast<AllReduceOp>(op))
        ops.push_back(reduce);
      if (auto call = dyn_cast<func::CallOp>(op))
        if (auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee()))
          callee.walk([&](AllReduceOp reduce) { ops.push_back(reduce); });
    });
    for (AllReduceOp op : ops) {
      Collective c;
      c.kind = "all_reduce";
      c.reduction = stringifyReduceKind(op.getKind()).str();
      c.bucket = static_cast<int64_t>(op.getBucket());
      c.bytes = 0;
      llvm::SmallVector<std::string> dtypes; // distinct, in operand order
      for (Value v : op.getInputs()) {
        c.bytes += bytesOf(v.getType());
        std::string d = elementName(v.getType());
        if (!llvm::is_contained(dtypes, d))
          dtypes.push_back(d);
      }
      c.dtype = llvm::join(dtypes, ",");
      if (auto names = op.getNames())
        for (Attribute n : *names)
          c.tensors.push_back(cast<StringAttr>(n).str());
      c.source = sourceOf(op.getLoc());
      r.payload += c.bytes;
      r.collectives.push_back(std::move(c));
    }
    for (unsigned i = 0; i < step.getNumArguments(); ++i) {
      Type t = step.getArgumentTypes()[i];
      if (step.getArgAttr(i, AccelDialect::kParamAttrName)) {
        r.parameterCount += cast<RankedTensorType>(t).getNumElements();
        r.parameters += bytesOf(t);
        // Each parameter has one gradient of its type.
        r.gradients += bytesOf(t);
      } else if (step.getArgAttr(i, AccelDialect::kOptStateAttrName)) {
        r.optimizerState += bytesOf(t);
      } else if (step.getArgAttr(i, AccelDialect::kBufferAttrName) ||
                 step.getArgAttr(i, AccelDialect::kFp8StateAttrName)) {
        r.buffers += bytesOf(t);
      }
    }
    if (auto arena = step->getAttrOfType<IntegerAttr>("accel.arena_bytes"))
      r.arena = arena.getInt();

    if (failed(writeReport(module, output, [&](llvm::raw_ostream &os) {
          if (format == "json")
            printJson(os, r);
          else
            printTable(os, r);
        })))
      return signalPassFailure();
    markAllAnalysesPreserved();
  }

  static void printTable(llvm::raw_ostream &os, const Report &r) {
    os << "communication report for @" << r.function << ": ";
    if (r.strategy == "none")
      os << "one rank, no data parallelism\n";
    else
      os << r.strategy << ", " << r.ranks << " ranks, global batch "
         << r.globalBatch << " (" << r.globalBatch / r.ranks
         << " per rank)\n";
    os << "collective reduction bucket dtype bytes tensors source\n";
    for (const Collective &c : r.collectives) {
      std::string tensors = llvm::join(c.tensors, ",");
      os << c.kind << " " << c.reduction << " "
         << (c.bucket >= 0 ? std::to_string(c.bucket) : "-") << " " << c.dtype
         << " " << c.bytes << " " << (tensors.empty() ? "-" : tensors) << " "
         << c.source << "\n";
    }
    os << "per step: " << r.collectives.size() << " collectives, "
       << r.payload << " B reduced; " << r.ringBytes()
       << " B sent per rank as a ring all-reduce (2(N-1)/N of the "
          "payload)\n";
    int64_t state = r.parameters + r.gradients + r.optimizerState;
    os << "per rank: " << r.parameterCount << " parameters (Ψ); parameters "
       << r.parameters << " B" << psi(r.parameters, r.parameterCount)
       << ", gradients " << r.gradients << " B"
       << psi(r.gradients, r.parameterCount) << ", optimizer state "
       << r.optimizerState << " B" << psi(r.optimizerState, r.parameterCount)
       << ", total " << state << " B" << psi(state, r.parameterCount)
       << "; buffers " << r.buffers << " B\n";
    if (r.arena)
      os << "arena per rank: " << *r.arena << " B\n";
    else
      os << "arena per rank: not planned yet (--inline "
            "--accel-plan-memory first)\n";
  }

  static void printJson(llvm::raw_ostream &os, const Report &r) {
    llvm::json::Array collectives;
    for (const Collective &c : r.collectives) {
      llvm::json::Array tensors;
      for (const std::string &t : c.tensors)
        tensors.push_back(t);
      collectives.push_back(llvm::json::Object{
          {"kind", c.kind},
          {"reduction", c.reduction},
          {"bucket", c.bucket},
          {"dtype", c.dtype},
          {"bytes", c.bytes},
          {"tensors", std::move(tensors)},
          {"source", c.source}});
    }
    llvm::json::Object report{
        {"function", r.function},
        {"strategy", r.strategy},
        {"ranks", r.ranks},
        {"global_batch", r.globalBatch},
        {"collectives", std::move(collectives)},
        {"per_step", llvm::json::Object{{"collectives",
                                         static_cast<int64_t>(
                                             r.collectives.size())},
                                        {"payload_bytes", r.payload},
                                        {"ring_bytes_per_rank",
                                         r.ringBytes()}}},
        {"per_rank_bytes",
         llvm::json::Object{{"parameters", r.parameters},
                            {"gradients", r.gradients},
                            {"optimizer_state", r.optimizerState},
                            {"buffers", r.buffers}}},
        {"parameter_count", r.parameterCount},
        {"arena_bytes", r.arena ? llvm::json::Value(*r.arena)
                                : llvm::json::Value(nullptr)}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
};

} // namespace
