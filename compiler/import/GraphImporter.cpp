//===- GraphImporter.cpp - state of one TorchScript graph import ----------===//

#include "compiler/import/GraphImporter.h"

#include "dialects/accel/AccelDialect.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/TypeUtilities.h"

#include <ATen/ATen.h>

using namespace mlir;

namespace accel::import {

GraphImporter::GraphImporter(MLIRContext &context, Block &body,
                             std::string modelPath)
    : b(&context), body(body), modelPath(std::move(modelPath)) {
  b.setInsertionPointToEnd(&body);
}

Location nodeLocation(MLIRContext *ctx, const torch::jit::Node *node,
                      llvm::StringRef modelPath) {
  Location fileLoc = FileLineColLoc::get(ctx, modelPath, 0, 0);
  if (auto flc = node->sourceRange().file_line_col())
    fileLoc = FileLineColLoc::get(ctx, std::get<0>(*flc),
                                  static_cast<unsigned>(std::get<1>(*flc)),
                                  static_cast<unsigned>(std::get<2>(*flc)));
  // Node::scope() is not const in LibTorch 1.13, though it reads only.
  torch::jit::ScopePtr scope = const_cast<torch::jit::Node *>(node)->scope();
  if (scope && !scope->isRoot())
    return NameLoc::get(StringAttr::get(ctx, scope->namesFromRoot()), fileLoc);
  return fileLoc;
}

void GraphImporter::setTensor(const torch::jit::Value *v, Value value) {
  tensors[v] = value;
}
void GraphImporter::setConstant(const torch::jit::Value *v, c10::IValue value) {
  constants[v] = std::move(value);
}
void GraphImporter::setTensorList(const torch::jit::Value *v,
                                  std::vector<Value> values) {
  constants.erase(v); // an empty list literal that now holds tensors
  lists[v] = std::move(values);
}
GraphImporter::Binding
GraphImporter::lookup(const torch::jit::Value *v) const {
  Binding binding;
  if (auto it = tensors.find(v); it != tensors.end())
    binding.tensor = it->second;
  if (auto it = constants.find(v); it != constants.end())
    binding.constant = it->second;
  if (auto it = lists.find(v); it != lists.end())
    binding.list = it->second;
  return binding;
}

void GraphImporter::bind(const torch::jit::Value *v, const Binding &binding) {
  tensors.erase(v);
  constants.erase(v);
  lists.erase(v);
  if (binding.tensor)
    tensors[v] = *binding.tensor;
  if (binding.constant)
    constants[v] = *binding.constant;
  if (binding.list)
    lists[v] = *binding.list;
}

bool GraphImporter::isTensor(const torch::jit::Value *v) const {
  return tensors.count(v);
}
const c10::IValue *GraphImporter::constant(const torch::jit::Value *v) const {
  auto it = constants.find(v);
  return it == constants.end() ? nullptr : &it->second;
}
const std::vector<Value> *
GraphImporter::tensorList(const torch::jit::Value *v) const {
  auto it = lists.find(v);
  return it == lists.end() ? nullptr : &it->second;
}

LogicalResult GraphImporter::error(const torch::jit::Node *node,
                                   const llvm::Twine &message) {
  return emitError(loc(node), message);
}

Type elementTypeFor(MLIRContext *context, c10::ScalarType dtype) {
  Builder b(context);
  switch (dtype) {
  case c10::ScalarType::Float:
    return b.getF32Type();
  case c10::ScalarType::BFloat16:
    return b.getBF16Type();
  case c10::ScalarType::Half:
    return b.getF16Type();
  case c10::ScalarType::Long:
    return b.getI64Type();
  case c10::ScalarType::Bool:
    return b.getI1Type();
  default:
    return nullptr;
  }
}

/// A DenseElementsAttr with the values of a constant tensor.
static FailureOr<DenseElementsAttr> denseAttr(MLIRContext *ctx,
                                              const at::Tensor &tensor) {
  Type element = elementTypeFor(ctx, tensor.scalar_type());
  // Constants built by the model's code in f64 (Python floats) become f32.
  at::Tensor t = tensor.contiguous();
  if (!element && at::isFloatingType(t.scalar_type())) {
    t = t.to(at::kFloat);
    element = Builder(ctx).getF32Type();
  }
  if (!element && at::isIntegralType(t.scalar_type(), /*includeBool=*/false)) {
    t = t.to(at::kLong);
    element = Builder(ctx).getI64Type();
  }
  if (!element)
    return failure();
  auto type = RankedTensorType::get(t.sizes().vec(), element);
  if (element.isInteger(1)) {
    at::Tensor bytes = t.to(at::kBool);
    std::vector<bool> values(bytes.data_ptr<bool>(),
                             bytes.data_ptr<bool>() + bytes.numel());
    return DenseElementsAttr::get(
        type, llvm::SmallVector<bool>(values.begin(), values.end()));
  }
  llvm::ArrayRef<char> raw(static_cast<const char *>(t.data_ptr()),
                           t.numel() * t.element_size());
  return DenseElementsAttr::getFromRawBuffer(type, raw);
}

FailureOr<Value> GraphImporter::tensor(const torch::jit::Node *node,
                                       const torch::jit::Value *v, Type like) {
  if (auto it = tensors.find(v); it != tensors.end())
    return it->second;
  const c10::IValue *c = constant(v);
  if (!c)
    return error(node, "operand %" + v->debugName() + " is not a tensor");
  Location l = loc(node);
  if (c->isTensor()) {
    FailureOr<DenseElementsAttr> attr = denseAttr(getContext(), c->toTensor());
    if (failed(attr))
      return error(node, "constant tensor of dtype " +
                             std::string(c10::toString(
                                 c->toTensor().scalar_type())) +
                             " has no accel element type");
    Value value = arith::ConstantOp::create(b, l, *attr);
    tensors[v] = value;
    return value;
  }
  if (c->isDouble() || c->isInt() || c->isBool()) {
    Type element = like ? getElementTypeOrSelf(like) : b.getF32Type();
    return scalar(l, c->isDouble() ? c->toDouble()
                                   : static_cast<double>(c->isInt()
                                                             ? c->toInt()
                                                             : c->toBool()),
                  element);
  }
  return error(node, "operand %" + v->debugName() + " (" +
                         c->tagKind() + ") is not a tensor");
}

FailureOr<Value> GraphImporter::optionalTensor(const torch::jit::Node *node,
                                               const torch::jit::Value *v) {
  const c10::IValue *c = constant(v);
  if (c && c->isNone())
    return Value();
  return tensor(node, v);
}

Value GraphImporter::scalar(Location l, double v, Type elementType) {
  auto type = RankedTensorType::get({}, elementType);
  Attribute value;
  if (auto floatType = dyn_cast<FloatType>(elementType))
    value = DenseElementsAttr::get(type, b.getFloatAttr(floatType, v));
  else
    value = DenseElementsAttr::get(
        type, b.getIntegerAttr(elementType, static_cast<int64_t>(v)));
  return arith::ConstantOp::create(b, l, cast<TypedAttr>(value));
}

bool GraphImporter::isNone(const torch::jit::Node *node, size_t i) const {
  const c10::IValue *c = constant(node->input(i));
  return c && c->isNone();
}

FailureOr<int64_t> GraphImporter::intArg(const torch::jit::Node *node,
                                         size_t i) {
  const c10::IValue *c = constant(node->input(i));
  if (c && c->isInt())
    return c->toInt();
  if (c && c->isBool())
    return static_cast<int64_t>(c->toBool());
  return error(node, "argument #" + llvm::Twine(i) + " of " +
                         node->kind().toQualString() +
                         " must be a compile-time integer");
}

FailureOr<double> GraphImporter::doubleArg(const torch::jit::Node *node,
                                           size_t i) {
  const c10::IValue *c = constant(node->input(i));
  if (c && (c->isDouble() || c->isInt()))
    return c->isDouble() ? c->toDouble() : static_cast<double>(c->toInt());
  if (c && c->isTensor() && c->toTensor().numel() == 1)
    return c->toTensor().item<double>();
  return error(node, "argument #" + llvm::Twine(i) + " of " +
                         node->kind().toQualString() +
                         " must be a compile-time number");
}

FailureOr<bool> GraphImporter::boolArg(const torch::jit::Node *node,
                                       size_t i) {
  const c10::IValue *c = constant(node->input(i));
  if (c && c->isBool())
    return c->toBool();
  return error(node, "argument #" + llvm::Twine(i) + " of " +
                         node->kind().toQualString() +
                         " must be a compile-time bool");
}

FailureOr<std::string> GraphImporter::stringArg(const torch::jit::Node *node,
                                                size_t i) {
  const c10::IValue *c = constant(node->input(i));
  if (c && c->isString())
    return c->toStringRef();
  return error(node, "argument #" + llvm::Twine(i) + " of " +
                         node->kind().toQualString() +
                         " must be a compile-time string");
}

FailureOr<std::vector<int64_t>>
GraphImporter::intListArg(const torch::jit::Node *node, size_t i) {
  const c10::IValue *c = constant(node->input(i));
  if (c && c->isIntList())
    return c->toIntVector();
  if (c && c->isInt())
    return std::vector<int64_t>{c->toInt()};
  return error(node, "argument #" + llvm::Twine(i) + " of " +
                         node->kind().toQualString() +
                         " must be a compile-time list of integers");
}

FailureOr<int64_t> GraphImporter::dim(const torch::jit::Node *node, int64_t d,
                                      int64_t rank) {
  int64_t normalized = d < 0 ? d + rank : d;
  if (normalized < 0 || normalized >= rank)
    return error(node, "dimension " + llvm::Twine(d) +
                           " is out of range for a tensor of rank " +
                           llvm::Twine(rank));
  return normalized;
}

Value GraphImporter::seed() {
  if (!seedArg)
    seedArg = body.addArgument(RankedTensorType::get({}, b.getI64Type()),
                               UnknownLoc::get(getContext()));
  return seedArg;
}

void GraphImporter::updateBuffer(const torch::jit::Value *buffer, Value value) {
  auto it = bufferOf.find(buffer);
  if (it != bufferOf.end())
    bufferValues[it->second] = value;
}

} // namespace accel::import
