//===- ExportedProgramImporter.cpp - torch.export to the accel dialect ----===//
//
// The torch.export front end. A `.pt2` archive (torch.export.save) is a zip
// of records under one top-level folder:
//   models/model.json                        the exported program
//   data/weights/model_weights_config.json   each weight's file and layout
//   data/weights/weight_N                    raw bytes
//   data/constants/...                       the same for tensor constants
// The program's graph is a list of nodes calling aten overloads
// ("torch.ops.aten.linear.default") with named arguments; its signature says
// which placeholder is a parameter, a buffer or a user input. This file
// rebuilds that graph as a LibTorch graph — every argument in its schema
// position, defaults filled in from LibTorch's registered schemas — so that
// GraphLowering.cpp converts it through the same aten op table as a
// TorchScript method.
//
// The zip is read with LibTorch's own reader (PyTorchStreamReader, which
// checks each record's CRC-32), the JSON with llvm::json.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ExportedProgramImporter.h"

#include "compiler/import/GraphLowering.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MathExtras.h"

#include <ATen/ATen.h>
#include <caffe2/serialize/inline_container.h>
#include <torch/csrc/jit/ir/constants.h>
#include <torch/csrc/jit/frontend/function_schema_parser.h>
#include <torch/csrc/jit/ir/ir.h>
#include <torch/csrc/jit/runtime/operator.h>

#include <cstring>
#include <limits>
#include <map>

using namespace mlir;
namespace jit = torch::jit;
namespace json = llvm::json;

namespace accel {

bool isExportedProgramPath(llvm::StringRef path) {
  return path.ends_with(".pt2");
}

namespace {

using import::makeError;

/// The schema major version this reader understands (torch 2.x's
/// torch/_export/serde/schema.py); minor versions only add fields.
constexpr int64_t kSchemaMajor = 8;

/// torch.export's ScalarType codes (torch/_export/serde/schema.py), which
/// differ from c10::ScalarType's.
std::optional<c10::ScalarType> scalarTypeOf(int64_t code) {
  switch (code) {
  case 1:
    return c10::kByte;
  case 2:
    return c10::kChar;
  case 3:
    return c10::kShort;
  case 4:
    return c10::kInt;
  case 5:
    return c10::kLong;
  case 6:
    return c10::kHalf;
  case 7:
    return c10::kFloat;
  case 8:
    return c10::kDouble;
  case 12:
    return c10::kBool;
  case 13:
    return c10::kBFloat16;
  default:
    return std::nullopt;
  }
}

/// torch.export's MemoryFormat and Layout codes, as c10's.
std::optional<c10::MemoryFormat> memoryFormatOf(int64_t code) {
  switch (code) {
  case 1:
    return c10::MemoryFormat::Contiguous;
  case 2:
    return c10::MemoryFormat::ChannelsLast;
  case 3:
    return c10::MemoryFormat::ChannelsLast3d;
  case 4:
    return c10::MemoryFormat::Preserve;
  default:
    return std::nullopt;
  }
}

/// A float argument: a JSON number, or "Infinity", "-Infinity" or "NaN"
/// (how torch.export writes what JSON cannot).
std::optional<double> floatOf(const json::Value &v) {
  if (std::optional<double> d = v.getAsNumber())
    return d;
  std::optional<llvm::StringRef> s = v.getAsString();
  if (!s)
    return std::nullopt;
  if (*s == "Infinity")
    return std::numeric_limits<double>::infinity();
  if (*s == "-Infinity")
    return -std::numeric_limits<double>::infinity();
  if (*s == "NaN")
    return std::numeric_limits<double>::quiet_NaN();
  return std::nullopt;
}

/// The MLIR spelling of an element type, for messages.
std::string typeName(c10::ScalarType t) {
  switch (t) {
  case c10::kFloat:
    return "f32";
  case c10::kBFloat16:
    return "bf16";
  case c10::kHalf:
    return "f16";
  case c10::kLong:
    return "i64";
  case c10::kBool:
    return "i1";
  default:
    return c10::toString(t);
  }
}

/// Schemas of ops newer than LibTorch 1.13, as torch 2.x registers them:
/// they put a program's named arguments in position and supply defaults,
/// as LibTorch's registry does for the ops it knows.
const c10::FunctionSchema *newerSchema(c10::Symbol symbol,
                                       llvm::StringRef overload) {
  static const std::vector<c10::FunctionSchema> schemas = [] {
    std::vector<c10::FunctionSchema> out;
    for (const char *text : {
             "aten::scaled_dot_product_attention(Tensor query, Tensor key, "
             "Tensor value, Tensor? attn_mask=None, float dropout_p=0., "
             "bool is_causal=False, *, float? scale=None, "
             "bool enable_gqa=False) -> Tensor",
         })
      out.push_back(jit::parseSchema(text));
    return out;
  }();
  for (const c10::FunctionSchema &schema : schemas)
    if (schema.name() == symbol.toQualString() &&
        schema.overload_name() == overload)
      return &schema;
  return nullptr;
}

class Reader {
public:
  explicit Reader(const ImportOptions &options) : options(options) {}

  llvm::Expected<import::FrontEndGraph> read(MLIRContext &context);

private:
  llvm::Error fail(const llvm::Twine &message) {
    return makeError("'" + options.modelPath + "': " + message);
  }
  llvm::Expected<std::string> record(const std::string &name);
  llvm::Expected<json::Value> jsonRecord(const std::string &name);
  llvm::Error readWeightConfigs();
  llvm::Expected<at::Tensor> loadTensor(const std::string &what,
                                        const std::string &config);
  llvm::Expected<std::vector<int64_t>> staticInts(const json::Value *list,
                                                  const std::string &what);
  llvm::Error readSignature();
  llvm::Error checkUserInput(const std::string &name, const InputSpec &spec);
  llvm::Error readNode(const json::Object &node);
  llvm::Expected<jit::Value *> argument(const json::Object &arg,
                                        const std::string &where);
  llvm::Expected<jit::Value *> tensorNamed(const json::Object *arg,
                                           const std::string &where);
  llvm::Expected<jit::Value *> symInt(const json::Value &v,
                                      const std::string &where);
  Location locationOf(const json::Object &node);
  std::optional<std::string> tiedTo(const std::string &name) const;

  const ImportOptions &options;
  MLIRContext *context = nullptr;
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> zip;
  json::Value program = nullptr;
  const json::Object *graphJson = nullptr;
  /// model_weights_config.json and model_constants_config.json, by name.
  std::map<std::string, std::pair<std::string, const json::Object *>> weights;
  json::Value weightConfig = nullptr, constantConfig = nullptr;
  import::FrontEndGraph front;
  std::shared_ptr<jit::Graph> graph;
  /// Parameters and buffers read so far, in signature order.
  std::vector<std::string> stateNames;
  /// Dynamic dimensions' symbols, with the sizes --input gives them.
  std::map<std::string, int64_t> symbolSizes;
  /// Graph values by their name in the program.
  std::map<std::string, jit::Value *> values;
};

llvm::Expected<std::string> Reader::record(const std::string &name) {
  if (!zip->hasRecord(name))
    return fail("the archive has no record '" + name + "'");
  auto [data, size] = zip->getRecord(name);
  return std::string(static_cast<const char *>(data.get()), size);
}

llvm::Expected<json::Value> Reader::jsonRecord(const std::string &name) {
  llvm::Expected<std::string> text = record(name);
  if (!text)
    return text.takeError();
  llvm::Expected<json::Value> value = json::parse(*text);
  if (!value)
    return fail("'" + name + "' is not valid JSON: " +
                llvm::toString(value.takeError()));
  return value;
}

/// Sizes, strides or an offset given as `{"as_int": N}` items; symbolic ones
/// (dynamic shapes) are refused.
llvm::Expected<std::vector<int64_t>>
Reader::staticInts(const json::Value *list, const std::string &what) {
  const json::Array *items = list ? list->getAsArray() : nullptr;
  if (!items)
    return fail(what + " is not a list");
  std::vector<int64_t> out;
  for (const json::Value &item : *items) {
    const json::Object *o = item.getAsObject();
    std::optional<int64_t> v = o ? o->getInteger("as_int") : std::nullopt;
    if (!v) {
      if (o && (o->get("as_expr") || o->get("as_sym_int") || o->get("as_name")))
        return fail(what + " is symbolic (exported with dynamic shapes); "
                           "accel imports programs exported with static "
                           "shapes: export without dynamic_shapes, at the "
                           "shapes you will train with");
      return fail(what + " holds an item that is not an integer");
    }
    out.push_back(*v);
  }
  return out;
}

llvm::Error Reader::readWeightConfigs() {
  for (auto [file, folder, store] :
       {std::tuple{"data/weights/model_weights_config.json", "data/weights/",
                   &weightConfig},
        std::tuple{"data/constants/model_constants_config.json",
                   "data/constants/", &constantConfig}}) {
    if (!zip->hasRecord(file))
      continue;
    llvm::Expected<json::Value> config = jsonRecord(file);
    if (!config)
      return config.takeError();
    *store = std::move(*config);
    const json::Object *root = store->getAsObject();
    const json::Object *entries = root ? root->getObject("config") : nullptr;
    if (!entries)
      return fail(std::string("'") + file + "' has no \"config\" object");
    for (const auto &[name, entry] : *entries) {
      const json::Object *e = entry.getAsObject();
      if (!e)
        return fail(std::string("'") + file + "': entry '" + name.str() +
                    "' is not an object");
      weights[name.str()] = {folder, e};
    }
  }
  return llvm::Error::success();
}

/// A weight or constant by its state name: its record's bytes laid out as
/// its tensor_meta says (dtype, sizes, strides, storage offset), checked
/// against the record's size, copied into a contiguous tensor.
llvm::Expected<at::Tensor> Reader::loadTensor(const std::string &what,
                                              const std::string &name) {
  auto it = weights.find(name);
  if (it == weights.end())
    return fail(what + " '" + name +
                "' has no entry in the archive's weight or constant configs");
  const auto &[folder, entry] = it->second;
  std::string where = what + " '" + name + "'";
  if (entry->getBoolean("use_pickle").value_or(false))
    return fail(where + " is stored as a pickle; accel reads weights "
                        "stored raw (use_pickle: false), as torch.export.save "
                        "writes them by default");
  std::optional<llvm::StringRef> path = entry->getString("path_name");
  const json::Object *meta = entry->getObject("tensor_meta");
  if (!path || !meta)
    return fail(where + " has no path_name or tensor_meta");
  if (path->contains('/') || path->starts_with("."))
    return fail(where + " names a record outside its folder: '" + *path + "'");
  std::optional<int64_t> code = meta->getInteger("dtype");
  std::optional<c10::ScalarType> dtype =
      code ? scalarTypeOf(*code) : std::nullopt;
  if (!dtype)
    return fail(where + " has dtype code " +
                (code ? std::to_string(*code) : std::string("(none)")) +
                ", which accel does not know");
  llvm::Expected<std::vector<int64_t>> sizes =
      staticInts(meta->get("sizes"), where + "'s sizes");
  if (!sizes)
    return sizes.takeError();
  llvm::Expected<std::vector<int64_t>> strides =
      staticInts(meta->get("strides"), where + "'s strides");
  if (!strides)
    return strides.takeError();
  int64_t offset = 0;
  if (const json::Value *o = meta->get("storage_offset")) {
    const json::Object *obj = o->getAsObject();
    std::optional<int64_t> v = obj ? obj->getInteger("as_int") : std::nullopt;
    if (!v)
      return fail(where + "'s storage_offset is not an integer");
    offset = *v;
  }
  if (sizes->size() != strides->size())
    return fail(where + " has " + llvm::Twine(sizes->size()) + " sizes but " +
                llvm::Twine(strides->size()) + " strides");
  // The elements the layout reaches, with checked arithmetic: the record
  // must hold at least that many.
  int64_t elements = 1, last = offset;
  bool empty = false;
  for (size_t d = 0; d < sizes->size(); ++d) {
    int64_t s = (*sizes)[d], st = (*strides)[d], extent;
    if (s < 0 || st < 0)
      return fail(where + " has a negative size or stride");
    if (s == 0)
      empty = true;
    if (llvm::MulOverflow(elements, s, elements) ||
        (s > 0 && (llvm::MulOverflow(s - 1, st, extent) ||
                   llvm::AddOverflow(last, extent, last))))
      return fail(where + " is too large");
  }
  if (offset < 0)
    return fail(where + " has a negative storage offset");
  int64_t elementSize = c10::elementSize(*dtype), needed = 0;
  if (!empty && llvm::MulOverflow(last + 1, elementSize, needed))
    return fail(where + " is too large");
  std::string file = folder + path->str();
  llvm::Expected<std::string> bytes = record(file);
  if (!bytes)
    return bytes.takeError();
  if (static_cast<int64_t>(bytes->size()) < needed)
    return fail(where + " needs " + llvm::Twine(needed) + " bytes, but '" +
                file + "' holds " + llvm::Twine(bytes->size()));
  if (empty)
    return at::empty(*sizes, at::TensorOptions().dtype(*dtype));
  // The storage as bytes first: a bool must be 0 or 1 before ATen reads it.
  at::Tensor storage = at::empty({last + 1}, at::TensorOptions().dtype(
                                                 *dtype == c10::kBool
                                                     ? c10::kByte
                                                     : *dtype));
  std::memcpy(storage.data_ptr(), bytes->data(), needed);
  if (*dtype == c10::kBool)
    storage = storage.ne(0);
  return storage.as_strided(*sizes, *strides, offset).contiguous();
}

/// The earlier parameter or buffer whose record and layout `name` shares.
std::optional<std::string> Reader::tiedTo(const std::string &name) const {
  auto it = weights.find(name);
  if (it == weights.end())
    return std::nullopt;
  const auto &[folder, entry] = it->second;
  for (const std::string &earlier : stateNames) {
    const auto &[otherFolder, other] = weights.at(earlier);
    if (otherFolder == folder &&
        other->getString("path_name") == entry->getString("path_name") &&
        other->get("tensor_meta") && entry->get("tensor_meta") &&
        *other->get("tensor_meta") == *entry->get("tensor_meta"))
      return earlier;
  }
  return std::nullopt;
}

/// The symbol a dynamic size names — "s24" or "Symbol('s24', ...)" — or
/// nothing for an expression of symbols ("2*s24").
std::optional<std::string> plainSymbol(llvm::StringRef text) {
  llvm::StringRef symbol = text;
  if (symbol.consume_front("Symbol('"))
    symbol = symbol.take_until([](char c) { return c == '\''; });
  if (symbol.empty() || !llvm::all_of(symbol, [](char c) {
        return llvm::isAlnum(c) || c == '_';
      }))
    return std::nullopt;
  return symbol.str();
}

/// The user input named `name` must have the type and rank it was exported
/// with, and each size: a static one equal to --input's, a symbolic one
/// (dynamic_shapes) within its range and the same wherever it recurs.
llvm::Error Reader::checkUserInput(const std::string &name,
                                   const InputSpec &spec) {
  const json::Object *tensors = graphJson->getObject("tensor_values");
  const json::Object *meta = tensors ? tensors->getObject(name) : nullptr;
  const json::Array *sizes = meta ? meta->getArray("sizes") : nullptr;
  if (!sizes)
    return fail("user input '" + name + "' has no tensor_values entry");
  std::optional<int64_t> code = meta->getInteger("dtype");
  std::optional<c10::ScalarType> dtype =
      code ? scalarTypeOf(*code) : std::nullopt;
  // "?" for a dtype accel does not know: it matches no --input type.
  std::string element = dtype ? typeName(*dtype) : "?";
  std::string exported, given;
  for (const json::Value &size : *sizes) {
    const json::Object *o = size.getAsObject();
    std::optional<int64_t> fixed = o ? o->getInteger("as_int") : std::nullopt;
    const json::Object *expr = o ? o->getObject("as_expr") : nullptr;
    std::optional<llvm::StringRef> text =
        expr ? expr->getString("expr_str") : std::nullopt;
    if (fixed)
      exported += std::to_string(*fixed) + "x";
    else if (text)
      exported += plainSymbol(*text).value_or(text->str()) + "x";
    else
      return fail("user input '" + name + "' has a size that is neither a "
                  "number nor an expression");
  }
  exported += element;
  for (int64_t s : spec.shape)
    given += std::to_string(s) + "x";
  given += spec.elementType;
  auto mismatch = [&](const llvm::Twine &why) {
    return fail("user input '" + name + "' was exported as " + exported +
                "; --input gives " + given + " (" + why + ")");
  };
  if (element != spec.elementType || sizes->size() != spec.shape.size())
    return mismatch("the type and rank must be the exported ones");
  const json::Object *ranges = program.getAsObject()->getObject("range_constraints");
  for (size_t d = 0; d < sizes->size(); ++d) {
    const json::Object *o = (*sizes)[d].getAsObject();
    int64_t want = spec.shape[d];
    if (std::optional<int64_t> fixed = o->getInteger("as_int")) {
      if (*fixed != want)
        return mismatch("an exported program is specialised to its example "
                        "inputs' sizes, except those exported as dynamic: "
                        "give these, or export again at this shape");
      continue;
    }
    // Expressions of symbols (2*s24) would need solving.
    llvm::StringRef text = *o->getObject("as_expr")->getString("expr_str");
    std::optional<std::string> symbol = plainSymbol(text);
    if (!symbol)
      return mismatch("dimension " + llvm::Twine(d) + " is the expression " +
                      text + ", which accel cannot solve for a size; export "
                      "it as a plain dynamic dimension or static");
    auto [it, inserted] = symbolSizes.try_emplace(*symbol, want);
    if (!inserted && it->second != want)
      return mismatch("dimension " + llvm::Twine(d) + " is " + *symbol +
                      ", which another input fixes to " +
                      llvm::Twine(it->second));
    const json::Object *range = ranges ? ranges->getObject(*symbol) : nullptr;
    std::optional<int64_t> low =
        range ? range->getInteger("min_val") : std::nullopt;
    std::optional<int64_t> high =
        range ? range->getInteger("max_val") : std::nullopt;
    if ((low && want < *low) || (high && want > *high))
      return mismatch(*symbol + " must lie in [" +
                      (low ? std::to_string(*low) : std::string("-inf")) +
                      ", " + (high ? std::to_string(*high) : std::string("inf")) +
                      "]");
  }
  return llvm::Error::success();
}

llvm::Error Reader::readSignature() {
  const json::Object *module = program.getAsObject()->getObject("graph_module");
  const json::Object *signature =
      module ? module->getObject("signature") : nullptr;
  const json::Array *inputSpecs =
      signature ? signature->getArray("input_specs") : nullptr;
  const json::Array *outputSpecs =
      signature ? signature->getArray("output_specs") : nullptr;
  const json::Array *graphInputs = graphJson->getArray("inputs");
  if (!inputSpecs || !outputSpecs || !graphInputs)
    return fail("the program has no graph signature");
  if (inputSpecs->size() != graphInputs->size())
    return fail("the graph signature describes " +
                llvm::Twine(inputSpecs->size()) + " inputs; the graph has " +
                llvm::Twine(graphInputs->size()));

  std::vector<ModuleState> parameters, buffers;
  for (const json::Value &specValue : *inputSpecs) {
    const json::Object *spec = specValue.getAsObject();
    if (!spec || spec->size() != 1)
      return fail("an input spec is not a one-member object");
    llvm::StringRef kind = spec->begin()->first;
    const json::Object *body = spec->begin()->second.getAsObject();
    const json::Object *arg = body ? body->getObject("arg") : nullptr;
    if (!arg)
      return fail("input spec '" + kind + "' has no argument");
    if (kind == "user_input") {
      const json::Object *tensor = arg->getObject("as_tensor");
      std::optional<llvm::StringRef> name =
          tensor ? tensor->getString("name") : std::nullopt;
      if (!name)
        return fail("a user input is not a tensor; accel imports programs "
                    "whose inputs are all tensors");
      jit::Value *v = graph->addInput()->setType(c10::TensorType::get());
      values[name->str()] = v;
      front.inputs.push_back({v, name->str()});
      continue;
    }
    std::optional<llvm::StringRef> argName = arg->getString("name");
    if (!argName)
      return fail("input spec '" + kind + "' has no argument name");
    if (kind == "parameter" || kind == "buffer") {
      std::optional<llvm::StringRef> target = body->getString(
          kind == "parameter" ? "parameter_name" : "buffer_name");
      if (!target)
        return fail("input spec '" + kind + "' has no target name");
      jit::Value *v = graph->addInput()->setType(c10::TensorType::get());
      values[argName->str()] = v;
      // Tied parameters (a head sharing the embedding's weight) are listed
      // under each name with one record: they are one piece of state, named
      // by its first name, as named_parameters() does.
      if (std::optional<std::string> first = tiedTo(target->str())) {
        front.stateReads[v] = *first;
        continue;
      }
      llvm::Expected<at::Tensor> value = loadTensor(kind.str(), target->str());
      if (!value)
        return value.takeError();
      front.stateReads[v] = target->str();
      (kind == "parameter" ? parameters : buffers)
          .push_back({target->str(), *value, kind == "parameter"});
      stateNames.push_back(target->str());
      continue;
    }
    if (kind == "tensor_constant") {
      std::optional<llvm::StringRef> target = body->getString("tensor_constant_name");
      if (!target)
        return fail("a tensor constant has no name");
      llvm::Expected<at::Tensor> value = loadTensor("constant", target->str());
      if (!value)
        return value.takeError();
      // An unused placeholder keeps the graph's inputs in step with the
      // signature; the value is a constant.
      graph->addInput()->setType(c10::TensorType::get());
      values[argName->str()] = graph->insertConstant(*value);
      continue;
    }
    return fail("input spec '" + kind + "' (" + *argName +
                ") is not supported; accel imports parameters, buffers, "
                "tensor constants and tensor inputs");
  }
  // Parameters, then buffers: the order of named_parameters() and
  // named_buffers(), as the TorchScript importer has it.
  for (ModuleState &s : parameters)
    front.state.push_back(std::move(s));
  for (ModuleState &s : buffers)
    front.state.push_back(std::move(s));
  return llvm::Error::success();
}

/// `{"name": ...}` of a tensor argument, as the graph value of that name.
llvm::Expected<jit::Value *> Reader::tensorNamed(const json::Object *arg,
                                                 const std::string &where) {
  std::optional<llvm::StringRef> name =
      arg ? arg->getString("name") : std::nullopt;
  if (!name)
    return fail(where + ": a tensor argument has no name");
  auto it = values.find(name->str());
  if (it == values.end())
    return fail(where + ": tensor '" + *name + "' is used before it is defined");
  return it->second;
}

/// A SymInt argument: `{"as_int": N}`, or `{"as_name": X}`, the output of
/// an earlier node (aten::sym_size, or arithmetic on sizes). Its value is
/// fixed once --input fixes the shapes, and the lowering evaluates it.
llvm::Expected<jit::Value *> Reader::symInt(const json::Value &v,
                                            const std::string &where) {
  const json::Object *o = v.getAsObject();
  if (std::optional<int64_t> i = o ? o->getInteger("as_int") : std::nullopt)
    return graph->insertConstant(*i);
  std::optional<llvm::StringRef> name =
      o ? o->getString("as_name") : std::nullopt;
  if (!name)
    return fail(where + ": a symbolic size is neither a number nor a name");
  auto it = values.find(name->str());
  if (it == values.end())
    return fail(where + ": size '" + *name + "' is used before it is defined");
  return it->second;
}

/// One argument (torch/_export/serde/schema.py's Argument union) as a graph
/// value: tensors by name, everything else as a constant.
llvm::Expected<jit::Value *> Reader::argument(const json::Object &arg,
                                              const std::string &where) {
  if (arg.size() != 1)
    return fail(where + ": an argument is not a one-member object");
  llvm::StringRef kind = arg.begin()->first;
  const json::Value &v = arg.begin()->second;
  auto constant = [&](c10::IValue value) { return graph->insertConstant(value); };
  auto bad = [&]() {
    return fail(where + ": argument of kind '" + kind + "' is malformed");
  };
  if (kind == "as_none")
    return constant(c10::IValue());
  if (kind == "as_tensor" || kind == "as_optional_tensor") {
    const json::Object *o = v.getAsObject();
    if (o && kind == "as_optional_tensor" && o->get("as_none"))
      return constant(c10::IValue());
    if (o && kind == "as_optional_tensor")
      o = o->getObject("as_tensor");
    return tensorNamed(o, where);
  }
  if (kind == "as_tensors" || kind == "as_optional_tensors") {
    const json::Array *items = v.getAsArray();
    if (!items)
      return bad();
    std::vector<jit::Value *> list;
    for (const json::Value &item : *items) {
      const json::Object *o = item.getAsObject();
      if (o && kind == "as_optional_tensors") {
        if (o->get("as_none")) {
          list.push_back(constant(c10::IValue()));
          continue;
        }
        o = o->getObject("as_tensor");
      }
      llvm::Expected<jit::Value *> t = tensorNamed(o, where);
      if (!t)
        return t.takeError();
      list.push_back(*t);
    }
    jit::Node *n = graph->createList(
        kind == "as_tensors"
            ? c10::TypePtr(c10::TensorType::get())
            : c10::TypePtr(c10::OptionalType::create(c10::TensorType::get())),
        list);
    graph->insertNode(n);
    return n->output();
  }
  if (kind == "as_int" || kind == "as_scalar_type" || kind == "as_layout" ||
      kind == "as_memory_format") {
    std::optional<int64_t> i = v.getAsInteger();
    if (!i)
      return bad();
    if (kind == "as_scalar_type") {
      std::optional<c10::ScalarType> t = scalarTypeOf(*i);
      if (!t)
        return fail(where + ": dtype code " + llvm::Twine(*i) +
                    " is not one accel knows");
      return constant(static_cast<int64_t>(*t));
    }
    if (kind == "as_memory_format") {
      std::optional<c10::MemoryFormat> f = memoryFormatOf(*i);
      if (!f)
        return fail(where + ": memory format code " + llvm::Twine(*i) +
                    " is not one accel knows");
      return constant(static_cast<int64_t>(*f));
    }
    if (kind == "as_layout") {
      // Only the strided layout (torch.export's code 7) is dense.
      if (*i != 7)
        return fail(where + ": layout code " + llvm::Twine(*i) +
                    " is not strided; accel imports dense tensors");
      return constant(static_cast<int64_t>(c10::kStrided));
    }
    return constant(*i);
  }
  if (kind == "as_float") {
    std::optional<double> d = floatOf(v);
    if (!d)
      return bad();
    return constant(*d);
  }
  if (kind == "as_bool") {
    std::optional<bool> b = v.getAsBoolean();
    if (!b)
      return bad();
    return constant(*b);
  }
  if (kind == "as_string") {
    std::optional<llvm::StringRef> s = v.getAsString();
    if (!s)
      return bad();
    return constant(s->str());
  }
  if (kind == "as_device") {
    const json::Object *o = v.getAsObject();
    std::optional<llvm::StringRef> type = o ? o->getString("type") : std::nullopt;
    if (!type)
      return bad();
    if (*type != "cpu")
      return fail(where + ": the program was exported for device '" + *type +
                  "'; accel imports programs exported on the CPU");
    return constant(c10::Device(c10::kCPU));
  }
  if (kind == "as_ints" || kind == "as_floats" || kind == "as_bools") {
    const json::Array *items = v.getAsArray();
    if (!items)
      return bad();
    std::vector<int64_t> ints;
    std::vector<double> floats;
    c10::List<bool> bools;
    for (const json::Value &item : *items) {
      if (kind == "as_ints") {
        std::optional<int64_t> i = item.getAsInteger();
        if (!i)
          return bad();
        ints.push_back(*i);
      } else if (kind == "as_floats") {
        std::optional<double> d = floatOf(item);
        if (!d)
          return bad();
        floats.push_back(*d);
      } else {
        std::optional<bool> b = item.getAsBoolean();
        if (!b)
          return bad();
        bools.push_back(*b);
      }
    }
    if (kind == "as_ints")
      return constant(ints);
    if (kind == "as_floats")
      return constant(floats);
    return constant(bools);
  }
  if (kind == "as_sym_int")
    return symInt(v, where);
  if (kind == "as_sym_ints") {
    const json::Array *items = v.getAsArray();
    if (!items)
      return bad();
    std::vector<jit::Value *> list;
    for (const json::Value &item : *items) {
      llvm::Expected<jit::Value *> i = symInt(item, where);
      if (!i)
        return i.takeError();
      list.push_back(*i);
    }
    return graph->insertNode(graph->createList(c10::IntType::get(), list))
        ->output();
  }
  if (kind.starts_with("as_sym"))
    return fail(where + ": a symbolic " + kind.drop_front(7) +
                " argument; accel evaluates symbolic sizes, not symbolic "
                "floats or bools");
  return fail(where + ": arguments of kind '" + kind +
              "' are not supported");
}

/// The node's Python stack (outermost frame first in `stack_trace`) as a
/// call-site chain, innermost first, inside the module path of
/// `nn_module_stack` — as a TorchScript node's scope and source range.
Location Reader::locationOf(const json::Object &node) {
  Location fallback = FileLineColLoc::get(context, options.modelPath, 0, 0);
  const json::Object *meta = node.getObject("metadata");
  if (!meta)
    return fallback;
  std::vector<Location> frames;
  if (std::optional<llvm::StringRef> trace = meta->getString("stack_trace")) {
    llvm::SmallVector<llvm::StringRef> lines;
    trace->split(lines, '\n');
    for (llvm::StringRef line : lines) {
      line = line.trim();
      if (!line.consume_front("File \""))
        continue;
      auto [file, rest] = line.split('"');
      unsigned number = 0;
      if (rest.consume_front(", line "))
        rest.take_while(llvm::isDigit).getAsInteger(10, number);
      frames.push_back(FileLineColLoc::get(context, file, number, 0));
    }
  }
  Location loc = fallback;
  if (!frames.empty()) {
    loc = frames.front();
    for (size_t i = 1; i < frames.size(); ++i)
      loc = CallSiteLoc::get(frames[i], loc);
  }
  if (std::optional<llvm::StringRef> stack = meta->getString("nn_module_stack")) {
    // "key,path,type;key,path,type": the innermost module's path.
    llvm::StringRef innermost = stack->rsplit(';').second;
    if (innermost.empty())
      innermost = *stack;
    llvm::StringRef path = innermost.split(',').second.split(',').first;
    if (!path.empty())
      loc = NameLoc::get(StringAttr::get(context, path), loc);
  }
  return loc;
}

llvm::Error Reader::readNode(const json::Object &node) {
  std::optional<llvm::StringRef> target = node.getString("target");
  std::string name = node.getString("name").value_or("?").str();
  std::string where = "node '" + name + "'";
  if (!target)
    return fail(where + " has no target");
  where += " (" + target->str() + ")";
  // "torch.ops.aten.linear.default" is aten::linear, overload "".
  llvm::StringRef rest = *target, ns, op, overload;
  if (rest.consume_front("torch.ops.")) {
    auto [space, opAndOverload] = rest.split('.');
    std::tie(op, overload) = opAndOverload.split('.');
    ns = space;
    if (ns.empty() || op.empty())
      return fail(where + " has a malformed target");
    if (overload == "default")
      overload = "";
    // sym_size.int(Tensor, int) -> SymInt reads a static size once --input
    // fixes the shapes: aten::size.int.
    if (ns == "aten" && op == "sym_size" && overload == "int")
      op = "size";
  } else if (rest.consume_front("_operator.") &&
             llvm::is_contained({"add", "sub", "mul", "floordiv"}, rest)) {
    // Python arithmetic on symbolic sizes: aten's int overloads.
    ns = "aten";
    op = rest;
    overload = "int";
  } else {
    return fail(where + " calls something other than a torch operator; "
                        "accel imports graphs of aten ops");
  }
  c10::Symbol symbol = c10::Symbol::fromQualString((ns + "::" + op).str());

  const json::Array *inputs = node.getArray("inputs");
  const json::Array *outputs = node.getArray("outputs");
  if (!inputs || !outputs)
    return fail(where + " has no inputs or outputs");
  std::map<std::string, const json::Object *> named;
  std::vector<const json::Object *> ordered;
  for (const json::Value &input : *inputs) {
    const json::Object *o = input.getAsObject();
    std::optional<llvm::StringRef> argName =
        o ? o->getString("name") : std::nullopt;
    const json::Object *arg = o ? o->getObject("arg") : nullptr;
    if (!argName || !arg)
      return fail(where + " has a malformed argument");
    named[argName->str()] = arg;
    ordered.push_back(arg);
  }

  // The schema LibTorch registers for this overload puts every argument in
  // its position and supplies the defaults the archive leaves out.
  const c10::FunctionSchema *schema = nullptr;
  if (ns == "aten")
    for (const std::shared_ptr<jit::Operator> &candidate :
         jit::getAllOperatorsFor(symbol))
      if (candidate->schema().overload_name() == overload) {
        schema = &candidate->schema();
        break;
      }
  if (!schema && ns == "aten")
    schema = newerSchema(symbol, overload);
  // An overload LibTorch does not have of an op it does have: the op's
  // converter would read the arguments of another overload.
  if (!schema && ns == "aten" && !jit::getAllOperatorsFor(symbol).empty())
    return fail(where + " calls overload '" + overload + "' of " +
                symbol.toQualString() + ", which neither LibTorch 1.13 nor " +
                "accel knows");
  std::vector<jit::Value *> operands;
  size_t results = outputs->size();
  if (schema) {
    for (const c10::Argument &a : schema->arguments()) {
      auto it = named.find(a.name());
      if (it != named.end()) {
        llvm::Expected<jit::Value *> v = argument(*it->second, where);
        if (!v)
          return v.takeError();
        operands.push_back(*v);
        named.erase(it);
      } else if (a.default_value()) {
        operands.push_back(graph->insertConstant(*a.default_value()));
      } else {
        return fail(where + " lacks argument '" + a.name() + "'");
      }
    }
    if (!named.empty())
      return fail(where + " has argument '" + named.begin()->first +
                  "', which LibTorch 1.13's schema of " + symbol.toQualString() +
                  " does not have");
    results = schema->returns().size();
  } else {
    // An op LibTorch 1.13 does not know: kept with its arguments in order,
    // so that the import reports it with every place it occurs.
    for (const json::Object *arg : ordered) {
      llvm::Expected<jit::Value *> v = argument(*arg, where);
      if (!v)
        return v.takeError();
      operands.push_back(*v);
    }
  }
  jit::Node *n = graph->insertNode(graph->create(symbol, operands, results));
  front.locations.try_emplace(n, locationOf(node));

  // Outputs: one per return, or a list return unpacked into its tensors.
  auto bindOutput = [&](jit::Value *v, const json::Value &out) -> llvm::Error {
    const json::Object *o = out.getAsObject();
    if (o && o->get("as_none"))
      return llvm::Error::success();
    if (const json::Object *sym = o ? o->getObject("as_sym_int") : nullptr) {
      std::optional<llvm::StringRef> symName = sym->getString("as_name");
      if (!symName)
        return fail(where + " has a symbolic output without a name");
      v->setType(c10::IntType::get());
      values[symName->str()] = v;
      return llvm::Error::success();
    }
    const json::Object *tensor = o ? o->getObject("as_tensor") : nullptr;
    std::optional<llvm::StringRef> outName =
        tensor ? tensor->getString("name") : std::nullopt;
    if (!outName)
      return fail(where + " has an output that is not a tensor");
    v->setType(c10::TensorType::get());
    values[outName->str()] = v;
    return llvm::Error::success();
  };
  bool listReturn = schema && schema->returns().size() == 1 &&
                    schema->returns()[0].type()->kind() == c10::TypeKind::ListType;
  if (listReturn) {
    const json::Object *o =
        outputs->size() == 1 ? (*outputs)[0].getAsObject() : nullptr;
    const json::Array *items = o ? o->getArray("as_tensors") : nullptr;
    if (!items)
      return fail(where + " returns a list, but its output is not one");
    n->output()->setType(c10::ListType::ofTensors());
    jit::Node *unpack = graph->insertNode(
        graph->createListUnpack(n->output(), items->size()));
    front.locations.try_emplace(unpack, front.locations.at(n));
    for (size_t i = 0; i < items->size(); ++i) {
      json::Value wrapped = json::Object{{"as_tensor", (*items)[i]}};
      if (llvm::Error e = bindOutput(unpack->output(i), wrapped))
        return e;
    }
    return llvm::Error::success();
  }
  if (outputs->size() != n->outputs().size())
    return fail(where + " has " + llvm::Twine(outputs->size()) +
                " outputs; its schema returns " +
                llvm::Twine(n->outputs().size()));
  for (size_t i = 0; i < outputs->size(); ++i)
    if (llvm::Error e = bindOutput(n->output(i), (*outputs)[i]))
      return e;
  return llvm::Error::success();
}

llvm::Expected<import::FrontEndGraph> Reader::read(MLIRContext &ctx) {
  context = &ctx;
  if (!llvm::sys::fs::exists(options.modelPath))
    return makeError("cannot open '" + options.modelPath + "': no such file");
  if (options.method != "forward")
    return fail("a torch.export archive has one program, 'forward'; "
                "--method " + options.method + " does not apply");
  try {
    zip = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
        options.modelPath);
  } catch (const std::exception &e) {
    return fail("not a readable torch.export archive: " +
                import::firstLine(e.what()));
  }
  if (!zip->hasRecord("models/model.json"))
    return fail("not a torch.export archive: it has no models/model.json" +
                std::string(zip->hasRecord("data.pkl")
                                ? " (it is a TorchScript archive; name it .pt)"
                                : ""));
  if (zip->hasRecord("byteorder")) {
    llvm::Expected<std::string> order = record("byteorder");
    if (!order)
      return order.takeError();
    if (llvm::StringRef(*order).trim() != "little")
      return fail("weights are stored " + *order +
                  "-endian; accel reads little-endian archives");
  }
  llvm::Expected<json::Value> parsed = jsonRecord("models/model.json");
  if (!parsed)
    return parsed.takeError();
  program = std::move(*parsed);
  const json::Object *root = program.getAsObject();
  if (!root)
    return fail("models/model.json is not a JSON object");
  const json::Object *version = root->getObject("schema_version");
  std::optional<int64_t> major =
      version ? version->getInteger("major") : std::nullopt;
  if (!major)
    return fail("models/model.json has no schema_version");
  if (*major != kSchemaMajor)
    return fail("the program has schema version " + llvm::Twine(*major) + "." +
                llvm::Twine(version->getInteger("minor").value_or(0)) +
                "; accel reads major version " + llvm::Twine(kSchemaMajor));
  const json::Object *module = root->getObject("graph_module");
  graphJson = module ? module->getObject("graph") : nullptr;
  const json::Array *nodes = graphJson ? graphJson->getArray("nodes") : nullptr;
  const json::Array *graphOutputs =
      graphJson ? graphJson->getArray("outputs") : nullptr;
  if (!nodes || !graphOutputs)
    return fail("models/model.json has no graph");

  if (llvm::Error e = readWeightConfigs())
    return std::move(e);
  graph = std::make_shared<jit::Graph>();
  front.graph = graph;
  if (llvm::Error e = readSignature())
    return std::move(e);
  for (const auto &input : front.inputs) {
    const std::string &name = input.second;
    auto spec = llvm::find_if(options.inputs,
                              [&](const InputSpec &s) { return s.name == name; });
    if (spec != options.inputs.end())
      if (llvm::Error e = checkUserInput(name, *spec))
        return std::move(e);
  }
  for (const json::Value &node : *nodes) {
    const json::Object *o = node.getAsObject();
    if (!o)
      return fail("a graph node is not an object");
    if (llvm::Error e = readNode(*o))
      return std::move(e);
  }

  // Outputs: the one user output (or loss), and the buffers' new values.
  const json::Object *signature = module->getObject("signature");
  const json::Array *outputSpecs = signature->getArray("output_specs");
  if (outputSpecs->size() != graphOutputs->size())
    return fail("the graph signature describes " +
                llvm::Twine(outputSpecs->size()) + " outputs; the graph has " +
                llvm::Twine(graphOutputs->size()));
  for (const json::Value &specValue : *outputSpecs) {
    const json::Object *spec = specValue.getAsObject();
    if (!spec || spec->size() != 1)
      return fail("an output spec is not a one-member object");
    llvm::StringRef kind = spec->begin()->first;
    const json::Object *body = spec->begin()->second.getAsObject();
    const json::Object *arg = body ? body->getObject("arg") : nullptr;
    if (!arg)
      return fail("output spec '" + kind + "' has no argument");
    const json::Object *tensor = arg->getObject("as_tensor");
    if (!tensor)
      tensor = arg; // buffer mutations name the tensor directly
    llvm::Expected<jit::Value *> v = tensorNamed(tensor, "output " + kind.str());
    if (!v)
      return v.takeError();
    if (kind == "user_output" || kind == "loss_output") {
      if (front.result)
        return fail("the program returns more than one tensor; accel "
                    "imports a forward that returns a loss, or predictions "
                    "with --loss");
      front.result = *v;
    } else if (kind == "buffer_mutation") {
      std::optional<llvm::StringRef> buffer = body->getString("buffer_name");
      if (!buffer)
        return fail("a buffer mutation names no buffer");
      front.bufferResults.push_back({buffer->str(), *v});
    } else {
      return fail("output spec '" + kind +
                  "' is not supported; accel imports a forward that returns "
                  "one tensor and updates buffers");
    }
  }
  if (front.result)
    graph->registerOutput(const_cast<jit::Value *>(front.result));
  return std::move(front);
}

} // namespace

llvm::Expected<ImportResult> importExportedProgram(MLIRContext &context,
                                                   const ImportOptions &options) {
  Reader reader(options);
  llvm::Expected<import::FrontEndGraph> front = [&]()
      -> llvm::Expected<import::FrontEndGraph> {
    try {
      return reader.read(context);
    } catch (const c10::Error &e) {
      // LibTorch's zip reader throws on a corrupt record (its CRC-32).
      return makeError("'" + options.modelPath +
                       "' is not a readable torch.export archive: " +
                       import::firstLine(e.what_without_backtrace()));
    } catch (const std::exception &e) {
      return makeError("'" + options.modelPath +
                       "' is not a readable torch.export archive: " +
                       import::firstLine(e.what()));
    }
  }();
  if (!front)
    return front.takeError();
  return import::lowerGraph(context, options, *front);
}

} // namespace accel
