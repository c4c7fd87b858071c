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

/// Per-rank bytes of one kind of state: tensors every rank holds whole,
/// and tensors each rank holds a 1-D shard of (ZeRO), with the bytes of
/// the whole tensors behind those shards.
struct StateBytes {
  int64_t replicated = 0, shards = 0, shardedWhole = 0;
  int64_t perRank() const { return replicated + shards; }
  StateBytes &operator+=(const StateBytes &o) {
    replicated += o.replicated;
    shards += o.shards;
    shardedWhole += o.shardedWhole;
    return *this;
  }
};

/// A coefficient of Ψ: "16", "0.50".
std::string coefficient(int64_t bytes, int64_t count) {
  if (bytes % count == 0)
    return std::to_string(bytes / count);
  return llvm::formatv("{0:F2}", static_cast<double>(bytes) / count).str();
}

/// The state's bytes in the ZeRO paper's terms (" (4Ψ + 8Ψ/N)"), and the
/// zeros that pad its shards to equal sizes over `ranks` ranks.
std::string psi(const StateBytes &s, int64_t count, int64_t ranks) {
  if (count == 0)
    return "";
  SmallVector<std::string> terms;
  if (s.replicated || !s.shardedWhole)
    terms.push_back(coefficient(s.replicated, count) + "Ψ");
  if (s.shardedWhole)
    terms.push_back(coefficient(s.shardedWhole, count) + "Ψ/N");
  std::string text = " (" + llvm::join(terms, " + ");
  if (int64_t padding = s.shards * ranks - s.shardedWhole)
    text += llvm::formatv(", shards padded by {0} B over {1} ranks", padding,
                          ranks)
                .str();
  return text + ")";
}

struct Report {
  std::string function, strategy = "none";
  int64_t ranks = 1, globalBatch = 0;
  std::vector<Collective> collectives;
  int64_t payload = 0;            // bytes of the whole tensors, per step
  int64_t ringPayload = 0;        // payload counted twice for all-reduces
  int64_t parameterCount = 0;     // Ψ
  StateBytes parameters, gradients, optimizerState;
  int64_t buffers = 0;
  int64_t largestUnit = 0; // fsdp: bytes of the largest gathered unit
  std::optional<int64_t> arena;

  /// Bytes one rank sends (and receives) per step when the collectives run
  /// as rings: a reduce-scatter or an all-gather moves (N - 1) / N of its
  /// payload, an all-reduce (one of each) twice that.
  int64_t ringBytes() const {
    return ranks > 1 ? ringPayload * (ranks - 1) / ranks : 0;
  }
};

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
    SmallVector<Operation *> ops;
    auto isCollective = [](Operation *op) {
      return isa<AllReduceOp, ReduceScatterOp, AllGatherOp>(op);
    };
    step.walk([&](Operation *op) {
      if (isCollective(op))
        ops.push_back(op);
      if (auto call = dyn_cast<func::CallOp>(op))
        if (auto callee = module.lookupSymbol<func::FuncOp>(call.getCallee()))
          callee.walk([&](Operation *inner) {
            if (isCollective(inner))
              ops.push_back(inner);
          });
    });
    for (Operation *op : ops) {
      Collective c;
      // The whole tensors: an all-gather's results, the others' operands.
      ValueRange wholes = op->getOperands();
      std::optional<ArrayAttr> names;
      if (auto reduce = dyn_cast<AllReduceOp>(op)) {
        c.kind = "all_reduce";
        c.reduction = stringifyReduceKind(reduce.getKind()).str();
        c.bucket = static_cast<int64_t>(reduce.getBucket());
        names = reduce.getNames();
      } else if (auto scatter = dyn_cast<ReduceScatterOp>(op)) {
        c.kind = "reduce_scatter";
        c.reduction = stringifyReduceKind(scatter.getKind()).str();
        c.bucket = static_cast<int64_t>(scatter.getBucket());
        names = scatter.getNames();
      } else {
        auto gather = cast<AllGatherOp>(op);
        c.kind = "all_gather";
        c.reduction = "-";
        c.bucket = static_cast<int64_t>(gather.getBucket());
        names = gather.getNames();
        wholes = op->getResults();
        // fsdp: a unit's parameters, whole while it computes.
        if (gather.getBackward()) {
          int64_t unit = 0;
          for (Value v : wholes)
            unit += bytesOf(v.getType());
          r.largestUnit = std::max(r.largestUnit, unit);
        }
      }
      c.bytes = 0;
      llvm::SmallVector<std::string> dtypes; // distinct, in operand order
      for (Value v : wholes) {
        c.bytes += bytesOf(v.getType());
        std::string d = elementName(v.getType());
        if (!llvm::is_contained(dtypes, d))
          dtypes.push_back(d);
      }
      c.dtype = llvm::join(dtypes, ",");
      if (names)
        for (Attribute n : *names)
          c.tensors.push_back(cast<StringAttr>(n).str());
      c.source = sourceOf(op->getLoc());
      r.payload += c.bytes;
      r.ringPayload += (c.kind == "all_reduce" ? 2 : 1) * c.bytes;
      r.collectives.push_back(std::move(c));
    }
    for (unsigned i = 0; i < step.getNumArguments(); ++i) {
      Type t = step.getArgumentTypes()[i];
      auto whole = step.getArgAttrOfType<DenseI64ArrayAttr>(
          i, AccelDialect::kShardOfAttrName);
      if (step.getArgAttr(i, AccelDialect::kParamAttrName) && whole) {
        // fsdp: the parameter and its gradient are shards.
        auto type = cast<RankedTensorType>(t);
        auto wholeType =
            RankedTensorType::get(whole.asArrayRef(), type.getElementType());
        r.parameterCount += wholeType.getNumElements();
        for (StateBytes *s : {&r.parameters, &r.gradients}) {
          s->shards += bytesOf(t);
          s->shardedWhole += bytesOf(wholeType);
        }
      } else if (step.getArgAttr(i, AccelDialect::kParamAttrName)) {
        r.parameterCount += cast<RankedTensorType>(t).getNumElements();
        r.parameters.replicated += bytesOf(t);
        // Each parameter has one gradient of its type; zero2 keeps only
        // this rank's shard of it past the reduce-scatter.
        if (r.strategy == "zero2") {
          auto type = cast<RankedTensorType>(t);
          r.gradients.shards +=
              shardElements(type.getNumElements(), r.ranks) *
              ((type.getElementTypeBitWidth() + 7) / 8);
          r.gradients.shardedWhole += bytesOf(t);
        } else {
          r.gradients.replicated += bytesOf(t);
        }
      } else if (step.getArgAttr(i, AccelDialect::kOptStateAttrName)) {
        if (whole) {
          auto type = cast<RankedTensorType>(t);
          r.optimizerState.shards += bytesOf(t);
          r.optimizerState.shardedWhole +=
              bytesOf(RankedTensorType::get(whole.asArrayRef(),
                                            type.getElementType()));
        } else {
          r.optimizerState.replicated += bytesOf(t);
        }
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
       << r.payload << " B of whole tensors; " << r.ringBytes()
       << " B sent per rank as rings ((N-1)/N of each reduce-scatter's and "
          "all-gather's tensors, 2(N-1)/N of each all-reduce's)\n";
    StateBytes state = r.parameters;
    state += r.gradients;
    state += r.optimizerState;
    auto bytes = [&](const StateBytes &s) {
      return std::to_string(s.perRank()) + " B" +
             psi(s, r.parameterCount, r.ranks);
    };
    os << "per rank: " << r.parameterCount << " parameters (Ψ); parameters "
       << bytes(r.parameters) << ", gradients " << bytes(r.gradients)
       << ", optimizer state " << bytes(r.optimizerState) << ", total "
       << bytes(state) << "; buffers " << r.buffers << " B\n";
    if (r.largestUnit)
      os << "largest gathered unit: " << r.largestUnit
         << " B of parameters, and as much of their gradients, whole while "
            "it computes (in the arena)\n";
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
         llvm::json::Object{{"parameters", r.parameters.perRank()},
                            {"gradients", r.gradients.perRank()},
                            {"optimizer_state", r.optimizerState.perRank()},
                            {"buffers", r.buffers}}},
        {"sharded_whole_bytes",
         llvm::json::Object{{"gradients", r.gradients.shardedWhole},
                            {"optimizer_state",
                             r.optimizerState.shardedWhole}}},
        {"parameter_count", r.parameterCount},
        {"largest_unit_bytes", r.largestUnit},
        {"arena_bytes", r.arena ? llvm::json::Value(*r.arena)
                                : llvm::json::Value(nullptr)}};
    os << llvm::formatv("{0:2}", llvm::json::Value(std::move(report))) << "\n";
  }
};

} // namespace
