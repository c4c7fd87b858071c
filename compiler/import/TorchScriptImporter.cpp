//===- TorchScriptImporter.cpp - TorchScript to the accel dialect ---------===//
//
// The import of one method, in four steps:
//  1. load the archive and inline the method's graph;
//  2. fold module attributes that are not tensors (`training`, `p`, ...)
//     into constants, so that TorchScript's constant propagation removes the
//     control flow they guard;
//  3. check every remaining node is importable, listing all that are not;
//  4. walk the nodes, turning tensors into accel ops and evaluating the rest
//     (sizes, lists, constant masks) at compile time with LibTorch itself.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/TorchScriptImporter.h"

#include "compiler/import/GraphImporter.h"
#include "compiler/support/Nesting.h"
#include "compiler/support/PickleCheck.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <map>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/passes/constant_propagation.h>
#include <torch/csrc/jit/passes/dead_code_elimination.h>
#include <torch/csrc/jit/passes/inliner.h>
#include <torch/csrc/jit/runtime/graph_iterator.h>
#include <torch/csrc/jit/serialization/import.h>
#include <torch/script.h>

using namespace mlir;
namespace jit = torch::jit;

namespace accel {

llvm::Expected<InputSpec> InputSpec::parse(llvm::StringRef text) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "invalid input '" + text + "': " + why +
                                       " (expected NAME=SHAPExTYPE, e.g. "
                                       "x=128x784xf32 or y=128xi64)");
  };
  auto [name, rest] = text.split('=');
  if (name.empty() || rest.empty())
    return fail("missing '='");
  InputSpec spec;
  spec.name = name.str();
  llvm::SmallVector<llvm::StringRef> parts;
  rest.split(parts, 'x');
  spec.elementType = parts.pop_back_val().str();
  static const char *kTypes[] = {"f32", "bf16", "f16", "i64", "i1"};
  if (!llvm::is_contained(kTypes, spec.elementType))
    return fail("unknown element type '" + spec.elementType +
                "' (f32, bf16, f16, i64 or i1)");
  // The tensor's bytes (8 per element at most) must fit in 64 bits: every
  // size computed from the shape later is then exact.
  int64_t bytes = 8;
  for (llvm::StringRef p : parts) {
    int64_t d;
    if (p.getAsInteger(10, d) || d <= 0)
      return fail("'" + p + "' is not a positive dimension");
    if (llvm::MulOverflow(bytes, d, bytes))
      return fail("the tensor would hold more than 2^63 bytes");
    spec.shape.push_back(d);
  }
  return spec;
}

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// The first non-blank line of a LibTorch error (the rest is a C++
/// backtrace; TorchScript's parse errors start with a newline).
std::string firstLine(const std::string &message) {
  llvm::StringRef text = llvm::StringRef(message).ltrim();
  return text.substr(0, text.find('\n')).rtrim().str();
}

std::string join(const std::string &prefix, const std::string &name) {
  return prefix.empty() ? name : prefix + "." + name;
}

/// Step 2: replaces non-tensor module attributes with constants and lets
/// TorchScript fold what depends on them.
void foldModuleAttributes(jit::Graph &graph, const jit::Module &root) {
  llvm::DenseMap<const jit::Value *, c10::intrusive_ptr<c10::ivalue::Object>>
      objects;
  objects[graph.inputs()[0]] = root._ivalue();
  std::function<void(jit::Block *)> visit = [&](jit::Block *block) {
    for (jit::Node *node : block->nodes()) {
      for (jit::Block *sub : node->blocks())
        visit(sub);
      if (node->kind() != c10::prim::GetAttr)
        continue;
      auto it = objects.find(node->input());
      if (it == objects.end())
        continue;
      c10::IValue attr = it->second->getAttr(node->s(c10::attr::name));
      if (attr.isObject()) {
        objects[node->output()] = attr.toObject();
        continue;
      }
      if (attr.isTensor())
        continue;
      jit::WithInsertPoint guard(node);
      if (auto constant = jit::tryInsertConstant(graph, attr))
        node->output()->replaceAllUsesWith(*constant);
    }
  };
  visit(graph.block());
  auto shared = std::shared_ptr<jit::Graph>(&graph, [](jit::Graph *) {});
  jit::ConstantPropagation(shared);
  jit::EliminateDeadCode(shared);
}

/// Ops that read only a tensor's static type, so their results are
/// compile-time values even when the tensor is not.
bool readsOnlyShape(const jit::Node *node) {
  static const char *kinds[] = {"aten::size", "aten::dim"};
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

class Importer {
public:
  Importer(MLIRContext &context, const ImportOptions &options)
      : context(context), options(options) {}

  llvm::Expected<ImportResult> run();

private:
  llvm::Error load();
  llvm::Error checkSupported(const jit::Graph &graph);
  LogicalResult convert(import::GraphImporter &g, const jit::Graph &graph);
  LogicalResult convertNode(import::GraphImporter &g, const jit::Node *node);
  LogicalResult evaluate(import::GraphImporter &g, const jit::Node *node);
  LogicalResult convertBlock(import::GraphImporter &g, const jit::Block *block);
  LogicalResult convertIf(import::GraphImporter &g, const jit::Node *node);
  LogicalResult convertLoop(import::GraphImporter &g, const jit::Node *node);
  LogicalResult constructConstant(import::GraphImporter &g,
                                  const jit::Node *node);
  LogicalResult unpackConstant(import::GraphImporter &g, const jit::Node *node);
  LogicalResult appendLoss(import::GraphImporter &g, Value &result,
                           Value target);

  MLIRContext &context;
  const ImportOptions &options;
  jit::Module module;
  std::shared_ptr<jit::Graph> graph;
  /// Parameters and buffers in named_parameters()/named_buffers() order.
  std::vector<ModuleState> state;
  /// Other names of tied state, mapped to the name it is kept under.
  std::map<std::string, std::string> aliases;
  llvm::DenseMap<const jit::Value *, std::string> stateOf;
  llvm::DenseMap<const jit::Value *,
                 std::pair<std::string, c10::intrusive_ptr<c10::ivalue::Object>>>
      submodules;
};

/// Checks that `t`'s sizes, strides and offset stay inside its storage and
/// that the storage holds data on the CPU, before anything reads it: an
/// archive's pickle states them, and LibTorch trusts it (a truncated
/// storage, a negative offset or a huge stride would read out of bounds).
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

/// Checks that every storage a pickle of the archive (data.pkl,
/// constants.pkl) declares fits in its record: the pickle states the
/// element count and LibTorch trusts it, so a truncated record would be
/// read past its end. LibTorch's own unpickler reads the pickle here, with
/// stand-in classes for the model's, and names each storage it builds.
llvm::Error checkArchiveStorages(caffe2::serialize::PyTorchStreamReader &reader,
                                 const std::string &path) {
  for (llvm::StringRef archive : {"data", "constants"}) {
    std::string pickle = (archive + ".pkl").str();
    if (!reader.hasRecord(pickle))
      continue;
    auto [bytes, size] = reader.getRecord(pickle);
    size_t position = 0;
    auto read = [&, &bytes = bytes, size = size](char *out, size_t n) {
      n = std::min(n, size - position);
      std::memcpy(out, static_cast<const char *>(bytes.get()) + position, n);
      position += n;
      return n;
    };
    auto unit = std::make_shared<jit::CompilationUnit>();
    auto resolve = [&](const c10::QualifiedName &name) {
      if (!unit->get_class(name))
        unit->register_type(c10::ClassType::create(name, unit));
      return c10::StrongTypePtr(unit, unit->get_class(name));
    };
    auto load = [](const at::StrongTypePtr &type, const c10::IValue &) {
      return c10::ivalue::Object::create(type, 0);
    };
    std::map<std::string, size_t> recordBytes;
    auto readRecord = [&](const std::string &key) {
      auto [data, n] = reader.getRecord((archive + "/" + key).str());
      recordBytes[key] = n;
      return std::move(data);
    };
    auto storages = std::make_shared<jit::DeserializationStorageContext>();
    jit::Unpickler unpickler(read, resolve, load, readRecord, at::Device("cpu"),
                             /*use_storage_device=*/false,
                             jit::Unpickler::defaultTypeParser, storages);
    unpickler.parse_ivalue();
    for (const auto &[key, n] : recordBytes) {
      size_t need =
          storages->hasStorage(key) ? storages->getStorage(key).nbytes() : 0;
      if (need > n)
        return makeError("'" + path + "': storage " + archive + "/" + key +
                         " holds " + llvm::Twine(n) + " bytes, but the " +
                         "archive declares " + llvm::Twine(need) +
                         " (a truncated or inconsistent archive)");
    }
  }
  return llvm::Error::success();
}

/// Checks what LibTorch would trust in the archive before it reads it: the
/// sizes its pickles claim (data, constants, the code's debug information),
/// the sizes of its storages, and the nesting of its TorchScript source.
llvm::Error checkArchive(const std::string &path) {
  caffe2::serialize::PyTorchStreamReader reader(path);
  for (const std::string &record : reader.getAllRecords()) {
    if (!llvm::StringRef(record).ends_with("pkl"))
      continue;
    auto [data, size] = reader.getRecord(record);
    if (llvm::Error e = checkPickle(
            llvm::StringRef(static_cast<const char *>(data.get()), size),
            path + ":" + record))
      return e;
  }
  if (llvm::Error e = checkArchiveStorages(reader, path))
    return e;
  for (const std::string &record : reader.getAllRecords()) {
    llvm::StringRef name(record);
    if (!name.ends_with(".py") || !name.contains("code/"))
      continue;
    auto [data, size] = reader.getRecord(record);
    if (llvm::Error e = checkNesting(
            llvm::StringRef(static_cast<const char *>(data.get()), size),
            path + ":" + record, SourceSyntax::Python))
      return e;
  }
  return llvm::Error::success();
}

/// LibTorch's TorchScript front end (its parser, type parser and compiler)
/// crashes on some malformed code instead of throwing: `__pArameters__ = [..]`
/// in a Conv2d's code is a SIGSEGV in ScriptTypeParser::parseClassConstant
/// (found by tests/fuzz/ArchiveFuzzer.cpp). Loading is deterministic, so a
/// child process loads the archive first; if it dies, the archive is
/// refused, and this process loads only archives that loaded there.
/// Exceptions are left to the real load, which reports them.
llvm::Error checkLoadsWithoutCrashing(const std::string &path) {
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0)
    return makeError("cannot start a process to read '" + path +
                     "': " + std::strerror(errno));
  if (child == 0) {
    // A crash report of the child (LLVM's, a sanitizer's, a fuzzer's) is
    // not the user's concern: the parent says what happened.
    for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
      std::signal(signal, SIG_DFL);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    try {
      jit::load(path);
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return makeError("cannot wait for the process reading '" + path +
                       "': " + std::strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return llvm::Error::success();
  std::string how =
      WIFSIGNALED(status)
          ? "signal " + std::to_string(WTERMSIG(status)) + ", " +
                strsignal(WTERMSIG(status))
          : "exit code " + std::to_string(WEXITSTATUS(status));
  return makeError("'" + path +
                   "' is not a readable TorchScript archive: LibTorch's "
                   "reader crashed on it (" + how + ")");
}

llvm::Error Importer::load() {
  if (!llvm::sys::fs::exists(options.modelPath))
    return makeError("cannot open '" + options.modelPath +
                     "': no such file");
  try {
    if (llvm::Error e = checkArchive(options.modelPath))
      return e;
    if (llvm::Error e = checkLoadsWithoutCrashing(options.modelPath))
      return e;
    module = jit::load(options.modelPath);
    for (const jit::NameValue &a : module.named_attributes(/*recurse=*/true))
      if (a.value.isTensor())
        if (llvm::Error e = checkTensorGeometry(
                a.value.toTensor(),
                "'" + options.modelPath + "': \"" + a.name + "\""))
          return e;
  } catch (const c10::Error &e) {
    return makeError("'" + options.modelPath +
                     "' is not a readable TorchScript archive: " +
                     firstLine(e.msg()));
  } catch (const std::exception &e) {
    return makeError("'" + options.modelPath +
                     "' is not a readable TorchScript archive: " +
                     firstLine(e.what()));
  }
  c10::optional<jit::Method> method = module.find_method(options.method);
  if (!method) {
    std::vector<std::string> names;
    for (const jit::Method &m : module.get_methods())
      names.push_back(m.name());
    return makeError("'" + options.modelPath + "' has no method '" +
                     options.method + "'; it has: " +
                     llvm::join(names, ", "));
  }
  graph = method->graph()->copy();
  jit::Inline(*graph);
  // Tensor constants of the code (the archive's constants.pkl) too.
  jit::DepthFirstGraphNodeIterator nodes(graph);
  for (jit::Node *n = nodes.next(); n; n = nodes.next())
    if (n->kind() == c10::prim::Constant &&
        n->output()->type()->kind() == c10::TypeKind::TensorType)
      if (c10::optional<c10::IValue> v = jit::toIValue(n->output()))
        if (llvm::Error e = checkTensorGeometry(
                v->toTensor(), "'" + options.modelPath + "': a constant"))
          return e;
  foldModuleAttributes(*graph, module);

  // A tensor reachable under several names (a head tied to the embedding)
  // is one piece of state, named by its first path, as Python's
  // named_parameters() does.
  auto add = [&](const std::string &name, const at::Tensor &value,
                 bool trainable) {
    for (const ModuleState &s : state)
      if (s.value.is_same(value)) {
        aliases[name] = s.name;
        return;
      }
    state.push_back({name, value, trainable});
  };
  for (const auto &p : module.named_parameters(/*recurse=*/true))
    add(p.name, p.value, /*trainable=*/true);
  for (const auto &b : module.named_buffers(/*recurse=*/true))
    add(b.name, b.value, /*trainable=*/false);
  return llvm::Error::success();
}

/// Step 3: every node that computes on a runtime tensor must have a
/// converter, and control flow must be decided by compile-time values; the
/// error lists each offending kind with all its locations.
llvm::Error Importer::checkSupported(const jit::Graph &g) {
  llvm::DenseSet<const jit::Value *> dynamic;
  for (size_t i = 1; i < g.inputs().size(); ++i)
    dynamic.insert(g.inputs()[i]);
  std::map<std::string, std::vector<std::string>> missing;
  std::vector<std::string> kinds; // in order of first appearance
  const llvm::StringMap<import::Converter> &converters = import::atenConverters();
  auto report = [&](const jit::Node *node) {
    std::string kind = node->kind().toQualString(), where;
    llvm::raw_string_ostream os(where);
    os << import::nodeLocation(&context, node, options.modelPath);
    if (!missing.count(kind))
      kinds.push_back(kind);
    missing[kind].push_back(where);
  };
  auto isDynamic = [&](const jit::Value *v) { return dynamic.contains(v); };

  std::function<void(const jit::Block *)> scan = [&](const jit::Block *block) {
    for (const jit::Node *node : block->nodes()) {
      bool usesDynamic = llvm::any_of(node->inputs(), isDynamic);
      if (node->kind() == c10::prim::GetAttr)
        usesDynamic = node->output()->type()->cast<c10::TensorType>() != nullptr;
      if (node->kind() == c10::prim::If) {
        if (isDynamic(node->input(0)))
          report(node);
        for (const jit::Block *sub : node->blocks())
          scan(sub);
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
        scan(body);
        if (isDynamic(node->input(0)) || isDynamic(node->input(1)) ||
            isDynamic(body->outputs()[0]))
          report(node);
        for (size_t i = 0; i < node->outputs().size(); ++i)
          if (isDynamic(node->input(i + 2)) || isDynamic(body->outputs()[i + 1]))
            dynamic.insert(node->output(i));
        continue;
      }
      bool handled = isStructural(node) ||
                     converters.count(node->kind().toQualString());
      if (usesDynamic && !handled)
        report(node);
      if (usesDynamic && !readsOnlyShape(node))
        for (const jit::Value *out : node->outputs())
          dynamic.insert(out);
    }
  };
  scan(g.block());
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
LogicalResult Importer::convertBlock(import::GraphImporter &g,
                                     const jit::Block *block) {
  for (const jit::Node *node : block->nodes())
    if (failed(convertNode(g, node)))
      return failure();
  return success();
}

/// prim::If on a compile-time condition: the taken branch, inlined.
LogicalResult Importer::convertIf(import::GraphImporter &g,
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
LogicalResult Importer::convertLoop(import::GraphImporter &g,
                                    const jit::Node *node) {
  const c10::IValue *trips = g.constant(node->input(0));
  const c10::IValue *cond = g.constant(node->input(1));
  if (!trips || !trips->isInt() || !cond || !cond->isBool())
    return g.error(node, "prim::Loop whose trip count or condition is known "
                         "only at run time");
  constexpr int64_t kMaxUnroll = 100000;
  const jit::Block *body = node->blocks()[0];
  std::vector<import::GraphImporter::Binding> carried;
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
LogicalResult Importer::constructConstant(import::GraphImporter &g,
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

LogicalResult Importer::unpackConstant(import::GraphImporter &g,
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
LogicalResult Importer::evaluate(import::GraphImporter &g,
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

LogicalResult Importer::convertNode(import::GraphImporter &g,
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
      for (size_t i = 0; i < list->size(); ++i)
        g.setTensor(node->output(i), (*list)[i]);
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
  const llvm::StringMap<import::Converter> &converters = import::atenConverters();
  auto it = converters.find(node->kind().toQualString());
  bool runtime = llvm::any_of(node->inputs(), [&](const jit::Value *v) {
    return g.isTensor(v) || g.tensorList(v);
  });
  if (it != converters.end() && runtime)
    return it->second(g, node);
  return evaluate(g, node);
}

LogicalResult Importer::appendLoss(import::GraphImporter &g, Value &result,
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

llvm::Expected<ImportResult> Importer::run() {
  if (llvm::Error e = load())
    return std::move(e);
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
  import::GraphImporter g(context, *body, options.modelPath);

  // Arguments: parameters and buffers, then the method's inputs, then the
  // loss target; the seed is added when dropout first asks for it.
  llvm::StringMap<Value> stateArgs;
  for (const ModuleState &s : state) {
    Type element = import::elementTypeFor(&context, s.value.scalar_type());
    if (!element)
      return makeError("'" + options.modelPath + "': " +
                       (s.trainable ? "parameter" : "buffer") + " '" + s.name +
                       "' has dtype " + c10::toString(s.value.scalar_type()) +
                       ", which accel does not support");
    stateArgs[s.name] = body->addArgument(
        RankedTensorType::get(s.value.sizes().vec(), element), b.getUnknownLoc());
  }

  // Map GetAttr values to the state they read.
  submodules[graph->inputs()[0]] = {"", module._ivalue()};
  for (const jit::Node *node : graph->nodes()) {
    if (node->kind() != c10::prim::GetAttr)
      continue;
    auto it = submodules.find(node->input());
    if (it == submodules.end())
      continue;
    std::string name = node->s(c10::attr::name);
    c10::IValue attr = it->second.second->getAttr(name);
    std::string path = join(it->second.first, name);
    if (auto alias = aliases.find(path); alias != aliases.end())
      path = alias->second;
    if (attr.isObject())
      submodules[node->output()] = {path, attr.toObject()};
    else if (attr.isTensor() && stateArgs.count(path)) {
      stateOf[node->output()] = path;
      g.setTensor(node->output(), stateArgs[path]);
      if (llvm::any_of(state, [&](const ModuleState &s) {
            return s.name == path && !s.trainable;
          }))
        g.bufferOf[node->output()] = path;
    }
  }

  std::vector<std::string> argNames;
  for (size_t i = 1; i < graph->inputs().size(); ++i)
    argNames.push_back(graph->inputs()[i]->debugNameBase());
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
    g.setTensor(graph->inputs()[i + 1],
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

  if (graph->outputs().size() != 1 || !g.isTensor(graph->outputs()[0]))
    return makeError("method '" + options.method +
                     "' must return one tensor (a loss, or predictions with "
                     "--loss)");
  Value result = *g.tensor(graph->return_node(), graph->outputs()[0]);
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

llvm::Expected<ImportResult> importTorchScript(MLIRContext &context,
                                               const ImportOptions &options) {
  context.loadDialect<AccelDialect, func::FuncDialect, arith::ArithDialect>();
  Importer importer(context, options);
  return importer.run();
}

} // namespace accel
