//===- GraphLowering.cpp - a front end's graph to func.func @forward ------===//
//
// The import after the front end, in two steps:
//  1. check every node that computes on a runtime tensor is importable,
//     listing all that are not;
//  2. walk the nodes, turning tensors into accel ops and evaluating the rest
//     (sizes, lists, constant masks) at compile time with LibTorch itself.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/GraphLowering.h"

#include "compiler/import/GraphImporter.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <map>

#include <ATen/ATen.h>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/runtime/operator.h>

using namespace mlir;
namespace jit = torch::jit;

namespace accel::import {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string firstLine(const std::string &message) {
  llvm::StringRef text = llvm::StringRef(message).ltrim();
  return text.substr(0, text.find('\n')).rtrim().str();
}

llvm::Error checkTensorGeometry(const at::Tensor &t, const std::string &what) {
  auto bad = [&](const llvm::Twine &why) {
    return makeError(what + " " + why);
  };
  if (!t.defined())
    return llvm::Error::success();
  if (!t.device().is_cpu())
    return bad("is on the " + c10::DeviceTypeName(t.device().type(), true) +
               " device; accel-import reads tensors saved from the CPU");
  if (!t.has_storage())
    return bad("has no storage");
  if (t.numel() == 0)
    return llvm::Error::success();
  int64_t offset = t.storage_offset();
  if (offset < 0)
    return bad("starts at storage offset " + llvm::Twine(offset));
  // The last element's index, in elements, with checked arithmetic.
  int64_t last = offset;
  for (int64_t d = 0; d < t.dim(); ++d) {
    int64_t extent;
    if (t.stride(d) < 0 ||
        llvm::MulOverflow(t.size(d) - 1, t.stride(d), extent) ||
        llvm::AddOverflow(last, extent, last))
      return bad("has stride " + llvm::Twine(t.stride(d)) + " in dimension " +
                 llvm::Twine(d) + ", outside any storage");
  }
  int64_t bytes;
  if (llvm::MulOverflow(last + 1, static_cast<int64_t>(t.element_size()),
                        bytes) ||
      static_cast<uint64_t>(bytes) > t.storage().nbytes())
    return bad("needs " + llvm::Twine(last + 1) + " elements of storage (" +
               "offset " + llvm::Twine(offset) + ", sizes and strides of " +
               llvm::Twine(t.dim()) + " dimensions), but its storage holds " +
               llvm::Twine(t.storage().nbytes() / t.element_size()) +
               " (a truncated or inconsistent archive)");
  return llvm::Error::success();
}

namespace {

/// Ops that read only a tensor's static type (or its identity), so their
/// results are compile-time values even when the tensor is not.
bool readsOnlyShape(const jit::Node *node) {
  static const char *kinds[] = {
      "aten::size",       "aten::dim",          "prim::dtype",
      "prim::device",     "prim::is_cuda",      "prim::is_nested",
      "prim::is_quantized", "prim::is_meta",    "prim::is_sparse",
      "prim::is_mkldnn",  "aten::is_floating_point", "aten::__is__",
      "aten::__isnot__"};
  return llvm::is_contained(kinds, llvm::StringRef(node->kind().toQualString()));
}

/// Ops that draw random numbers: imported even on compile-time operands
/// (bernoulli_ fills an uninitialised compile-time tensor), since running
/// them at import would fix one draw for every step.
bool isRandom(const jit::Node *node) {
  static const char *kinds[] = {"aten::bernoulli", "aten::bernoulli_"};
  return llvm::is_contained(kinds, llvm::StringRef(node->kind().toQualString()));
}

/// Prim nodes the importer handles itself.
bool isStructural(const jit::Node *node) {
  switch (node->kind()) {
  case c10::prim::Constant:
  case c10::prim::GetAttr:
  case c10::prim::ListConstruct:
  case c10::prim::ListUnpack:
  case c10::prim::TupleConstruct:
  case c10::prim::TupleUnpack:
  case c10::prim::NumToTensor:
  case c10::prim::RaiseException:
  case c10::prim::Uninitialized:
    return true;
  default:
    return false;
  }
}

class Lowering {
public:
  Lowering(MLIRContext &context, const ImportOptions &options,
           FrontEndGraph &front)
      : context(context), options(options), front(front),
        graph(front.graph), state(front.state), stateOf(front.stateReads) {}

  llvm::Expected<ImportResult> run();

private:
  llvm::Error checkSupported(const jit::Graph &graph);
  LogicalResult convertNode(GraphImporter &g, const jit::Node *node);
  LogicalResult evaluate(GraphImporter &g, const jit::Node *node);
  LogicalResult convertWithTable(GraphImporter &g, const jit::Node *node,
                                 const AtenOp &entry);
  LogicalResult convertBlock(GraphImporter &g, const jit::Block *block);
  LogicalResult convertIf(GraphImporter &g, const jit::Node *node);
  LogicalResult convertLoop(GraphImporter &g, const jit::Node *node);
  LogicalResult constructConstant(GraphImporter &g, const jit::Node *node);
  LogicalResult unpackConstant(GraphImporter &g, const jit::Node *node);
  LogicalResult appendLoss(GraphImporter &g, Value &result, Value target);
  Location locOf(const jit::Node *node);

  MLIRContext &context;
  const ImportOptions &options;
  FrontEndGraph &front;
  std::shared_ptr<jit::Graph> graph;
  std::vector<ModuleState> &state;
  llvm::DenseMap<const jit::Value *, std::string> &stateOf;
};

Location Lowering::locOf(const jit::Node *node) {
  auto it = front.locations.find(node);
  if (it != front.locations.end())
    return it->second;
  return nodeLocation(&context, node, options.modelPath);
}

/// Step 1: every node that computes on a runtime tensor must have a
/// converter, and control flow must be decided by compile-time values; the
/// error lists each offending kind with all its locations.
llvm::Error Lowering::checkSupported(const jit::Graph &g) {
  llvm::DenseSet<const jit::Value *> dynamic;
  for (const auto &input : front.inputs)
    dynamic.insert(input.first);
  for (const auto &read : front.stateReads)
    dynamic.insert(read.first);
  std::map<std::string, std::vector<std::string>> missing;
  std::vector<std::string> kinds; // in order of first appearance
  const llvm::StringMap<AtenOp> &converters = atenOps();
  auto report = [&](const jit::Node *node) {
    std::string kind = node->kind().toQualString(), where;
    llvm::raw_string_ostream os(where);
    os << locOf(node);
    if (!missing.count(kind))
      kinds.push_back(kind);
    missing[kind].push_back(where);
  };
  auto isDynamic = [&](const jit::Value *v) { return dynamic.contains(v); };

  // Inside the branches of an `if` decided at compile time, a node is
  // reported only if the branch is taken, which the conversion finds out
  // (nn.MultiheadAttention's scripted forward tests for a fast path that
  // training never takes, and that path holds ops accel has no use for).
  std::function<void(const jit::Block *, bool)> scan =
      [&](const jit::Block *block, bool certain) {
    auto noteMissing = [&](const jit::Node *node) {
      if (certain)
        report(node);
    };
    for (const jit::Node *node : block->nodes()) {
      bool usesDynamic = llvm::any_of(node->inputs(), isDynamic);
      if (node->kind() == c10::prim::GetAttr)
        usesDynamic = node->output()->type()->cast<c10::TensorType>() != nullptr;
      if (node->kind() == c10::prim::If) {
        bool decided = !isDynamic(node->input(0));
        if (!decided)
          noteMissing(node);
        for (const jit::Block *sub : node->blocks())
          scan(sub, certain && !decided);
        for (size_t i = 0; i < node->outputs().size(); ++i)
          if (llvm::any_of(node->blocks(), [&](const jit::Block *b) {
                return isDynamic(b->outputs()[i]);
              }))
            dynamic.insert(node->output(i));
        continue;
      }
      if (node->kind() == c10::prim::Loop) {
        const jit::Block *body = node->blocks()[0];
        for (size_t i = 2; i < node->inputs().size(); ++i)
          if (isDynamic(node->input(i)))
            dynamic.insert(body->inputs()[i - 1]);
        scan(body, certain);
        if (isDynamic(node->input(0)) || isDynamic(node->input(1)) ||
            isDynamic(body->outputs()[0]))
          noteMissing(node);
        for (size_t i = 0; i < node->outputs().size(); ++i)
          if (isDynamic(node->input(i + 2)) || isDynamic(body->outputs()[i + 1]))
            dynamic.insert(node->output(i));
        continue;
      }
      bool handled = isStructural(node) ||
                     converters.count(node->kind().toQualString());
      if (usesDynamic && !handled)
        noteMissing(node);
      if ((usesDynamic && !readsOnlyShape(node)) || isRandom(node))
        for (const jit::Value *out : node->outputs())
          dynamic.insert(out);
      // list.append(tensor) makes the list itself a runtime value.
      if (usesDynamic && node->kind() == c10::aten::append)
        dynamic.insert(node->input(0));
    }
  };
  scan(g.block(), /*certain=*/true);
  if (missing.empty())
    return llvm::Error::success();
  std::string message = "'" + options.modelPath + "' uses " +
                        std::to_string(missing.size()) +
                        " op kind(s) accel cannot import:";
  for (const std::string &kind : kinds) {
    const std::vector<std::string> &locations = missing[kind];
    message += "\n  " + kind + " (" + std::to_string(locations.size()) + "x)";
    if (kind == "prim::If" || kind == "prim::Loop")
      message += ", control flow on values known only at run time";
    // One line per distinct location, with how often it occurs there.
    std::map<std::string, int> counts;
    std::vector<std::string> order;
    for (const std::string &l : locations)
      if (counts[l]++ == 0)
        order.push_back(l);
    for (const std::string &l : order)
      message += "\n    at " + l +
                 (counts[l] > 1 ? " (" + std::to_string(counts[l]) + "x)" : "");
  }
  return makeError(message);
}

/// Converts the nodes of a block in order.
LogicalResult Lowering::convertBlock(GraphImporter &g,
                                     const jit::Block *block) {
  for (const jit::Node *node : block->nodes())
    if (failed(convertNode(g, node)))
      return failure();
  return success();
}

/// prim::If on a compile-time condition: the taken branch, inlined.
LogicalResult Lowering::convertIf(GraphImporter &g,
                                  const jit::Node *node) {
  const c10::IValue *cond = g.constant(node->input(0));
  if (!cond || !cond->isBool())
    return g.error(node, "prim::If on a condition known only at run time");
  const jit::Block *taken = node->blocks()[cond->toBool() ? 0 : 1];
  if (failed(convertBlock(g, taken)))
    return failure();
  for (size_t i = 0; i < node->outputs().size(); ++i)
    g.bind(node->output(i), g.lookup(taken->outputs()[i]));
  return success();
}

/// prim::Loop with a compile-time trip count and condition: unrolled.
LogicalResult Lowering::convertLoop(GraphImporter &g,
                                    const jit::Node *node) {
  const c10::IValue *trips = g.constant(node->input(0));
  const c10::IValue *cond = g.constant(node->input(1));
  if (!trips || !trips->isInt() || !cond || !cond->isBool())
    return g.error(node, "prim::Loop whose trip count or condition is known "
                         "only at run time");
  constexpr int64_t kMaxUnroll = 100000;
  const jit::Block *body = node->blocks()[0];
  std::vector<GraphImporter::Binding> carried;
  for (size_t i = 2; i < node->inputs().size(); ++i)
    carried.push_back(g.lookup(node->input(i)));
  bool running = cond->toBool();
  for (int64_t iter = 0; running && iter < trips->toInt(); ++iter) {
    if (iter == kMaxUnroll)
      return g.error(node, "prim::Loop runs more than " +
                               llvm::Twine(kMaxUnroll) +
                               " iterations; accel unrolls loops at import");
    g.setConstant(body->inputs()[0], c10::IValue(iter));
    for (size_t i = 0; i < carried.size(); ++i)
      g.bind(body->inputs()[i + 1], carried[i]);
    if (failed(convertBlock(g, body)))
      return failure();
    const c10::IValue *next = g.constant(body->outputs()[0]);
    if (!next || !next->isBool())
      return g.error(node, "prim::Loop condition known only at run time");
    running = next->toBool();
    for (size_t i = 0; i < carried.size(); ++i)
      carried[i] = g.lookup(body->outputs()[i + 1]);
  }
  for (size_t i = 0; i < node->outputs().size(); ++i)
    g.bind(node->output(i), carried[i]);
  return success();
}

/// Lists and tuples of compile-time values (prim ops have no kernel to run).
LogicalResult Lowering::constructConstant(GraphImporter &g,
                                          const jit::Node *node) {
  std::vector<c10::IValue> items;
  for (const jit::Value *in : node->inputs()) {
    const c10::IValue *c = g.constant(in);
    if (!c)
      return g.error(node, std::string(node->kind().toQualString()) +
                               ": element %" + in->debugName() +
                               " is not a compile-time value");
    items.push_back(*c);
  }
  if (node->kind() == c10::prim::TupleConstruct) {
    g.setConstant(node->output(), c10::ivalue::Tuple::create(std::move(items)));
    return success();
  }
  c10::impl::GenericList list(
      node->output()->type()->expectRef<c10::ListType>().getElementType());
  for (c10::IValue &item : items)
    list.push_back(std::move(item));
  g.setConstant(node->output(), c10::IValue(std::move(list)));
  return success();
}

LogicalResult Lowering::unpackConstant(GraphImporter &g,
                                       const jit::Node *node) {
  const c10::IValue *c = g.constant(node->input());
  std::vector<c10::IValue> items;
  if (c && c->isList())
    items = c->toListRef().vec();
  else if (c && c->isTuple())
    items = c->toTupleRef().elements().vec();
  else
    return g.error(node, std::string(node->kind().toQualString()) +
                             " of a value that is not a compile-time list");
  if (items.size() != node->outputs().size())
    return g.error(node, "unpacking " + llvm::Twine(items.size()) +
                             " values into " +
                             llvm::Twine(node->outputs().size()));
  for (size_t i = 0; i < items.size(); ++i)
    g.setConstant(node->output(i), items[i]);
  return success();
}

/// Runs a node on compile-time inputs with LibTorch's own kernel.
LogicalResult Lowering::evaluate(GraphImporter &g,
                                 const jit::Node *node) {
  jit::Stack stack;
  for (const jit::Value *in : node->inputs()) {
    const c10::IValue *c = g.constant(in);
    if (!c)
      return g.error(node, std::string("cannot evaluate ") +
                               node->kind().toQualString() +
                               " at compile time: operand %" +
                               in->debugName() + " is not a constant");
    stack.push_back(*c);
  }
  if (node->isNondeterministic() || node->hasSideEffects())
    return g.error(node, std::string(node->kind().toQualString()) +
                             " on compile-time values is not deterministic");
  // Vararg ops (aten::format) take their operand count on top of the
  // stack, as LibTorch's interpreter pushes it.
  if (node->maybeSchema() && node->maybeSchema()->is_vararg())
    stack.push_back(c10::IValue(static_cast<int64_t>(node->inputs().size())));
  try {
    node->getOperation()(stack);
  } catch (const c10::Error &e) {
    return g.error(node, std::string(node->kind().toQualString()) + " failed: " +
                             e.what_without_backtrace());
  } catch (const std::exception &e) {
    return g.error(node, std::string(node->kind().toQualString()) + " failed: " +
                             e.what());
  }
  for (size_t i = 0; i < node->outputs().size(); ++i)
    g.setConstant(node->output(i),
                  stack[stack.size() - node->outputs().size() + i]);
  return success();
}

/// Runs a converter and checks that it emitted only the ops its table
/// entry lists (arith.constant aside), so the entry can be trusted.
LogicalResult Lowering::convertWithTable(GraphImporter &g,
                                         const jit::Node *node,
                                         const AtenOp &entry) {
  Block *block = g.builder().getInsertionBlock();
  Operation *before = block->empty() ? nullptr : &block->back();
  // The converters read arguments by position; an argument a malformed
  // graph lacks must end this import, not the process.
  try {
    if (failed(entry.convert(g, node)))
      return failure();
  } catch (const std::exception &e) {
    return g.error(node, std::string("cannot convert ") +
                             node->kind().toQualString() + " with " +
                             std::to_string(node->inputs().size()) +
                             " arguments: " + e.what());
  }
  auto first = before ? std::next(Block::iterator(before)) : block->begin();
  for (Operation &op : llvm::make_range(first, block->end())) {
    llvm::StringRef name = op.getName().getStringRef();
    if (!isa<arith::ConstantOp>(op) && !llvm::is_contained(entry.emits, name))
      return g.error(node, std::string("internal error: ") +
                               node->kind().toQualString() + " emitted " +
                               name + ", which its entry in the op table "
                               "(AtenOps.cpp) does not list");
  }
  return success();
}

LogicalResult Lowering::convertNode(GraphImporter &g,
                                    const jit::Node *node) {
  switch (node->kind()) {
  case c10::prim::Constant:
    g.setConstant(node->output(), *jit::toIValue(node->output()));
    return success();
  case c10::prim::GetAttr: {
    if (auto it = stateOf.find(node->output()); it != stateOf.end()) {
      // A buffer updated earlier in this forward is read at its new value.
      auto updated = g.bufferValues.find(it->second);
      if (updated != g.bufferValues.end()) {
        g.setTensor(node->output(), updated->second);
        g.bufferOf[node->output()] = it->second;
      }
    }
    return success();
  }
  case c10::prim::If:
    return convertIf(g, node);
  case c10::prim::Loop:
    return convertLoop(g, node);
  case c10::prim::RaiseException: {
    const c10::IValue *message = g.constant(node->input(0));
    return g.error(node, "the model raises an exception for these inputs: " +
                             (message && message->isString()
                                  ? message->toStringRef()
                                  : std::string("(no message)")));
  }
  case c10::prim::Uninitialized:
    g.setConstant(node->output(), c10::IValue());
    return success();
  case c10::prim::ListConstruct:
  case c10::prim::TupleConstruct: {
    bool tensors = llvm::any_of(node->inputs(), [&](const jit::Value *v) {
      return g.isTensor(v);
    });
    if (!tensors)
      return constructConstant(g, node);
    std::vector<Value> values;
    for (const jit::Value *in : node->inputs()) {
      // A tuple may pair tensors with None (nn.MultiheadAttention returns
      // no attention weights): a null value, None again when unpacked.
      if (const c10::IValue *c = g.constant(in);
          c && c->isNone() && node->kind() == c10::prim::TupleConstruct) {
        values.push_back(Value());
        continue;
      }
      FailureOr<Value> v = g.tensor(node, in);
      if (failed(v))
        return failure();
      values.push_back(*v);
    }
    g.setTensorList(node->output(), std::move(values));
    return success();
  }
  case c10::prim::ListUnpack:
  case c10::prim::TupleUnpack:
    if (const std::vector<Value> *list = g.tensorList(node->input())) {
      if (list->size() != node->outputs().size())
        return g.error(node, "unpacking " + llvm::Twine(list->size()) +
                                 " tensors into " +
                                 llvm::Twine(node->outputs().size()));
      for (size_t i = 0; i < list->size(); ++i) {
        if ((*list)[i])
          g.setTensor(node->output(i), (*list)[i]);
        else
          g.setConstant(node->output(i), c10::IValue());
      }
      return success();
    }
    return unpackConstant(g, node);
  case c10::prim::NumToTensor:
    if (const c10::IValue *c = g.constant(node->input());
        c && (c->isInt() || c->isDouble() || c->isBool())) {
      g.setConstant(node->output(), at::scalar_to_tensor(c->toScalar()));
      return success();
    }
    return g.error(node, "prim::NumToTensor of a value that is not a "
                         "compile-time number");
  default:
    break;
  }
  const llvm::StringMap<AtenOp> &converters = atenOps();
  auto it = converters.find(node->kind().toQualString());
  bool runtime = llvm::any_of(node->inputs(), [&](const jit::Value *v) {
    return g.isTensor(v) || g.tensorList(v);
  });
  if (it != converters.end() && (runtime || isRandom(node)))
    return convertWithTable(g, node, it->second);
  if (runtime)
    // In a branch that the support check could not decide (see
    // checkSupported), now taken.
    return g.error(node, std::string("accel cannot import ") +
                             node->kind().toQualString() +
                             " (it computes on a tensor known only at run time)");
  return evaluate(g, node);
}

LogicalResult Lowering::appendLoss(GraphImporter &g, Value &result,
                                   Value target) {
  OpBuilder &b = g.builder();
  Location loc = NameLoc::get(b.getStringAttr("loss"), result.getLoc());
  if (options.loss == LossKind::CrossEntropy) {
    FailureOr<CrossEntropyOp> loss =
        createChecked<CrossEntropyOp>(b, loc, {result, target});
    if (failed(loss))
      return failure();
    result = loss->getResult();
  } else {
    FailureOr<MseLossOp> loss = createChecked<MseLossOp>(b, loc, {result, target});
    if (failed(loss))
      return failure();
    result = loss->getResult();
  }
  return success();
}

llvm::Expected<ImportResult> Lowering::run() {
  if (llvm::Error e = checkSupported(*graph))
    return std::move(e);

  // Diagnostics (op errors at their TorchScript locations) become the
  // returned error's message.
  std::string diagnostics;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    llvm::raw_string_ostream os(diagnostics);
    if (!diagnostics.empty())
      os << "\n";
    os << d.getLocation() << ": " << d.str();
    for (const Diagnostic &note : d.getNotes())
      os << "\n" << note.getLocation() << ": note: " << note.str();
    return success();
  });
  auto failWith = [&](const llvm::Twine &context) {
    return makeError(context + (diagnostics.empty() ? "" : ":\n") + diagnostics);
  };

  OpBuilder b(&context);
  auto body = std::make_unique<Block>();
  GraphImporter g(context, *body, options.modelPath);
  g.setLocations(&front.locations);

  // Arguments: parameters and buffers, then the method's inputs, then the
  // loss target; the seed is added when dropout first asks for it.
  llvm::StringMap<Value> stateArgs;
  for (const ModuleState &s : state) {
    Type element = elementTypeFor(&context, s.value.scalar_type());
    if (!element)
      return makeError("'" + options.modelPath + "': " +
                       (s.trainable ? "parameter" : "buffer") + " '" + s.name +
                       "' has dtype " + c10::toString(s.value.scalar_type()) +
                       ", which accel does not support");
    stateArgs[s.name] = body->addArgument(
        RankedTensorType::get(s.value.sizes().vec(), element), b.getUnknownLoc());
  }

  // Values that read state stand for its argument.
  for (const auto &read : stateOf) {
    const jit::Value *value = read.first;
    const std::string &name = read.second;
    auto arg = stateArgs.find(name);
    if (arg == stateArgs.end())
      continue;
    g.setTensor(value, arg->second);
    if (llvm::any_of(state, [&](const ModuleState &s) {
          return s.name == name && !s.trainable;
        }))
      g.bufferOf[value] = name;
  }

  std::vector<std::string> argNames;
  for (const auto &input : front.inputs)
    argNames.push_back(input.second);
  std::vector<std::string> given;
  for (const InputSpec &in : options.inputs)
    given.push_back(in.name);
  std::vector<const InputSpec *> specs;
  for (const std::string &name : argNames) {
    auto it = llvm::find_if(options.inputs,
                            [&](const InputSpec &s) { return s.name == name; });
    if (it == options.inputs.end() || argNames.size() != options.inputs.size())
      return makeError("method '" + options.method + "' takes inputs (" +
                       llvm::join(argNames, ", ") + "); --input gives (" +
                       llvm::join(given, ", ") + ")");
    specs.push_back(&*it);
  }
  auto typeOf = [&](const InputSpec &s) -> Type {
    Type element = llvm::StringSwitch<Type>(s.elementType)
                       .Case("f32", b.getF32Type())
                       .Case("bf16", b.getBF16Type())
                       .Case("f16", b.getF16Type())
                       .Case("i64", b.getI64Type())
                       .Default(b.getI1Type());
    return RankedTensorType::get(s.shape, element);
  };
  for (size_t i = 0; i < specs.size(); ++i)
    g.setTensor(front.inputs[i].first,
                body->addArgument(typeOf(*specs[i]), b.getUnknownLoc()));
  Value target;
  if (options.loss != LossKind::None) {
    if (!options.target)
      return makeError("--loss needs --target NAME=SHAPExTYPE");
    if (llvm::is_contained(argNames, options.target->name))
      return makeError("--target '" + options.target->name +
                       "' is already an input of '" + options.method + "'");
    target = body->addArgument(typeOf(*options.target), b.getUnknownLoc());
  }

  if (failed(convertBlock(g, graph->block())))
    return failWith("cannot import '" + options.modelPath + "'");

  if (!front.result || !g.isTensor(front.result))
    return makeError("method '" + options.method +
                     "' must return one tensor (a loss, or predictions with "
                     "--loss)");
  Value result = *g.tensor(graph->return_node(), front.result);
  for (const auto &[name, value] : front.bufferResults) {
    if (!g.isTensor(value))
      return makeError("'" + options.modelPath + "': the new value of buffer '" +
                       name + "' is not a tensor");
    g.bufferValues[name] = *g.tensor(graph->return_node(), value);
  }
  if (options.loss != LossKind::None &&
      failed(appendLoss(g, result, target)))
    return failWith("cannot append the loss");
  auto resultType = cast<RankedTensorType>(result.getType());
  if (resultType.getRank() != 0)
  {
    std::string type;
    llvm::raw_string_ostream(type) << resultType;
    return makeError("method '" + options.method + "' returns '" + type +
                     "', not a scalar loss; add --loss cross-entropy|mse "
                     "--target NAME=SHAPExTYPE");
  }

  SmallVector<Value> results = {result};
  SmallVector<std::string> updated;
  for (const ModuleState &s : state)
    if (auto it = g.bufferValues.find(s.name); it != g.bufferValues.end()) {
      results.push_back(it->second);
      updated.push_back(s.name);
    }
  func::ReturnOp::create(g.builder(), UnknownLoc::get(&context), results);

  // The function, with each argument and buffer result named.
  OwningOpRef<ModuleOp> out = ModuleOp::create(
      FileLineColLoc::get(&context, options.modelPath, 0, 0));
  b.setInsertionPointToEnd(out->getBody());
  auto func = func::FuncOp::create(
      b, out->getLoc(), "forward",
      b.getFunctionType(body->getArgumentTypes(), ValueRange(results).getTypes()));
  func.getBody().push_back(body.release());
  unsigned arg = 0;
  for (const ModuleState &s : state)
    func.setArgAttr(arg++,
                    s.trainable ? AccelDialect::kParamAttrName
                                : AccelDialect::kBufferAttrName,
                    b.getStringAttr(s.name));
  for (const InputSpec *spec : specs)
    func.setArgAttr(arg++, AccelDialect::kInputAttrName,
                    b.getStringAttr(spec->name));
  if (target)
    func.setArgAttr(arg++, AccelDialect::kInputAttrName,
                    b.getStringAttr(options.target->name));
  if (g.seedArgument())
    func.setArgAttr(arg++, AccelDialect::kSeedAttrName, b.getStringAttr("seed"));
  // Each argument is located at the model file, under its name.
  for (unsigned i = 0; i < func.getNumArguments(); ++i)
    for (StringRef role :
         {AccelDialect::kParamAttrName, AccelDialect::kBufferAttrName,
          AccelDialect::kInputAttrName, AccelDialect::kSeedAttrName})
      if (auto name = func.getArgAttrOfType<StringAttr>(i, role))
        func.getArgument(i).setLoc(NameLoc::get(name, out->getLoc()));
  for (auto [i, name] : llvm::enumerate(updated))
    func.setResultAttr(i + 1, AccelDialect::kBufferAttrName,
                       b.getStringAttr(name));

  if (failed(verify(*out)))
    return failWith("the imported IR of '" + options.modelPath +
                    "' does not verify");
  return ImportResult{std::move(out), std::move(state)};
}

} // namespace

llvm::Expected<ImportResult> lowerGraph(MLIRContext &context,
                                        const ImportOptions &options,
                                        FrontEndGraph &front) {
  context.loadDialect<AccelDialect, func::FuncDialect, arith::ArithDialect>();
  return Lowering(context, options, front).run();
}

} // namespace accel::import
