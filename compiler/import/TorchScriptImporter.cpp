//===- TorchScriptImporter.cpp - TorchScript to the accel dialect ---------===//
//
// The TorchScript front end:
//  1. check what LibTorch would trust in the archive, then load it and
//     inline the method's graph;
//  2. fold module attributes that are not tensors (`training`, `p`, ...)
//     into constants, so that TorchScript's constant propagation removes the
//     control flow they guard;
//  3. map the GetAttr chains that read parameters and buffers to them.
// GraphLowering.cpp does the rest.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/TorchScriptImporter.h"

#include "compiler/import/GraphLowering.h"
#include "compiler/import/LoadProbe.h"
#include "compiler/support/Nesting.h"
#include "compiler/support/PickleCheck.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MathExtras.h"

#include <functional>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/serialization/storage_context.h>
#include <torch/csrc/jit/serialization/unpickler.h>

#include <cstring>
#include <map>

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

using import::checkTensorGeometry;
using import::firstLine;
using import::makeError;

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



/// Calls `visit` on every tensor inside `value` (lists, tuples, dicts,
/// objects' state) with its path from `value`: attribute names joined by
/// dots, list and tuple positions in brackets. Iterative, and each
/// container once: a pickle's memo can share a container many times over,
/// or make one hold itself.
llvm::Error forEachTensor(
    const c10::IValue &value, const std::string &root,
    llvm::function_ref<llvm::Error(const at::Tensor &, const std::string &)> visit) {
  std::vector<std::pair<c10::IValue, std::string>> pending = {{value, root}};
  llvm::DenseSet<const void *> seen;
  while (!pending.empty()) {
    auto [v, path] = std::move(pending.back());
    pending.pop_back();
    if (v.isTensor()) {
      if (llvm::Error e = visit(v.toTensor(), path))
        return e;
      continue;
    }
    if (!v.isList() && !v.isTuple() && !v.isGenericDict() && !v.isObject())
      continue;
    if (!seen.insert(v.internalToPointer()).second)
      continue;
    auto item = [&, &path = path](size_t i) {
      return path + "[" + std::to_string(i) + "]";
    };
    if (v.isList()) {
      c10::ArrayRef<c10::IValue> items = v.toListRef();
      for (size_t i = 0; i < items.size(); ++i)
        pending.push_back({items[i], item(i)});
    } else if (v.isTuple()) {
      c10::ArrayRef<c10::IValue> items = v.toTupleRef().elements();
      for (size_t i = 0; i < items.size(); ++i)
        pending.push_back({items[i], item(i)});
    } else if (v.isGenericDict()) {
      for (const auto &entry : v.toGenericDict()) {
        std::string key = entry.key().isString()
                              ? entry.key().toStringRef()
                              : "<" + entry.key().tagKind() + " key>";
        pending.push_back({entry.key(), path});
        pending.push_back({entry.value(), path.empty() ? key : path + "." + key});
      }
    } else {
      for (const c10::IValue &slot : v.toObjectRef().slots())
        pending.push_back({slot, path});
    }
  }
  return llvm::Error::success();
}

/// Checks that every storage a pickle of the archive (data.pkl,
/// constants.pkl) declares fits in its record: the pickle states the
/// element count and LibTorch trusts it, so a truncated record would be
/// read past its end. LibTorch's own unpickler reads the pickle here, with
/// stand-in classes for the model's, and names each storage it builds.
/// A storage named twice is built once here, from its first declaration;
/// LibTorch's load builds it again for every later one, with that one's
/// size over the same record (the archive fuzzer found a weight of 24
/// elements declared over another tensor's 2-element storage). So every
/// tensor must also lie inside the storage as first declared.
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
      // An empty record has no buffer at all (memcpy from null is undefined
      // even for 0 bytes; UBSan under the archive fuzzer).
      if (n == 0)
        return n;
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
    // Objects keep their state (their tensors are checked below).
    auto load = [](const at::StrongTypePtr &type, const c10::IValue &state) {
      auto object = c10::ivalue::Object::create(type, 1);
      object->setSlot(0, state);
      return object;
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
    c10::IValue root = unpickler.parse_ivalue();
    for (const auto &[key, n] : recordBytes) {
      size_t need =
          storages->hasStorage(key) ? storages->getStorage(key).nbytes() : 0;
      if (need > n)
        return makeError("'" + path + "': storage " + archive + "/" + key +
                         " holds " + llvm::Twine(n) + " bytes, but the " +
                         "archive declares " + llvm::Twine(need) +
                         " (a truncated or inconsistent archive)");
    }
    // Attributes by name as the module holds them; constants by position.
    if (llvm::Error e = forEachTensor(
            root, archive == "data" ? "" : "constants",
            [&](const at::Tensor &t, const std::string &name) {
              return checkTensorGeometry(t, "'" + path + "': \"" + name + "\"");
            }))
      return e;
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

/// Reads a TorchScript archive into the form both front ends share.
class Importer {
public:
  explicit Importer(const ImportOptions &options) : options(options) {}

  llvm::Expected<import::FrontEndGraph> read();

private:
  llvm::Error load();
  llvm::Error unreadable(const std::string &what) const;
  void mapStateReads();

  const ImportOptions &options;
  jit::Module module;
  std::shared_ptr<jit::Graph> graph;
  /// Parameters and buffers in named_parameters()/named_buffers() order.
  std::vector<ModuleState> state;
  /// Other names of tied state, mapped to the name it is kept under.
  std::map<std::string, std::string> aliases;
  llvm::DenseMap<const jit::Value *, std::string> stateOf;
};

/// The error for an archive LibTorch cannot load, from its message.
llvm::Error Importer::unreadable(const std::string &what) const {
  std::string message = firstLine(what);
  // A TorchScript file written by a newer PyTorch may call ops LibTorch
  // 1.13 has never heard of; torch.export archives name ops by schema.
  if (llvm::StringRef(message).contains("Unknown builtin op"))
    message += " (the file was saved by a newer PyTorch than LibTorch 1.13; "
               "save the model with torch.export.save instead and import "
               "the .pt2 file)";
  return makeError("'" + options.modelPath +
                   "' is not a readable TorchScript archive: " + message);
}

llvm::Error Importer::load() {
  if (!llvm::sys::fs::exists(options.modelPath))
    return makeError("cannot open '" + options.modelPath +
                     "': no such file");
  try {
    // The checks read the pickles with LibTorch's unpickler, which can
    // crash on some (the archive fuzzer found one, depending on the heap):
    // a forked process runs them and the load first.
    auto checks = [&] { return checkArchive(options.modelPath); };
    if (llvm::Error e = import::probeTorchScriptLoad(options.modelPath, checks))
      return e;
    if (llvm::Error e = checks())
      return e;
    module = jit::load(options.modelPath);
    for (const jit::NameValue &a : module.named_attributes(/*recurse=*/true))
      if (a.value.isTensor())
        if (llvm::Error e = checkTensorGeometry(
                a.value.toTensor(),
                "'" + options.modelPath + "': \"" + a.name + "\""))
          return e;
  } catch (const c10::Error &e) {
    return unreadable(e.msg());
  } catch (const std::exception &e) {
    return unreadable(e.what());
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

/// Maps the values of GetAttr chains from `self` to the parameter or buffer
/// they read.
void Importer::mapStateReads() {
  llvm::DenseMap<const jit::Value *,
                 std::pair<std::string, c10::intrusive_ptr<c10::ivalue::Object>>>
      submodules;
  submodules[graph->inputs()[0]] = {"", module._ivalue()};
  // Every block, outer nodes first: scripted code reads attributes inside
  // `if` branches too (nn.MultiheadAttention's argument checks).
  std::vector<const jit::Node *> nodes;
  std::function<void(const jit::Block *)> collect = [&](const jit::Block *b) {
    for (const jit::Node *node : b->nodes()) {
      nodes.push_back(node);
      for (const jit::Block *sub : node->blocks())
        collect(sub);
    }
  };
  collect(graph->block());
  for (const jit::Node *node : nodes) {
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
    else if (attr.isTensor() &&
             llvm::any_of(state, [&](const ModuleState &s) {
               return s.name == path;
             }))
      stateOf[node->output()] = path;
  }
}

llvm::Expected<import::FrontEndGraph> Importer::read() {
  if (llvm::Error e = load())
    return std::move(e);
  mapStateReads();
  import::FrontEndGraph front;
  front.graph = graph;
  front.state = std::move(state);
  front.stateReads = std::move(stateOf);
  for (size_t i = 1; i < graph->inputs().size(); ++i)
    front.inputs.push_back({graph->inputs()[i], graph->inputs()[i]->debugNameBase()});
  if (graph->outputs().size() == 1)
    front.result = graph->outputs()[0];
  return front;
}

} // namespace

llvm::Expected<ImportResult> importTorchScript(MLIRContext &context,
                                               const ImportOptions &options) {
  Importer importer(options);
  llvm::Expected<import::FrontEndGraph> front = importer.read();
  if (!front)
    return front.takeError();
  return import::lowerGraph(context, options, *front);
}

} // namespace accel
