//===- AtenOps.cpp - aten ops to accel ops --------------------------------===//
//
// One converter per aten op kind. Each reads its operands (tensors) and
// compile-time arguments (numbers, lists, flags) from the GraphImporter,
// maps PyTorch's argument conventions (negative dimensions, optional bias,
// Scalar operands, in-place variants) onto the accel op, and leaves shape
// checking to the op's own inference, which reports at the node's location.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/GraphImporter.h"

#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Traits.h"

#include <cmath>
#include <limits>

using namespace mlir;
using torch::jit::Node;

namespace accel::import {
namespace {

RankedTensorType typeOf(Value v) { return cast<RankedTensorType>(v.getType()); }

/// Binds the node's single output to the op's result (or fails).
template <typename OpTy>
LogicalResult emit(GraphImporter &g, const Node *n, ValueRange operands,
                   ArrayRef<NamedAttribute> attrs = {}) {
  FailureOr<OpTy> op =
      createChecked<OpTy>(g.builder(), g.loc(n), operands, attrs);
  if (failed(op))
    return failure();
  g.setTensor(n->output(0), (*op)->getResult(0));
  return success();
}

/// In-place variants (relu_, add_, ...) rebind their first operand as well,
/// so later reads of the mutated TorchScript value see the new one.
/// An in-place op on a buffer (num_batches_tracked.add_(1)) updates it.
void rebindInPlace(GraphImporter &g, const Node *n) {
  if (!llvm::StringRef(n->kind().toUnqualString()).ends_with("_") ||
      !g.isTensor(n->output(0)))
    return;
  Value updated = *g.tensor(n, n->output(0));
  g.setTensor(n->input(0), updated);
  g.updateBuffer(n->input(0), updated);
}

/// Integer tensors (counters such as num_batches_tracked) use arith.
template <typename ArithOpTy>
LogicalResult integerArith(GraphImporter &g, const Node *n, Value lhs,
                           Value rhs) {
  if (lhs.getType() != rhs.getType())
    return g.error(n, "integer tensor arithmetic needs operands of one type");
  g.setTensor(n->output(0), ArithOpTy::create(g.builder(), g.loc(n), lhs, rhs));
  rebindInPlace(g, n);
  return success();
}

template <typename OpTy>
Converter unary() {
  return [](GraphImporter &g, const Node *n) -> LogicalResult {
    FailureOr<Value> x = g.tensor(n, n->input(0));
    if (failed(x))
      return failure();
    g.setTensor(n->output(0), OpTy::create(g.builder(), g.loc(n), *x));
    rebindInPlace(g, n);
    return success();
  };
}

/// add/sub with PyTorch's `alpha`: lhs + alpha * rhs.
template <typename OpTy>
Converter addLike() {
  return [](GraphImporter &g, const Node *n) -> LogicalResult {
    FailureOr<Value> lhs = g.tensor(n, n->input(0));
    if (failed(lhs))
      return failure();
    FailureOr<Value> rhs = g.tensor(n, n->input(1), lhs->getType());
    if (failed(rhs))
      return failure();
    double alpha = 1.0;
    if (n->inputs().size() > 2) {
      FailureOr<double> a = g.doubleArg(n, 2);
      if (failed(a))
        return failure();
      alpha = *a;
    }
    if (isa<IntegerType>(typeOf(*lhs).getElementType())) {
      if (alpha != 1.0)
        return g.error(n, "integer add/sub with alpha is not supported");
      return std::is_same_v<OpTy, AddOp>
                 ? integerArith<arith::AddIOp>(g, n, *lhs, *rhs)
                 : integerArith<arith::SubIOp>(g, n, *lhs, *rhs);
    }
    if (alpha != 1.0) {
      Value a = g.scalar(g.loc(n), alpha, typeOf(*rhs).getElementType());
      FailureOr<MulOp> scaled =
          createChecked<MulOp>(g.builder(), g.loc(n), {*rhs, a});
      if (failed(scaled))
        return failure();
      rhs = scaled->getResult();
    }
    if (failed(emit<OpTy>(g, n, {*lhs, *rhs})))
      return failure();
    rebindInPlace(g, n);
    return success();
  };
}

template <typename OpTy>
Converter mulLike() {
  return [](GraphImporter &g, const Node *n) -> LogicalResult {
    FailureOr<Value> lhs = g.tensor(n, n->input(0));
    if (failed(lhs))
      return failure();
    FailureOr<Value> rhs = g.tensor(n, n->input(1), lhs->getType());
    if (failed(rhs))
      return failure();
    if (n->inputs().size() > 2 && !g.isNone(n, 2))
      return g.error(n, "aten::div with a rounding mode is not supported");
    if (failed(emit<OpTy>(g, n, {*lhs, *rhs})))
      return failure();
    rebindInPlace(g, n);
    return success();
  };
}

LogicalResult linear(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0)), w = g.tensor(n, n->input(1));
  FailureOr<Value> bias = g.optionalTensor(n, n->input(2));
  if (failed(x) || failed(w) || failed(bias))
    return failure();
  SmallVector<Value> operands = {*x, *w};
  if (*bias)
    operands.push_back(*bias);
  return emit<LinearOp>(g, n, operands);
}

LogicalResult matmul(GraphImporter &g, const Node *n) {
  FailureOr<Value> a = g.tensor(n, n->input(0)), b = g.tensor(n, n->input(1));
  if (failed(a) || failed(b))
    return failure();
  return emit<MatmulOp>(g, n, {*a, *b});
}

LogicalResult gelu(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  GeluApproximation approx = GeluApproximation::None;
  if (n->inputs().size() > 1) {
    FailureOr<std::string> mode = g.stringArg(n, 1);
    if (failed(mode))
      return failure();
    if (*mode == "tanh")
      approx = GeluApproximation::Tanh;
    else if (*mode != "none")
      return g.error(n, "unknown GELU approximation \"" + *mode + "\"");
  }
  auto op = GeluOp::create(g.builder(), g.loc(n), *x, approx);
  g.setTensor(n->output(0), op);
  return success();
}

LogicalResult dropout(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<double> p = g.doubleArg(n, 1);
  FailureOr<bool> train = g.boolArg(n, 2);
  if (failed(x) || failed(p) || failed(train))
    return failure();
  if (!*train || *p == 0.0) {
    // Inference-mode dropout is the identity.
    g.setTensor(n->output(0), *x);
    return success();
  }
  Builder &b = g.builder();
  return emit<DropoutOp>(
      g, n, {*x, g.seed()},
      {b.getNamedAttr("p", b.getF64FloatAttr(*p)),
       b.getNamedAttr("stream", b.getI64IntegerAttr(g.nextRandomStream()))});
}

LogicalResult softmaxLike(GraphImporter &g, const Node *n, bool log) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1);
  if (failed(x) || failed(d))
    return failure();
  if (n->inputs().size() > 2 && !g.isNone(n, 2))
    return g.error(n, "softmax with a dtype argument is not supported");
  FailureOr<int64_t> dim = g.dim(n, *d, typeOf(*x).getRank());
  if (failed(dim))
    return failure();
  NamedAttribute attr = g.builder().getNamedAttr(
      "dim", g.builder().getI64IntegerAttr(*dim));
  return log ? emit<LogSoftmaxOp>(g, n, {*x}, {attr})
             : emit<SoftmaxOp>(g, n, {*x}, {attr});
}

LogicalResult transpose(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  int64_t d0 = 0, d1 = 1;
  if (n->kind() == c10::Symbol::fromQualString("aten::t")) {
    if (rank < 2) {
      g.setTensor(n->output(0), *x);
      return success();
    }
  } else {
    FailureOr<int64_t> a = g.intArg(n, 1), c = g.intArg(n, 2);
    if (failed(a) || failed(c))
      return failure();
    FailureOr<int64_t> na = g.dim(n, *a, rank), nc = g.dim(n, *c, rank);
    if (failed(na) || failed(nc))
      return failure();
    d0 = *na;
    d1 = *nc;
  }
  Builder &b = g.builder();
  return emit<TransposeOp>(g, n, {*x},
                           {b.getNamedAttr("dim0", b.getI64IntegerAttr(d0)),
                            b.getNamedAttr("dim1", b.getI64IntegerAttr(d1))});
}

LogicalResult permute(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> perm = g.intListArg(n, 1);
  if (failed(x) || failed(perm))
    return failure();
  for (int64_t &p : *perm) {
    FailureOr<int64_t> d = g.dim(n, p, typeOf(*x).getRank());
    if (failed(d))
      return failure();
    p = *d;
  }
  Builder &b = g.builder();
  return emit<PermuteOp>(
      g, n, {*x},
      {b.getNamedAttr("permutation", b.getDenseI64ArrayAttr(*perm))});
}

/// view/reshape: at most one -1, inferred from the element count.
LogicalResult reshape(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> sizes = g.intListArg(n, 1);
  if (failed(x) || failed(sizes))
    return failure();
  RankedTensorType type = typeOf(*x);
  int64_t known = 1, inferred = -1;
  for (auto [i, s] : llvm::enumerate(*sizes)) {
    if (s == -1 && inferred < 0)
      inferred = i;
    else if (s < 0)
      return g.error(n, "invalid size " + llvm::Twine(s) + " in view/reshape");
    else
      known *= s;
  }
  if (inferred >= 0) {
    if (known == 0 || type.getNumElements() % known != 0)
      return g.error(n, "cannot view a tensor of " +
                            llvm::Twine(type.getNumElements()) +
                            " elements with a -1 dimension");
    (*sizes)[inferred] = type.getNumElements() / known;
    known *= (*sizes)[inferred];
  }
  if (known != type.getNumElements())
    return g.error(n, "cannot view a tensor of " +
                          llvm::Twine(type.getNumElements()) +
                          " elements as " + llvm::Twine(known) + " elements");
  auto result = RankedTensorType::get(*sizes, type.getElementType());
  g.setTensor(n->output(0),
              ReshapeOp::create(g.builder(), g.loc(n), result, *x));
  return success();
}

LogicalResult flatten(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> s = g.intArg(n, 1), e = g.intArg(n, 2);
  if (failed(x) || failed(s) || failed(e))
    return failure();
  int64_t rank = typeOf(*x).getRank();
  FailureOr<int64_t> start = g.dim(n, *s, rank), end = g.dim(n, *e, rank);
  if (failed(start) || failed(end))
    return failure();
  Builder &b = g.builder();
  return emit<FlattenOp>(
      g, n, {*x},
      {b.getNamedAttr("start_dim", b.getI64IntegerAttr(*start)),
       b.getNamedAttr("end_dim", b.getI64IntegerAttr(*end))});
}

/// x[start:end:step] along one dimension, with Python's clamping.
/// list[start:end:step] on a list of tensors (aten::slice.t), with
/// Python's bounds: negative indices count from the end, then clamp (to
/// [-1, size - 1] for a negative step, which walks backwards).
LogicalResult sliceList(GraphImporter &g, const Node *n,
                        const std::vector<Value> &list) {
  auto arg = [&](size_t i) -> FailureOr<std::optional<int64_t>> {
    if (n->inputs().size() <= i || g.isNone(n, i))
      return std::optional<int64_t>();
    FailureOr<int64_t> v = g.intArg(n, i);
    if (failed(v))
      return failure();
    return std::optional<int64_t>(*v);
  };
  FailureOr<std::optional<int64_t>> start = arg(1), end = arg(2),
                                    step = arg(3);
  if (failed(start) || failed(end) || failed(step))
    return failure();
  int64_t size = static_cast<int64_t>(list.size());
  int64_t by = step->value_or(1);
  if (by == 0)
    return g.error(n, "slice step cannot be zero");
  int64_t low = by > 0 ? 0 : -1, high = by > 0 ? size : size - 1;
  auto bound = [&](std::optional<int64_t> v, int64_t dflt) {
    if (!v)
      return dflt;
    return std::clamp<int64_t>(*v < 0 ? *v + size : *v, low, high);
  };
  int64_t from = bound(*start, by > 0 ? 0 : size - 1);
  int64_t to = bound(*end, by > 0 ? size : -1);
  std::vector<Value> items;
  for (int64_t i = from; by > 0 ? i < to : i > to; i += by)
    items.push_back(list[i]);
  g.setTensorList(n->output(0), std::move(items));
  return success();
}

LogicalResult slice(GraphImporter &g, const Node *n) {
  if (const std::vector<Value> *list = g.tensorList(n->input(0)))
    return sliceList(g, n, *list);
  if (n->inputs().size() != 5)
    return g.error(n, "aten::slice of a list that is not a list of tensors "
                      "computed on tensors known only at run time");
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1), step = g.intArg(n, 4);
  if (failed(x) || failed(d) || failed(step))
    return failure();
  RankedTensorType type = typeOf(*x);
  FailureOr<int64_t> dim = g.dim(n, *d, type.getRank());
  if (failed(dim))
    return failure();
  int64_t size = type.getDimSize(*dim);
  auto bound = [&](size_t i, int64_t dflt) -> FailureOr<int64_t> {
    if (g.isNone(n, i))
      return dflt;
    FailureOr<int64_t> v = g.intArg(n, i);
    if (failed(v))
      return failure();
    int64_t r = *v < 0 ? *v + size : *v;
    return std::clamp<int64_t>(r, 0, size);
  };
  FailureOr<int64_t> start = bound(2, 0), end = bound(3, size);
  if (failed(start) || failed(end))
    return failure();
  Builder &b = g.builder();
  return emit<SliceOp>(
      g, n, {*x},
      {b.getNamedAttr("dim", b.getI64IntegerAttr(*dim)),
       b.getNamedAttr("start", b.getI64IntegerAttr(*start)),
       b.getNamedAttr("end", b.getI64IntegerAttr(std::max(*start, *end))),
       b.getNamedAttr("step", b.getI64IntegerAttr(*step))});
}

LogicalResult concat(GraphImporter &g, const Node *n) {
  const std::vector<Value> *inputs = g.tensorList(n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1);
  if (!inputs || inputs->empty())
    return g.error(n, "aten::cat needs a list of tensors");
  if (failed(d))
    return failure();
  FailureOr<int64_t> dim = g.dim(n, *d, typeOf(inputs->front()).getRank());
  if (failed(dim))
    return failure();
  return emit<ConcatOp>(
      g, n, *inputs,
      {g.builder().getNamedAttr("dim", g.builder().getI64IntegerAttr(*dim))});
}

/// A reshape of `x` to `shape` (same element type), bound to output 0.
LogicalResult reshapeTo(GraphImporter &g, const Node *n, Value x,
                        ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  g.setTensor(n->output(0),
              type == x.getType()
                  ? x
                  : ReshapeOp::create(g.builder(), g.loc(n), type, x).getResult());
  return success();
}

/// unsqueeze(x, d): a size-1 dimension inserted at d (of the result).
LogicalResult unsqueeze(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1);
  if (failed(x) || failed(d))
    return failure();
  SmallVector<int64_t> shape(typeOf(*x).getShape());
  FailureOr<int64_t> dim = g.dim(n, *d, shape.size() + 1);
  if (failed(dim))
    return failure();
  shape.insert(shape.begin() + *dim, 1);
  return reshapeTo(g, n, *x, shape);
}

/// squeeze(x), squeeze(x, d), squeeze(x, [d...]): the named (or all)
/// dimensions of size 1 removed; others named are kept, as PyTorch does.
LogicalResult squeeze(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  SmallVector<bool> named(shape.size(), n->inputs().size() == 1);
  if (n->inputs().size() > 1) {
    FailureOr<std::vector<int64_t>> dims = g.intListArg(n, 1);
    if (failed(dims))
      return failure();
    for (int64_t d : *dims) {
      // A rank-0 tensor accepts dimension 0 or -1, as PyTorch's does.
      FailureOr<int64_t> dim = g.dim(n, d, std::max<int64_t>(shape.size(), 1));
      if (failed(dim))
        return failure();
      if (!shape.empty())
        named[*dim] = true;
    }
  }
  SmallVector<int64_t> kept;
  for (auto [i, size] : llvm::enumerate(shape))
    if (!named[i] || size != 1)
      kept.push_back(size);
  return reshapeTo(g, n, *x, kept);
}

/// x[start:end] along `dim` (step 1).
FailureOr<Value> sliceAlong(GraphImporter &g, const Node *n, Value x,
                            int64_t dim, int64_t start, int64_t end) {
  Builder &b = g.builder();
  FailureOr<SliceOp> op = createChecked<SliceOp>(
      g.builder(), g.loc(n), {x},
      {b.getNamedAttr("dim", b.getI64IntegerAttr(dim)),
       b.getNamedAttr("start", b.getI64IntegerAttr(start)),
       b.getNamedAttr("end", b.getI64IntegerAttr(end)),
       b.getNamedAttr("step", b.getI64IntegerAttr(1))});
  if (failed(op))
    return failure();
  return op->getResult();
}

/// select(x, dim, index): one slice with `dim` removed.
LogicalResult select(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1), i = g.intArg(n, 2);
  if (failed(x) || failed(d) || failed(i))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  FailureOr<int64_t> dim = g.dim(n, *d, shape.size());
  if (failed(dim))
    return failure();
  int64_t size = shape[*dim], index = *i < 0 ? *i + size : *i;
  if (index < 0 || index >= size)
    return g.error(n, "index " + llvm::Twine(*i) +
                          " is out of range for dimension " +
                          llvm::Twine(*dim) + " of size " + llvm::Twine(size));
  FailureOr<Value> part = sliceAlong(g, n, *x, *dim, index, index + 1);
  if (failed(part))
    return failure();
  SmallVector<int64_t> kept(shape);
  kept.erase(kept.begin() + *dim);
  return reshapeTo(g, n, *part, kept);
}

/// split(x, size or sizes, dim), split_with_sizes, chunk(x, chunks, dim),
/// unbind(x, dim): consecutive slices, bound to the list output.
LogicalResult split(GraphImporter &g, const Node *n) {
  llvm::StringRef kind = n->kind().toUnqualString();
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  FailureOr<int64_t> d = g.intArg(n, kind == "unbind" ? 1 : 2);
  if (failed(d))
    return failure();
  FailureOr<int64_t> dim = g.dim(n, *d, shape.size());
  if (failed(dim))
    return failure();
  int64_t size = shape[*dim];
  std::vector<int64_t> sizes;
  if (kind == "unbind") {
    sizes.assign(size, 1);
  } else if (const c10::IValue *c = g.constant(n->input(1)); c && c->isInt()) {
    // A chunk count, or a piece size; the last piece may be smaller.
    int64_t piece = c->toInt();
    if (kind == "chunk") {
      if (piece <= 0)
        return g.error(n, "chunk needs a positive number of chunks");
      piece = (size + piece - 1) / piece;
    }
    if (piece <= 0 && size > 0)
      return g.error(n, "split needs a positive piece size");
    for (int64_t at = 0; at < size; at += piece)
      sizes.push_back(std::min(piece, size - at));
    if (sizes.empty())
      sizes.push_back(0);
  } else {
    FailureOr<std::vector<int64_t>> given = g.intListArg(n, 1);
    if (failed(given))
      return failure();
    sizes = *given;
    int64_t total = 0;
    for (int64_t s : sizes)
      total += s;
    if (llvm::any_of(sizes, [](int64_t s) { return s < 0; }) || total != size)
      return g.error(n, "split sizes must be non-negative and add up to " +
                            llvm::Twine(size));
  }
  std::vector<Value> pieces;
  int64_t start = 0;
  for (int64_t s : sizes) {
    FailureOr<Value> piece = sliceAlong(g, n, *x, *dim, start, start + s);
    if (failed(piece))
      return failure();
    if (kind == "unbind") {
      SmallVector<int64_t> kept(shape);
      kept.erase(kept.begin() + *dim);
      piece = ReshapeOp::create(
                  g.builder(), g.loc(n),
                  RankedTensorType::get(kept, typeOf(*x).getElementType()),
                  *piece)
                  .getResult();
    }
    pieces.push_back(*piece);
    start += s;
  }
  g.setTensorList(n->output(0), std::move(pieces));
  return success();
}

/// silu(x) = x * sigmoid(x); autodiff differentiates the product.
LogicalResult silu(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  Value s = SigmoidOp::create(g.builder(), g.loc(n), *x);
  if (failed(emit<MulOp>(g, n, {*x, s})))
    return failure();
  rebindInPlace(g, n);
  return success();
}

/// unflatten(x, dim, sizes): dimension `dim` split into `sizes` (one may
/// be -1).
LogicalResult unflatten(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1);
  FailureOr<std::vector<int64_t>> sizes = g.intListArg(n, 2);
  if (failed(x) || failed(d) || failed(sizes))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  FailureOr<int64_t> dim = g.dim(n, *d, shape.size());
  if (failed(dim))
    return failure();
  int64_t known = 1, inferred = -1;
  for (auto [i, s] : llvm::enumerate(*sizes)) {
    if (s == -1 && inferred < 0)
      inferred = i;
    else if (s < 0)
      return g.error(n, "invalid size " + llvm::Twine(s) + " in unflatten");
    else
      known *= s;
  }
  if (inferred >= 0 && known > 0 && shape[*dim] % known == 0)
    (*sizes)[inferred] = shape[*dim] / known, known = shape[*dim];
  if (known != shape[*dim])
    return g.error(n, "unflatten: sizes do not multiply to dimension " +
                          llvm::Twine(*dim) + "'s " + llvm::Twine(shape[*dim]));
  SmallVector<int64_t> result(shape.take_front(*dim));
  result.append(sizes->begin(), sizes->end());
  result.append(shape.begin() + *dim + 1, shape.end());
  return reshapeTo(g, n, *x, result);
}

/// scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal,
/// scale, enable_gqa) as the math it defines: softmax(q kᵀ · scale + mask)
/// (dropout) v, with a boolean mask (True takes part) or is_causal as
/// masked_fill(-inf) and a float mask added. Autodiff differentiates the
/// pieces.
LogicalResult scaledDotProductAttention(GraphImporter &g, const Node *n) {
  FailureOr<Value> q = g.tensor(n, n->input(0)), k = g.tensor(n, n->input(1)),
                   v = g.tensor(n, n->input(2));
  FailureOr<double> dropoutP = g.doubleArg(n, 4);
  FailureOr<bool> causal = g.boolArg(n, 5), gqa = g.boolArg(n, 7);
  if (failed(q) || failed(k) || failed(v) || failed(dropoutP) ||
      failed(causal) || failed(gqa))
    return failure();
  if (*gqa)
    return g.error(n, "scaled_dot_product_attention with enable_gqa is not "
                      "supported");
  RankedTensorType qt = typeOf(*q), kt = typeOf(*k);
  if (qt.getRank() < 2 || kt.getRank() < 2)
    return g.error(n, "scaled_dot_product_attention needs rank >= 2 operands");
  double scale = 1.0 / std::sqrt(static_cast<double>(qt.getShape().back()));
  if (!g.isNone(n, 6)) {
    FailureOr<double> s = g.doubleArg(n, 6);
    if (failed(s))
      return failure();
    scale = *s;
  }
  OpBuilder &b = g.builder();
  Location l = g.loc(n);
  Type element = qt.getElementType();
  int64_t rank = kt.getRank();
  FailureOr<TransposeOp> kT = createChecked<TransposeOp>(
      b, l, {*k},
      {b.getNamedAttr("dim0", b.getI64IntegerAttr(rank - 2)),
       b.getNamedAttr("dim1", b.getI64IntegerAttr(rank - 1))});
  if (failed(kT))
    return failure();
  FailureOr<MatmulOp> scores = createChecked<MatmulOp>(b, l, {*q, kT->getResult()});
  if (failed(scores))
    return failure();
  FailureOr<MulOp> scaled = createChecked<MulOp>(
      b, l, {scores->getResult(), g.scalar(l, scale, element)});
  if (failed(scaled))
    return failure();
  Value att = scaled->getResult();
  int64_t rows = qt.getShape()[qt.getRank() - 2],
          cols = kt.getShape()[kt.getRank() - 2];
  auto maskOut = [&](Value blocked) -> LogicalResult {
    FailureOr<MaskedFillOp> filled = createChecked<MaskedFillOp>(
        b, l, {att, blocked},
        {b.getNamedAttr("value", b.getF64FloatAttr(
                                     -std::numeric_limits<double>::infinity()))});
    if (failed(filled))
      return failure();
    att = filled->getResult();
    return success();
  };
  if (*causal) {
    // Row i attends to columns j <= i: the blocked ones are j > i.
    SmallVector<bool> blocked(rows * cols);
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j)
        blocked[i * cols + j] = j > i;
    auto type = RankedTensorType::get({rows, cols}, b.getI1Type());
    if (failed(maskOut(arith::ConstantOp::create(
            b, l, DenseElementsAttr::get(type, ArrayRef<bool>(blocked))))))
      return failure();
  }
  if (!g.isNone(n, 3)) {
    const c10::IValue *c = g.constant(n->input(3));
    if (c && c->isTensor() && c->toTensor().scalar_type() == at::kBool) {
      // True takes part: the blocked positions are the mask's negation,
      // known at compile time.
      at::Tensor blocked = c->toTensor().logical_not().contiguous();
      SmallVector<bool> bits(blocked.data_ptr<bool>(),
                             blocked.data_ptr<bool>() + blocked.numel());
      auto type = RankedTensorType::get(blocked.sizes().vec(), b.getI1Type());
      if (failed(maskOut(arith::ConstantOp::create(
              b, l, DenseElementsAttr::get(type, ArrayRef<bool>(bits))))))
        return failure();
    } else {
      FailureOr<Value> mask = g.tensor(n, n->input(3));
      if (failed(mask))
        return failure();
      if (!isa<FloatType>(typeOf(*mask).getElementType()))
        return g.error(n, "scaled_dot_product_attention: a boolean attn_mask "
                          "must be known at compile time");
      FailureOr<AddOp> added = createChecked<AddOp>(b, l, {att, *mask});
      if (failed(added))
        return failure();
      att = added->getResult();
    }
  }
  FailureOr<SoftmaxOp> weights = createChecked<SoftmaxOp>(
      b, l, {att},
      {b.getNamedAttr("dim", b.getI64IntegerAttr(typeOf(att).getRank() - 1))});
  if (failed(weights))
    return failure();
  Value w = weights->getResult();
  if (*dropoutP > 0) {
    FailureOr<DropoutOp> dropped = createChecked<DropoutOp>(
        b, l, {w, g.seed()},
        {b.getNamedAttr("p", b.getF64FloatAttr(*dropoutP)),
         b.getNamedAttr("stream", b.getI64IntegerAttr(g.nextRandomStream()))});
    if (failed(dropped))
      return failure();
    w = dropped->getResult();
  }
  return emit<MatmulOp>(g, n, {w, *v});
}

/// x clamped to [lo, hi].
FailureOr<Value> clampOf(GraphImporter &g, const Node *n, Value x, double lo,
                         double hi) {
  Builder &b = g.builder();
  FailureOr<ClampOp> op = createChecked<ClampOp>(
      g.builder(), g.loc(n), {x},
      {b.getNamedAttr("min", b.getF64FloatAttr(lo)),
       b.getNamedAttr("max", b.getF64FloatAttr(hi))});
  if (failed(op))
    return failure();
  return op->getResult();
}

/// hardtanh(x, min_val, max_val) and relu6(x) (hardtanh to [0, 6]).
LogicalResult hardtanh(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  double lo = 0, hi = 6;
  if (!llvm::StringRef(n->kind().toUnqualString()).starts_with("relu6")) {
    FailureOr<double> a = g.doubleArg(n, 1), c = g.doubleArg(n, 2);
    if (failed(a) || failed(c))
      return failure();
    lo = *a;
    hi = *c;
  }
  FailureOr<Value> y = clampOf(g, n, *x, lo, hi);
  if (failed(y))
    return failure();
  g.setTensor(n->output(0), *y);
  rebindInPlace(g, n);
  return success();
}

/// hardsigmoid(x) = clamp(x + 3, 0, 6) / 6 and hardswish(x) =
/// x * clamp(x + 3, 0, 6) / 6, in ATen's order of operations (so the
/// forward rounds as ATen's does).
LogicalResult hardActivation(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  Location l = g.loc(n);
  Type element = typeOf(*x).getElementType();
  FailureOr<AddOp> shifted =
      createChecked<AddOp>(g.builder(), l, {*x, g.scalar(l, 3.0, element)});
  if (failed(shifted))
    return failure();
  FailureOr<Value> gate = clampOf(g, n, shifted->getResult(), 0.0, 6.0);
  if (failed(gate))
    return failure();
  Value numerator = *gate;
  if (llvm::StringRef(n->kind().toUnqualString()).starts_with("hardswish")) {
    FailureOr<MulOp> product =
        createChecked<MulOp>(g.builder(), l, {*x, *gate});
    if (failed(product))
      return failure();
    numerator = product->getResult();
  }
  if (failed(emit<DivOp>(g, n, {numerator, g.scalar(l, 6.0, element)})))
    return failure();
  rebindInPlace(g, n);
  return success();
}

/// `x` broadcast to `shape`, checked by the op's verifier.
FailureOr<Value> broadcastTo(GraphImporter &g, const Node *n, Value x,
                             ArrayRef<int64_t> shape) {
  auto type = RankedTensorType::get(shape, typeOf(x).getElementType());
  if (type == x.getType())
    return x;
  auto op = BroadcastToOp::create(g.builder(), g.loc(n), type, x);
  if (failed(op.verify()))
    return failure();
  return op.getResult();
}

/// expand(x, sizes) (-1 keeps a size) and expand_as(x, other).
LogicalResult expand(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  std::vector<int64_t> sizes;
  if (n->kind() == c10::Symbol::fromQualString("aten::expand_as")) {
    FailureOr<Value> other = g.tensor(n, n->input(1));
    if (failed(other))
      return failure();
    sizes = typeOf(*other).getShape().vec();
  } else {
    FailureOr<std::vector<int64_t>> given = g.intListArg(n, 1);
    if (failed(given))
      return failure();
    sizes = *given;
    if (sizes.size() < shape.size())
      return g.error(n, "expand to " + llvm::Twine(sizes.size()) +
                            " dimensions of a tensor with " +
                            llvm::Twine(shape.size()));
    size_t lead = sizes.size() - shape.size();
    for (size_t i = 0; i < sizes.size(); ++i)
      if (sizes[i] == -1) {
        if (i < lead)
          return g.error(n, "expand: -1 for a new leading dimension");
        sizes[i] = shape[i - lead];
      }
  }
  FailureOr<Value> out = broadcastTo(g, n, *x, sizes);
  if (failed(out))
    return failure();
  g.setTensor(n->output(0), *out);
  return success();
}

/// broadcast_tensors([a, b, ...]): each broadcast to their common shape.
LogicalResult broadcastTensors(GraphImporter &g, const Node *n) {
  const std::vector<Value> *inputs = g.tensorList(n->input(0));
  if (!inputs || inputs->empty())
    return g.error(n, "aten::broadcast_tensors needs a list of tensors");
  SmallVector<int64_t> shape;
  for (Value v : *inputs) {
    SmallVector<int64_t> next;
    if (!OpTrait::util::getBroadcastedShape(shape, typeOf(v).getShape(), next))
      return g.error(n, "the tensors do not broadcast together");
    shape = next;
  }
  std::vector<Value> out;
  for (Value v : *inputs) {
    FailureOr<Value> b = broadcastTo(g, n, v, shape);
    if (failed(b))
      return failure();
    out.push_back(*b);
  }
  g.setTensorList(n->output(0), std::move(out));
  return success();
}

/// stack([a, b, ...], dim): each unsqueezed at dim, then concatenated.
LogicalResult stack(GraphImporter &g, const Node *n) {
  const std::vector<Value> *inputs = g.tensorList(n->input(0));
  FailureOr<int64_t> d = g.intArg(n, 1);
  if (!inputs || inputs->empty())
    return g.error(n, "aten::stack needs a list of tensors");
  if (failed(d))
    return failure();
  FailureOr<int64_t> dim = g.dim(n, *d, typeOf(inputs->front()).getRank() + 1);
  if (failed(dim))
    return failure();
  SmallVector<Value> parts;
  for (Value v : *inputs) {
    SmallVector<int64_t> shape(typeOf(v).getShape());
    shape.insert(shape.begin() + *dim, 1);
    parts.push_back(ReshapeOp::create(
        g.builder(), g.loc(n),
        RankedTensorType::get(shape, typeOf(v).getElementType()), v));
  }
  return emit<ConcatOp>(
      g, n, parts,
      {g.builder().getNamedAttr("dim", g.builder().getI64IntegerAttr(*dim))});
}

LogicalResult maskedFill(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<Value> mask = g.tensor(n, n->input(1));
  FailureOr<double> value = g.doubleArg(n, 2);
  if (failed(x) || failed(mask) || failed(value))
    return failure();
  if (failed(emit<MaskedFillOp>(g, n, {*x, *mask},
                                {g.builder().getNamedAttr(
                                    "value", g.builder().getF64FloatAttr(*value))})))
    return failure();
  rebindInPlace(g, n);
  return success();
}

LogicalResult embedding(GraphImporter &g, const Node *n) {
  FailureOr<Value> w = g.tensor(n, n->input(0)), idx = g.tensor(n, n->input(1));
  if (failed(w) || failed(idx))
    return failure();
  if (n->inputs().size() > 2) {
    FailureOr<int64_t> padding = g.intArg(n, 2);
    if (failed(padding))
      return failure();
    if (*padding != -1)
      return g.error(n, "embedding with padding_idx is not supported");
  }
  return emit<EmbeddingOp>(g, n, {*w, *idx});
}

LogicalResult layerNorm(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> shape = g.intListArg(n, 1);
  FailureOr<Value> w = g.optionalTensor(n, n->input(2));
  FailureOr<Value> bias = g.optionalTensor(n, n->input(3));
  FailureOr<double> eps = g.doubleArg(n, 4);
  if (failed(x) || failed(shape) || failed(w) || failed(bias) || failed(eps))
    return failure();
  SmallVector<Value> operands = {*x};
  if (*w)
    operands.push_back(*w);
  if (*bias)
    operands.push_back(*bias);
  Builder &b = g.builder();
  return emit<LayerNormOp>(
      g, n, operands,
      {b.getNamedAttr("normalized_shape", b.getDenseI64ArrayAttr(*shape)),
       b.getNamedAttr("eps", b.getF64FloatAttr(*eps)),
       b.getNamedAttr("operandSegmentSizes",
                      b.getDenseI32ArrayAttr({1, *w ? 1 : 0, *bias ? 1 : 0}))});
}

/// aten::conv2d(x, w, b, stride, padding, dilation, groups) and the traced
/// aten::_convolution(x, w, b, stride, padding, dilation, transposed,
/// output_padding, groups, ...).
LogicalResult convolution(GraphImporter &g, const Node *n) {
  bool traced = n->kind() == c10::Symbol::fromQualString("aten::_convolution");
  FailureOr<Value> x = g.tensor(n, n->input(0)), w = g.tensor(n, n->input(1));
  FailureOr<Value> bias = g.optionalTensor(n, n->input(2));
  if (failed(x) || failed(w) || failed(bias))
    return failure();
  if (const c10::IValue *p = g.constant(n->input(4)); p && p->isString())
    return g.error(n, "conv2d with padding=\"" + p->toStringRef() +
                          "\" is not supported; give the padding in numbers");
  FailureOr<std::vector<int64_t>> stride = g.intListArg(n, 3),
                                  padding = g.intListArg(n, 4),
                                  dilation = g.intListArg(n, 5);
  FailureOr<int64_t> groups = g.intArg(n, traced ? 8 : 6);
  if (failed(stride) || failed(padding) || failed(dilation) || failed(groups))
    return failure();
  if (traced) {
    FailureOr<bool> transposed = g.boolArg(n, 6);
    if (failed(transposed))
      return failure();
    if (*transposed)
      return g.error(n, "transposed convolution is not supported");
  }
  if (typeOf(*x).getRank() != 4)
    return g.error(n, "only 2-d convolution on [N, C, H, W] inputs is supported");
  auto pair = [](std::vector<int64_t> v) {
    return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v;
  };
  SmallVector<Value> operands = {*x, *w};
  if (*bias)
    operands.push_back(*bias);
  Builder &b = g.builder();
  return emit<Conv2dOp>(
      g, n, operands,
      {b.getNamedAttr("stride", b.getDenseI64ArrayAttr(pair(*stride))),
       b.getNamedAttr("padding", b.getDenseI64ArrayAttr(pair(*padding))),
       b.getNamedAttr("dilation", b.getDenseI64ArrayAttr(pair(*dilation))),
       b.getNamedAttr("groups", b.getI64IntegerAttr(*groups))});
}

/// aten::batch_norm(x, weight, bias, running_mean, running_var, training,
/// momentum, eps, cudnn_enabled); in training the updated statistics become
/// the buffers' new values.
LogicalResult batchNorm(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  SmallVector<Value> operands = {*x};
  int64_t channels = typeOf(*x).getRank() >= 2 ? typeOf(*x).getDimSize(1) : 1;
  OpBuilder &b = g.builder();
  for (size_t i = 1; i <= 4; ++i) {
    FailureOr<Value> v = g.optionalTensor(n, n->input(i));
    if (failed(v))
      return failure();
    if (!*v) {
      // affine=False or track_running_stats=False: weight 1, bias 0, and
      // statistics that are computed but not kept.
      auto type = RankedTensorType::get({channels}, typeOf(*x).getElementType());
      *v = arith::ConstantOp::create(
          b, g.loc(n),
          DenseElementsAttr::get(
              type, b.getFloatAttr(type.getElementType(),
                                   i == 1 || i == 4 ? 1.0 : 0.0)));
    }
    operands.push_back(*v);
  }
  FailureOr<bool> training = g.boolArg(n, 5);
  FailureOr<double> momentum = g.doubleArg(n, 6), eps = g.doubleArg(n, 7);
  if (failed(training) || failed(momentum) || failed(eps))
    return failure();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("momentum", b.getF64FloatAttr(*momentum)),
      b.getNamedAttr("eps", b.getF64FloatAttr(*eps))};
  if (*training)
    attrs.push_back(b.getNamedAttr("training", b.getUnitAttr()));
  FailureOr<BatchNormOp> op =
      createChecked<BatchNormOp>(b, g.loc(n), operands, attrs);
  if (failed(op))
    return failure();
  g.setTensor(n->output(0), op->getResult());
  if (*training) {
    g.updateBuffer(n->input(3), op->getNewRunningMean());
    g.updateBuffer(n->input(4), op->getNewRunningVar());
  }
  return success();
}

LogicalResult maxPool(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> kernel = g.intListArg(n, 1),
                                  stride = g.intListArg(n, 2),
                                  padding = g.intListArg(n, 3),
                                  dilation = g.intListArg(n, 4);
  FailureOr<bool> ceil = g.boolArg(n, 5);
  if (failed(x) || failed(kernel) || failed(stride) || failed(padding) ||
      failed(dilation) || failed(ceil))
    return failure();
  auto pair = [](std::vector<int64_t> v) {
    return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v;
  };
  // PyTorch's default stride is the kernel size (an empty list).
  if (stride->empty())
    *stride = *kernel;
  Builder &b = g.builder();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("kernel_size", b.getDenseI64ArrayAttr(pair(*kernel))),
      b.getNamedAttr("stride", b.getDenseI64ArrayAttr(pair(*stride))),
      b.getNamedAttr("padding", b.getDenseI64ArrayAttr(pair(*padding))),
      b.getNamedAttr("dilation", b.getDenseI64ArrayAttr(pair(*dilation)))};
  if (*ceil)
    attrs.push_back(b.getNamedAttr("ceil_mode", b.getUnitAttr()));
  return emit<MaxPool2dOp>(g, n, {*x}, attrs);
}

LogicalResult avgPool(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> kernel = g.intListArg(n, 1),
                                  stride = g.intListArg(n, 2),
                                  padding = g.intListArg(n, 3);
  FailureOr<bool> ceil = g.boolArg(n, 4), countPad = g.boolArg(n, 5);
  if (failed(x) || failed(kernel) || failed(stride) || failed(padding) ||
      failed(ceil) || failed(countPad))
    return failure();
  if (n->inputs().size() > 6 && !g.isNone(n, 6))
    return g.error(n, "avg_pool2d with divisor_override is not supported");
  auto pair = [](std::vector<int64_t> v) {
    return v.size() == 1 ? std::vector<int64_t>{v[0], v[0]} : v;
  };
  if (stride->empty())
    *stride = *kernel;
  Builder &b = g.builder();
  SmallVector<NamedAttribute> attrs = {
      b.getNamedAttr("kernel_size", b.getDenseI64ArrayAttr(pair(*kernel))),
      b.getNamedAttr("stride", b.getDenseI64ArrayAttr(pair(*stride))),
      b.getNamedAttr("padding", b.getDenseI64ArrayAttr(pair(*padding)))};
  if (*ceil)
    attrs.push_back(b.getNamedAttr("ceil_mode", b.getUnitAttr()));
  if (*countPad)
    attrs.push_back(b.getNamedAttr("count_include_pad", b.getUnitAttr()));
  return emit<AvgPool2dOp>(g, n, {*x}, attrs);
}

LogicalResult adaptiveAvgPool(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  FailureOr<std::vector<int64_t>> size = g.intListArg(n, 1);
  if (failed(x) || failed(size))
    return failure();
  if (size->size() == 1)
    size->push_back(size->front());
  return emit<AdaptiveAvgPool2dOp>(
      g, n, {*x},
      {g.builder().getNamedAttr("output_size",
                                g.builder().getDenseI64ArrayAttr(*size))});
}

/// sum/mean/amax(x, dims, keepdim, [dtype]); no dims means all of them.
template <typename OpTy>
Converter reduction() {
  return [](GraphImporter &g, const Node *n) -> LogicalResult {
    FailureOr<Value> x = g.tensor(n, n->input(0));
    if (failed(x))
      return failure();
    int64_t rank = typeOf(*x).getRank();
    std::vector<int64_t> dims;
    bool keepdim = false;
    if (n->inputs().size() >= 3) {
      if (!g.isNone(n, 1)) {
        FailureOr<std::vector<int64_t>> d = g.intListArg(n, 1);
        if (failed(d))
          return failure();
        dims = *d;
      }
      FailureOr<bool> k = g.boolArg(n, 2);
      if (failed(k))
        return failure();
      keepdim = *k;
    }
    if (n->inputs().size() == 4 || n->inputs().size() == 2)
      if (!g.isNone(n, n->inputs().size() - 1))
        return g.error(n, "reductions with a dtype argument are not supported");
    if (dims.empty())
      for (int64_t i = 0; i < rank; ++i)
        dims.push_back(i);
    for (int64_t &d : dims) {
      FailureOr<int64_t> nd = g.dim(n, d, rank);
      if (failed(nd))
        return failure();
      d = *nd;
    }
    Builder &b = g.builder();
    SmallVector<NamedAttribute> attrs = {
        b.getNamedAttr("dims", b.getDenseI64ArrayAttr(dims))};
    if (keepdim)
      attrs.push_back(b.getNamedAttr("keepdim", b.getUnitAttr()));
    return emit<OpTy>(g, n, {*x}, attrs);
  };
}

/// PyTorch's reduction enum (at::Reduction): 0 none, 1 mean, 2 sum.
FailureOr<Reduction> reductionArg(GraphImporter &g, const Node *n, size_t i) {
  FailureOr<int64_t> r = g.intArg(n, i);
  if (failed(r))
    return failure();
  switch (*r) {
  case 0:
    return Reduction::None;
  case 1:
    return Reduction::Mean;
  case 2:
    return Reduction::Sum;
  }
  return g.error(n, "unknown reduction " + llvm::Twine(*r));
}

/// aten::cross_entropy_loss(logits, target, weight, reduction, ignore_index,
/// label_smoothing).
LogicalResult crossEntropy(GraphImporter &g, const Node *n) {
  FailureOr<Value> logits = g.tensor(n, n->input(0));
  FailureOr<Value> target = g.tensor(n, n->input(1));
  if (failed(logits) || failed(target))
    return failure();
  if (!g.isNone(n, 2))
    return g.error(n, "cross_entropy with class weights is not supported");
  FailureOr<Reduction> reduction = reductionArg(g, n, 3);
  FailureOr<int64_t> ignore = g.intArg(n, 4);
  FailureOr<double> smoothing = g.doubleArg(n, 5);
  if (failed(reduction) || failed(ignore) || failed(smoothing))
    return failure();
  Builder &b = g.builder();
  return emit<CrossEntropyOp>(
      g, n, {*logits, *target},
      {b.getNamedAttr("reduction",
                      ReductionAttr::get(g.getContext(), *reduction)),
       b.getNamedAttr("ignore_index", b.getI64IntegerAttr(*ignore)),
       b.getNamedAttr("label_smoothing", b.getF64FloatAttr(*smoothing))});
}

LogicalResult mseLoss(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0)), t = g.tensor(n, n->input(1));
  FailureOr<Reduction> reduction = reductionArg(g, n, 2);
  if (failed(x) || failed(t) || failed(reduction))
    return failure();
  return emit<MseLossOp>(
      g, n, {*x, *t},
      {g.builder().getNamedAttr(
          "reduction", ReductionAttr::get(g.getContext(), *reduction))});
}

/// Ops that return their input: contiguous(), clone(), detach() have no
/// meaning for values.
LogicalResult identity(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  g.setTensor(n->output(0), *x);
  return success();
}

/// aten::size(x, dim) and aten::size(x): static sizes are constants.
LogicalResult size(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  ArrayRef<int64_t> shape = typeOf(*x).getShape();
  if (n->inputs().size() == 1) {
    g.setConstant(n->output(0), c10::IValue(shape.vec()));
    return success();
  }
  FailureOr<int64_t> d = g.intArg(n, 1);
  if (failed(d))
    return failure();
  FailureOr<int64_t> dim = g.dim(n, *d, shape.size());
  if (failed(dim))
    return failure();
  g.setConstant(n->output(0), c10::IValue(shape[*dim]));
  return success();
}

LogicalResult rankOf(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  g.setConstant(n->output(0), c10::IValue(typeOf(*x).getRank()));
  return success();
}

/// bernoulli_(self, p) and bernoulli(self, p): a tensor of self's shape
/// holding 1 with probability p, else 0 (torchvision's stochastic depth
/// draws its per-sample mask this way into an uninitialised tensor). It is
/// dropout of ones with probability 1 - p, without dropout's rescaling;
/// only self's shape and element type are read.
LogicalResult bernoulli(GraphImporter &g, const Node *n) {
  FailureOr<double> p = g.doubleArg(n, 1);
  if (failed(p))
    return failure();
  if (n->inputs().size() > 2 && !g.isNone(n, 2))
    return g.error(n, "bernoulli with a generator argument is not supported");
  if (!(*p >= 0.0 && *p <= 1.0))
    return g.error(n, "bernoulli probability must be in [0, 1], got " +
                          std::to_string(*p));
  RankedTensorType type;
  if (const c10::IValue *c = g.constant(n->input(0)); c && c->isTensor()) {
    // An uninitialised compile-time tensor (aten::empty): its values are
    // never read, so it is not materialised.
    const at::Tensor &t = c->toTensor();
    Type element = elementTypeFor(g.getContext(), t.scalar_type());
    if (!element)
      return g.error(n, "bernoulli into a tensor of dtype " +
                            std::string(c10::toString(t.scalar_type())) +
                            ", which accel has no type for");
    type = RankedTensorType::get(t.sizes().vec(), element);
  } else {
    FailureOr<Value> x = g.tensor(n, n->input(0));
    if (failed(x))
      return failure();
    type = typeOf(*x);
  }
  auto element = dyn_cast<FloatType>(type.getElementType());
  if (!element)
    return g.error(n, "bernoulli into a non-floating-point tensor is not "
                      "supported");
  OpBuilder &b = g.builder();
  Value ones = arith::ConstantOp::create(
      b, g.loc(n),
      DenseElementsAttr::get(type, FloatAttr::get(element, 1.0)));
  if (failed(emit<DropoutOp>(
          g, n, {ones, g.seed()},
          {b.getNamedAttr("p", b.getF64FloatAttr(1.0 - *p)),
           b.getNamedAttr("stream", b.getI64IntegerAttr(g.nextRandomStream())),
           b.getNamedAttr("rescale", b.getBoolAttr(false))})))
    return failure();
  rebindInPlace(g, n);
  return success();
}

/// The PyTorch dtype of an accel element type.
std::optional<c10::ScalarType> scalarTypeOf(MLIRContext *context, Type type) {
  for (c10::ScalarType candidate :
       {c10::ScalarType::Float, c10::ScalarType::BFloat16,
        c10::ScalarType::Half, c10::ScalarType::Long, c10::ScalarType::Bool})
    if (elementTypeFor(context, candidate) == type)
      return candidate;
  return std::nullopt;
}

/// Questions about a tensor's type that scripted code asks (nn.Module
/// argument checks, fast-path tests): all answered at compile time. accel
/// tensors live on the CPU device of the program, dense and unquantised.
LogicalResult tensorProperty(GraphImporter &g, const Node *n) {
  FailureOr<Value> x = g.tensor(n, n->input(0));
  if (failed(x))
    return failure();
  Type element = typeOf(*x).getElementType();
  llvm::StringRef kind = n->kind().toQualString();
  c10::IValue answer;
  if (kind == "prim::dtype") {
    std::optional<c10::ScalarType> dtype = scalarTypeOf(g.getContext(), element);
    if (!dtype)
      return g.error(n, "prim::dtype of a tensor with no PyTorch dtype");
    answer = c10::IValue(static_cast<int64_t>(*dtype));
  } else if (kind == "prim::device") {
    answer = c10::IValue(c10::Device(c10::kCPU));
  } else if (kind == "aten::is_floating_point") {
    answer = c10::IValue(isa<FloatType>(element));
  } else {
    answer = c10::IValue(false); // is_cuda, is_nested, is_quantized, ...
  }
  g.setConstant(n->output(0), answer);
  return success();
}

/// `a is b` / `a is not b` with a tensor operand: the same SSA value, or
/// never for a tensor against None or a number.
LogicalResult identityTest(GraphImporter &g, const Node *n) {
  bool same;
  if (g.isTensor(n->input(0)) && g.isTensor(n->input(1)))
    same = *g.tensor(n, n->input(0)) == *g.tensor(n, n->input(1));
  else
    same = false;
  bool negate = llvm::StringRef(n->kind().toQualString()) == "aten::__isnot__";
  g.setConstant(n->output(0), c10::IValue(same != negate));
  return success();
}

/// list.append(tensor) on a list of tensors (DenseNet's growing list of
/// feature maps): the list value now stands for the longer list.
LogicalResult append(GraphImporter &g, const Node *n) {
  std::vector<Value> items;
  if (const std::vector<Value> *list = g.tensorList(n->input(0))) {
    items = *list;
  } else if (const c10::IValue *c = g.constant(n->input(0));
             c && c->isList() && c->toListRef().empty()) {
    // An empty list literal ([]) that becomes a list of tensors.
  } else {
    return g.error(n, "append of a tensor to a list that is not a list of "
                      "tensors");
  }
  FailureOr<Value> item = g.tensor(n, n->input(1));
  if (failed(item))
    return failure();
  items.push_back(*item);
  g.setTensorList(n->input(0), items);
  g.setTensorList(n->output(0), std::move(items));
  return success();
}

} // namespace

namespace {

/// The names of ops a converter may emit.
template <typename... Ops>
std::vector<std::string> names() {
  return {Ops::getOperationName().str()...};
}

} // namespace

const llvm::StringMap<AtenOp> &atenOps() {
  static const llvm::StringMap<AtenOp> table = [] {
    llvm::StringMap<AtenOp> m;
    auto add = [&](std::initializer_list<const char *> kinds,
                   Converter convert, std::vector<std::string> emits) {
      for (const char *kind : kinds)
        m[kind] = AtenOp{convert, emits};
    };
    add({"aten::linear"}, linear, names<LinearOp>());
    add({"aten::matmul", "aten::bmm"}, matmul, names<MatmulOp>());
    add({"aten::relu", "aten::relu_"}, unary<ReluOp>(), names<ReluOp>());
    add({"aten::tanh", "aten::tanh_"}, unary<TanhOp>(), names<TanhOp>());
    add({"aten::sigmoid", "aten::sigmoid_"}, unary<SigmoidOp>(),
        names<SigmoidOp>());
    add({"aten::exp"}, unary<ExpOp>(), names<ExpOp>());
    add({"aten::log"}, unary<LogOp>(), names<LogOp>());
    add({"aten::sqrt"}, unary<SqrtOp>(), names<SqrtOp>());
    add({"aten::rsqrt"}, unary<RsqrtOp>(), names<RsqrtOp>());
    add({"aten::neg"}, unary<NegOp>(), names<NegOp>());
    add({"aten::gelu"}, gelu, names<GeluOp>());
    add({"aten::dropout", "aten::dropout_"}, dropout, names<DropoutOp>());
    add({"aten::add", "aten::add_"}, addLike<AddOp>(),
        names<AddOp, MulOp, arith::AddIOp>());
    add({"aten::sub", "aten::sub_"}, addLike<SubOp>(),
        names<SubOp, MulOp, arith::SubIOp>());
    add({"aten::mul", "aten::mul_"}, mulLike<MulOp>(), names<MulOp>());
    add({"aten::div", "aten::div_"}, mulLike<DivOp>(), names<DivOp>());
    add({"aten::softmax"},
        [](GraphImporter &g, const Node *n) {
          return softmaxLike(g, n, /*log=*/false);
        },
        names<SoftmaxOp>());
    add({"aten::log_softmax"},
        [](GraphImporter &g, const Node *n) {
          return softmaxLike(g, n, /*log=*/true);
        },
        names<LogSoftmaxOp>());
    add({"aten::t", "aten::transpose"}, transpose, names<TransposeOp>());
    add({"aten::permute"}, permute, names<PermuteOp>());
    add({"aten::view", "aten::reshape"}, reshape, names<ReshapeOp>());
    add({"aten::flatten"}, flatten, names<FlattenOp>());
    add({"aten::slice"}, slice, names<SliceOp>());
    add({"aten::cat"}, concat, names<ConcatOp>());
    add({"aten::stack"}, stack, names<ReshapeOp, ConcatOp>());
    add({"aten::masked_fill", "aten::masked_fill_"}, maskedFill,
        names<MaskedFillOp>());
    add({"aten::embedding"}, embedding, names<EmbeddingOp>());
    add({"aten::layer_norm"}, layerNorm, names<LayerNormOp>());
    add({"aten::conv2d", "aten::_convolution"}, convolution, names<Conv2dOp>());
    add({"aten::batch_norm"}, batchNorm, names<BatchNormOp>());
    add({"aten::max_pool2d"}, maxPool, names<MaxPool2dOp>());
    add({"aten::avg_pool2d"}, avgPool, names<AvgPool2dOp>());
    add({"aten::adaptive_avg_pool2d"}, adaptiveAvgPool,
        names<AdaptiveAvgPool2dOp>());
    add({"aten::sum"}, reduction<SumOp>(), names<SumOp>());
    add({"aten::mean"}, reduction<MeanOp>(), names<MeanOp>());
    add({"aten::amax"}, reduction<AmaxOp>(), names<AmaxOp>());
    add({"aten::cross_entropy_loss"}, crossEntropy, names<CrossEntropyOp>());
    add({"aten::mse_loss"}, mseLoss, names<MseLossOp>());
    add({"aten::contiguous", "aten::clone", "aten::detach"}, identity, {});
    add({"aten::unsqueeze"}, unsqueeze, names<ReshapeOp>());
    add({"aten::squeeze"}, squeeze, names<ReshapeOp>());
    add({"aten::select"}, select, names<SliceOp, ReshapeOp>());
    add({"aten::split", "aten::split_with_sizes", "aten::chunk",
         "aten::unbind"},
        split, names<SliceOp, ReshapeOp>());
    add({"aten::silu", "aten::silu_"}, silu, names<SigmoidOp, MulOp>());
    add({"aten::unflatten"}, unflatten, names<ReshapeOp>());
    add({"aten::scaled_dot_product_attention"}, scaledDotProductAttention,
        names<TransposeOp, MatmulOp, MulOp, MaskedFillOp, AddOp, SoftmaxOp,
              DropoutOp>());
    add({"aten::hardtanh", "aten::hardtanh_", "aten::relu6", "aten::relu6_"},
        hardtanh, names<ClampOp>());
    add({"aten::hardsigmoid", "aten::hardsigmoid_", "aten::hardswish",
         "aten::hardswish_"},
        hardActivation, names<AddOp, ClampOp, MulOp, DivOp>());
    add({"aten::expand", "aten::expand_as"}, expand,
        names<BroadcastToOp, ReshapeOp>());
    add({"aten::broadcast_tensors"}, broadcastTensors,
        names<BroadcastToOp, ReshapeOp>());
    add({"aten::bernoulli", "aten::bernoulli_"}, bernoulli, names<DropoutOp>());
    add({"aten::append"}, append, {});
    // Answered at compile time from a tensor's type.
    add({"aten::size"}, size, {});
    add({"aten::dim"}, rankOf, {});
    add({"prim::dtype", "prim::device", "prim::is_cuda", "prim::is_nested",
         "prim::is_quantized", "prim::is_meta", "prim::is_sparse",
         "prim::is_mkldnn", "aten::is_floating_point"},
        tensorProperty, {});
    add({"aten::__is__", "aten::__isnot__"}, identityTest, {});
    return m;
  }();
  return table;
}

} // namespace accel::import
