//===- InstructionCheck.cpp - an instruction's operands fit its kernel ----===//

#include "runtime/executor/InstructionCheck.h"

#include "runtime/executor/FusedKernel.h"
#include "runtime/executor/Widening.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/Twine.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <string>
#include <vector>

namespace accel::rt {

namespace {

/// Operand and result counts (-1: any number), and the fewest ints and
/// floats the kernel reads.
struct Counts {
  int minOperands, maxOperands, results, ints, floats;
};

Counts countsOf(Kernel k) {
  switch (k) {
  case Kernel::Linear:
    return {2, 3, 1, 0, 0};
  case Kernel::Concat:
    return {1, -1, 1, 1, 0};
  case Kernel::Slice:
  case Kernel::SliceGrad:
    return {1, 1, 1, 4, 0};
  case Kernel::Clamp:
    return {1, 1, 1, 0, 2};
  case Kernel::ClampGrad:
    return {2, 2, 1, 0, 2};
  case Kernel::CrossEntropy:
    return {2, 2, 1, 2, 1};
  case Kernel::CrossEntropyGrad:
    return {3, 3, 1, 2, 1};
  case Kernel::MseLoss:
    return {2, 2, 1, 1, 0};
  case Kernel::LayerNorm:
    return {1, 3, 1, 3, 1};
  case Kernel::LayerNormGrad:
    return {2, 4, 3, 3, 1};
  case Kernel::MaskedFill:
    return {2, 2, 1, 0, 1};
  case Kernel::Dropout:
    return {2, 2, 1, 3, 1};
  case Kernel::Conv2d:
    return {2, 3, 1, 7, 0};
  case Kernel::Conv2dGradInput:
  case Kernel::Conv2dGradWeight:
    return {2, 2, 1, 7, 0};
  case Kernel::MaxPool2d:
  case Kernel::AvgPool2d:
    return {1, 1, 1, 9, 0};
  case Kernel::MaxPool2dGrad:
  case Kernel::AvgPool2dGrad:
    return {2, 2, 1, 9, 0};
  case Kernel::BatchNorm:
  case Kernel::BatchNormGrad:
    return {5, 5, 3, 1, 1};
  case Kernel::Fused:
    return {0, -1, -1, 1, 0};
  case Kernel::Select:
    return {3, 3, 1, 0, 0};
  case Kernel::AllFinite:
    return {1, -1, 1, 0, 0};
  case Kernel::Fp8Quantize:
    return {1, 1, 2, 2, 1};
  case Kernel::ScaledMatmul:
    return {4, 4, 1, 3, 0};
  case Kernel::Fp8QuantizeScaled:
    return {2, 2, 2, 0, 1};
  case Kernel::Fp8ScaleUpdate:
    return {3, 3, 2, 2, 1};
  case Kernel::BatchedMatmul:
  case Kernel::Add:
  case Kernel::Sub:
  case Kernel::Mul:
  case Kernel::Div:
  case Kernel::ReluGrad:
  case Kernel::GeluGrad:
  case Kernel::GeluTanhGrad:
  case Kernel::SoftmaxGrad:
  case Kernel::LogSoftmaxGrad:
  case Kernel::Embedding:
  case Kernel::EmbeddingGrad:
  case Kernel::AdaptiveAvgPool2dGrad:
  case Kernel::AddInt:
  case Kernel::MulInt:
  case Kernel::EqualInt:
    return {2, 2, 1, 0, 0};
  default: // one operand, one result: unary maths, moves, reductions
    return {1, 1, 1, 0, 0};
  }
}

/// What a kernel reads at an operand or result: float values (f32, or a
/// reduced float type it runs on f32 copies of), i64, i1, or any type
/// (bytes moved as they are).
enum class Expect { Float, I64, I1, Any };

Expect expected(Kernel k, bool result, size_t i) {
  switch (k) {
  case Kernel::Copy:
  case Kernel::Slice:
  case Kernel::Concat:
    return Expect::Any;
  case Kernel::Select:
    return !result && i == 0 ? Expect::I1 : Expect::Any;
  case Kernel::Embedding:
  case Kernel::EmbeddingGrad:
  case Kernel::CrossEntropy:
  case Kernel::Dropout:
    return !result && i == 1 ? Expect::I64 : Expect::Float;
  case Kernel::CrossEntropyGrad:
    return !result && i == 2 ? Expect::I64 : Expect::Float;
  case Kernel::IntToFloat:
    return result ? Expect::Float : Expect::I64;
  case Kernel::BoolToFloat:
    return result ? Expect::Float : Expect::I1;
  case Kernel::MaskedFill:
    return !result && i == 1 ? Expect::I1 : Expect::Float;
  case Kernel::AddInt:
  case Kernel::MulInt:
    return Expect::I64;
  case Kernel::EqualInt:
    return result ? Expect::I1 : Expect::I64;
  case Kernel::AllFinite:
    return result ? Expect::I1 : Expect::Float;
  default:
    return Expect::Float;
  }
}

bool matches(Expect e, ElementType t) {
  switch (e) {
  case Expect::Float:
    return t == ElementType::F32 || isReducedFloat(t);
  case Expect::I64:
    return t == ElementType::I64;
  case Expect::I1:
    return t == ElementType::I1;
  case Expect::Any:
    return true;
  }
  return false;
}

const char *describe(Expect e) {
  switch (e) {
  case Expect::Float:
    return "a float type";
  case Expect::I64:
    return "i64";
  case Expect::I1:
    return "i1";
  case Expect::Any:
    return "any type";
  }
  return "";
}

using Shape = std::vector<int64_t>;

/// a * b, or -1 (no size) when it overflows: hostile shapes and ints must
/// not overflow the check itself.
int64_t product(int64_t a, int64_t b) {
  int64_t result;
  return llvm::MulOverflow(a, b, result) ? -1 : result;
}

/// The largest window, stride, padding, dilation or slice step accepted:
/// far beyond any real model's, small enough that the kernels' index
/// arithmetic cannot overflow.
constexpr int64_t kMaxGeometry = int64_t(1) << 31;

/// How many rows start, start + step, ... below end takes (0 <= start <=
/// end, step >= 1), without overflow.
int64_t taken(int64_t start, int64_t end, int64_t step) {
  return end == start ? 0 : (end - start - 1) / step + 1;
}

/// Whether `s` broadcasts to `out` numpy-style (right-aligned dimensions
/// equal or 1).
bool broadcastsTo(const Shape &s, const Shape &out) {
  if (s.size() > out.size())
    return false;
  for (size_t d = 0; d < s.size(); ++d) {
    int64_t dim = s[s.size() - 1 - d], o = out[out.size() - 1 - d];
    if (dim != 1 && dim != o)
      return false;
  }
  return true;
}

std::string str(const Shape &s) {
  std::string text = "[";
  for (size_t d = 0; d < s.size(); ++d)
    text += (d ? "x" : "") + std::to_string(s[d]);
  return text + "]";
}

/// The checks of one instruction; each returns the first fault.
class Checker {
public:
  Checker(const Program &program, const Instruction &in,
          const std::string &where)
      : p(program), in(in), where(where) {}

  llvm::Error check() {
    if (llvm::Error e = checkCounts())
      return e;
    if (llvm::Error e = checkTypes())
      return e;
    return checkShapes();
  }

private:
  const BufferDesc &op(size_t i) const { return p.buffers[in.operands[i]]; }
  const BufferDesc &res(size_t i) const { return p.buffers[in.results[i]]; }
  int64_t size(const BufferDesc &b) const { return b.numElements(); }

  llvm::Error fail(const llvm::Twine &why) const {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "invalid program: " + where + " " + why);
  }

  llvm::Error checkCounts() const {
    Counts c = countsOf(in.kernel);
    int operands = static_cast<int>(in.operands.size());
    int results = static_cast<int>(in.results.size());
    if (operands < c.minOperands ||
        (c.maxOperands >= 0 && operands > c.maxOperands)) {
      std::string takes = std::to_string(c.minOperands);
      if (c.maxOperands < 0)
        takes += " or more";
      else if (c.maxOperands != c.minOperands)
        takes += " to " + std::to_string(c.maxOperands);
      return fail("has " + llvm::Twine(operands) +
                  " operands; its kernel takes " + takes);
    }
    if (results < 1 || (c.results >= 0 && results != c.results))
      return fail("has " + llvm::Twine(results) +
                  " results; its kernel makes " +
                  llvm::Twine(c.results >= 0 ? c.results : 1) +
                  (c.results >= 0 ? "" : " or more"));
    if (static_cast<int>(in.ints.size()) < c.ints ||
        static_cast<int>(in.floats.size()) < c.floats)
      return fail("carries " + llvm::Twine(in.ints.size()) + " ints and " +
                  llvm::Twine(in.floats.size()) + " floats; its kernel reads " +
                  llvm::Twine(c.ints) + " and " + llvm::Twine(c.floats));
    return llvm::Error::success();
  }

  llvm::Error checkTypes() const {
    for (bool result : {false, true}) {
      const std::vector<int> &list = result ? in.results : in.operands;
      for (size_t i = 0; i < list.size(); ++i) {
        Expect e = expected(in.kernel, result, i);
        ElementType t = p.buffers[list[i]].type;
        if (!matches(e, t))
          return fail(llvm::Twine(result ? "result " : "operand ") +
                      llvm::Twine(i) + " is " + elementTypeName(t) +
                      "; its kernel reads " + describe(e));
      }
    }
    return llvm::Error::success();
  }

  /// Every operand in `operands` has as many elements as result 0.
  llvm::Error sameSize(std::initializer_list<size_t> operands) const {
    for (size_t i : operands)
      if (size(op(i)) != size(res(0)))
        return fail("operand " + llvm::Twine(i) + " has " +
                    llvm::Twine(size(op(i))) + " elements for a result of " +
                    llvm::Twine(size(res(0))));
    return llvm::Error::success();
  }

  llvm::Error rank(const BufferDesc &b, size_t lowest, const char *what) const {
    if (b.shape.size() < lowest)
      return fail(llvm::Twine(what) + " has rank " +
                  llvm::Twine(b.shape.size()) + "; its kernel reads " +
                  llvm::Twine(lowest) + " dimensions or more");
    return llvm::Error::success();
  }

  llvm::Error want(bool ok, const llvm::Twine &why) const {
    return ok ? llvm::Error::success() : fail(why);
  }

  /// A slice's dimension, bounds and step over a dimension of `extent`.
  llvm::Error sliceRange(int64_t extent, size_t rankOf) const {
    int64_t dim = in.ints[0], start = in.ints[1], end = in.ints[2],
            step = in.ints[3];
    if (dim < 0 || static_cast<size_t>(dim) >= rankOf)
      return fail("slices dimension " + llvm::Twine(dim) + " of a rank-" +
                  llvm::Twine(rankOf) + " tensor");
    return want(0 <= start && start <= end && end <= extent && step >= 1 &&
                    step <= kMaxGeometry,
                "slices " + llvm::Twine(start) + ":" + llvm::Twine(end) + ":" +
                    llvm::Twine(step) + " of a dimension of " +
                    llvm::Twine(extent));
  }

  /// `whole` and `part` agree but for dimension `dim`, where part has
  /// `rows`.
  llvm::Error sameBut(const Shape &whole, const Shape &part, int64_t dim,
                      int64_t rows, const char *what) const {
    Shape expected = whole;
    expected[dim] = rows;
    return want(part == expected, llvm::Twine(what) + " is " + str(part) +
                                      ", not " + str(expected));
  }

  llvm::Error checkShapes() const;
  llvm::Error checkProduct() const;
  llvm::Error checkConvolution() const;
  llvm::Error checkFp8() const;

  const Program &p;
  const Instruction &in;
  const std::string &where;
};

llvm::Error Checker::checkProduct() const {
  if (in.kernel == Kernel::Linear) { // x [.., K], w [N, K], b [N] -> [.., N]
    const Shape &w = op(1).shape;
    if (w.size() != 2 || w[0] < 1)
      return fail("has weight " + str(w) + "; it must be [N, K], N >= 1");
    const Shape &x = op(0).shape, &out = res(0).shape;
    int64_t rows = 1; // x's leading dimensions
    for (size_t d = 0; d + 1 < x.size(); ++d)
      rows = product(rows, x[d]);
    if (out.empty() || out.back() != w[0] || x.empty() || x.back() != w[1] ||
        product(rows, w[0]) != size(res(0)))
      return fail("multiplies " + str(x) + " by weight " + str(w) + " into " +
                  str(out));
    if (in.operands.size() > 2 && size(op(2)) != w[0])
      return fail("has a bias of " + llvm::Twine(size(op(2))) +
                  " elements for " + llvm::Twine(w[0]) + " outputs");
    return llvm::Error::success();
  }
  // BatchedMatmul: [.., m, k] x [.., k, n] -> [batch.., m, n], either
  // operand stored transposed (ints: two flags, or none).
  if (!in.ints.empty() && in.ints.size() != 2)
    return fail("carries " + llvm::Twine(in.ints.size()) +
                " ints; its kernel reads two transpose flags or none");
  bool ta = !in.ints.empty() && in.ints[0], tb = !in.ints.empty() && in.ints[1];
  const Shape &a = op(0).shape, &b = op(1).shape, &out = res(0).shape;
  if (a.size() < 2 || b.size() < 2 ||
      out.size() != std::max(a.size(), b.size()))
    return fail("multiplies " + str(a) + " by " + str(b) + " into " + str(out));
  int64_t m = ta ? a.back() : a[a.size() - 2],
          k = ta ? a[a.size() - 2] : a.back();
  int64_t kb = tb ? b.back() : b[b.size() - 2],
          n = tb ? b[b.size() - 2] : b.back();
  Shape batch(out.begin(), out.end() - 2);
  if (k != kb || out[out.size() - 2] != m || out.back() != n ||
      !broadcastsTo(Shape(a.begin(), a.end() - 2), batch) ||
      !broadcastsTo(Shape(b.begin(), b.end() - 2), batch))
    return fail("multiplies " + str(a) + (ta ? "^T" : "") + " by " + str(b) +
                (tb ? "^T" : "") + " into " + str(out));
  return llvm::Error::success();
}

llvm::Error Checker::checkConvolution() const {
  // As the executor's convGeometry: which buffers are input, weight and
  // output depends on the direction.
  const BufferDesc *input, *weight, *output;
  switch (in.kernel) {
  case Kernel::Conv2d:
    input = &op(0), weight = &op(1), output = &res(0);
    break;
  case Kernel::Conv2dGradInput:
    output = &op(0), weight = &op(1), input = &res(0);
    break;
  default:
    output = &op(0), input = &op(1), weight = &res(0);
    break;
  }
  const Shape &x = input->shape, &w = weight->shape, &y = output->shape;
  if ((x.size() != 3 && x.size() != 4) || y.size() != x.size() || w.size() != 4)
    return fail("convolves " + str(x) + " with " + str(w) + " into " + str(y));
  size_t c = x.size() == 4 ? 1 : 0;
  int64_t groups = in.ints[6];
  bool positive = in.ints[0] >= 1 && in.ints[1] >= 1 && in.ints[2] >= 0 &&
                  in.ints[3] >= 0 && in.ints[4] >= 1 && in.ints[5] >= 1;
  for (int i = 0; i < 6; ++i)
    positive = positive && in.ints[i] <= kMaxGeometry;
  if (!positive || groups < 1)
    return fail("has strides and dilations below 1, negative padding or no "
                "groups, or one above 2^31");
  if (product(w[1], groups) != x[c] || w[0] % groups || y[c] != w[0] ||
      (c == 1 && y[0] != x[0]))
    return fail("convolves " + str(x) + " with " + str(w) + " in " +
                llvm::Twine(groups) + " groups into " + str(y));
  return want(in.kernel != Kernel::Conv2d || in.operands.size() < 3 ||
                  size(op(2)) == w[0],
              "has a bias of " + llvm::Twine(size(op(in.operands.size() - 1))) +
                  " elements for " + llvm::Twine(w[0]) + " channels");
}

llvm::Error Checker::checkFp8() const {
  // Elements sharing a scale: the whole matrix, a row, a block of 32.
  auto scaleCount = [&](int64_t grouping, const Shape &m,
                        int64_t &count) -> llvm::Error {
    if (grouping < 0 || grouping > 2)
      return fail("has scaling " + llvm::Twine(grouping) +
                  " (0 tensorwise, 1 rowwise, 2 MX blocks)");
    if (grouping == 2 && m[1] % 32)
      return fail("scales blocks of 32 along rows of " + llvm::Twine(m[1]));
    count = grouping == 0 ? 1 : grouping == 1 ? m[0] : m[0] * (m[1] / 32);
    return llvm::Error::success();
  };
  switch (in.kernel) {
  case Kernel::Fp8Quantize: {
    const Shape &m = op(0).shape;
    if (m.size() != 2 || (m[0] > 0 && m[1] < 1))
      return fail("quantises " + str(m) +
                  "; it takes a matrix of rows of an "
                  "element or more");
    int64_t scales = 0;
    if (llvm::Error e = scaleCount(in.ints[0], op(0).shape, scales))
      return e;
    if (llvm::Error e = sameSize({0}))
      return e;
    return want(size(res(1)) == scales, "has " + llvm::Twine(size(res(1))) +
                                            " scales for " +
                                            llvm::Twine(scales) + " groups");
  }
  case Kernel::ScaledMatmul: { // lhs [M, K], scale, rhs [N, K], scale
    const Shape &a = op(0).shape, &b = op(2).shape;
    if (a.size() != 2 || b.size() != 2 || a[1] != b[1] ||
        size(res(0)) != product(a[0], b[0]))
      return fail("multiplies " + str(a) + " by " + str(b) + "^T into " +
                  str(res(0).shape));
    if (in.ints[2]) // delayed scaling: one scale each
      return want(size(op(1)) >= 1 && size(op(3)) >= 1, "has an empty scale");
    int64_t aScales = 0, bScales = 0;
    if (llvm::Error e = scaleCount(in.ints[0], a, aScales))
      return e;
    if (llvm::Error e = scaleCount(in.ints[1], b, bScales))
      return e;
    return want(size(op(1)) == aScales && size(op(3)) == bScales,
                "has " + llvm::Twine(size(op(1))) + " and " +
                    llvm::Twine(size(op(3))) + " scales for " +
                    llvm::Twine(aScales) + " and " + llvm::Twine(bScales) +
                    " groups");
  }
  case Kernel::Fp8QuantizeScaled: // x, scale -> data, amax
    if (llvm::Error e = sameSize({0}))
      return e;
    return want(size(op(1)) >= 1 && size(res(1)) >= 1,
                "has an empty scale or amax");
  default: // Fp8ScaleUpdate: history, scale, amax -> history, scale
    if (llvm::Error e = sameSize({0}))
      return e;
    if (in.ints[0] != 0 && in.ints[0] != 1)
      return fail("has amax algorithm " + llvm::Twine(in.ints[0]) +
                  " (0 max, 1 most recent)");
    return want(size(op(0)) >= 1 && size(op(1)) >= 1 && size(op(2)) >= 1 &&
                    size(res(1)) >= 1,
                "has an empty history, scale or amax");
  }
}

llvm::Error Checker::checkShapes() const {
  const Shape &out = res(0).shape;
  switch (in.kernel) {
  case Kernel::Linear:
  case Kernel::BatchedMatmul:
    return checkProduct();
  case Kernel::Conv2d:
  case Kernel::Conv2dGradInput:
  case Kernel::Conv2dGradWeight:
    return checkConvolution();
  case Kernel::Fp8Quantize:
  case Kernel::ScaledMatmul:
  case Kernel::Fp8QuantizeScaled:
  case Kernel::Fp8ScaleUpdate:
    return checkFp8();
  case Kernel::Permute: {
    const Shape &s = op(0).shape;
    std::vector<int64_t> sorted = in.ints;
    llvm::sort(sorted);
    bool permutation = out.size() == s.size() && in.ints.size() == s.size();
    for (size_t d = 0; permutation && d < s.size(); ++d)
      permutation = sorted[d] == static_cast<int64_t>(d);
    for (size_t d = 0; permutation && d < s.size(); ++d)
      permutation = out[d] == s[in.ints[d]];
    return want(permutation,
                "does not permute " + str(s) + " into " + str(out));
  }
  case Kernel::Copy:
    return want(op(0).bytes() >= res(0).bytes(),
                "copies " + llvm::Twine(res(0).bytes()) + " bytes from a " +
                    llvm::Twine(op(0).bytes()) + "-byte buffer");
  case Kernel::Select:
    return want(size(op(0)) >= 1 && op(1).bytes() >= res(0).bytes() &&
                    op(2).bytes() >= res(0).bytes(),
                "chooses between buffers smaller than its result, or has no "
                "flag");
  case Kernel::BroadcastTo:
    return want(broadcastsTo(op(0).shape, out),
                "broadcasts " + str(op(0).shape) + " to " + str(out));
  case Kernel::Slice: {
    const Shape &s = op(0).shape;
    if (llvm::Error e = sliceRange(
            in.ints[0] >= 0 && static_cast<size_t>(in.ints[0]) < s.size()
                ? s[in.ints[0]]
                : 0,
            s.size()))
      return e;
    if (op(0).type != res(0).type || out.size() != s.size())
      return fail("slices " + str(s) + " into " + str(out) +
                  " of another type or rank");
    return sameBut(s, out, in.ints[0],
                   taken(in.ints[1], in.ints[2], in.ints[3]), "its result");
  }
  case Kernel::SliceGrad: {
    const Shape &g = op(0).shape;
    if (llvm::Error e = sliceRange(
            in.ints[0] >= 0 && static_cast<size_t>(in.ints[0]) < out.size()
                ? out[in.ints[0]]
                : 0,
            out.size()))
      return e;
    if (g.size() != out.size())
      return fail("scatters " + str(g) + " into " + str(out));
    return sameBut(out, g, in.ints[0],
                   taken(in.ints[1], in.ints[2], in.ints[3]), "its gradient");
  }
  case Kernel::Concat: {
    int64_t dim = in.ints[0], rows = 0;
    if (dim < 0 || static_cast<size_t>(dim) >= out.size())
      return fail("joins along dimension " + llvm::Twine(dim) + " of " +
                  str(out));
    for (size_t i = 0; i < in.operands.size(); ++i) {
      const Shape &s = op(i).shape;
      if (op(i).type != res(0).type || s.size() != out.size())
        return fail("joins part " + llvm::Twine(i) + " " + str(s) + " into " +
                    str(out) + ", of another type or rank");
      if (llvm::Error e = sameBut(out, s, dim, s[dim], "a part"))
        return e;
      if (llvm::AddOverflow(rows, s[dim], rows))
        return fail("joins more rows than 64 bits count");
    }
    return want(rows == out[dim], "joins " + llvm::Twine(rows) + " rows into " +
                                      llvm::Twine(out[dim]));
  }
  case Kernel::Add:
  case Kernel::Sub:
  case Kernel::Mul:
  case Kernel::Div:
  case Kernel::MaskedFill:
    return want(broadcastsTo(op(0).shape, out) &&
                    broadcastsTo(op(1).shape, out),
                "combines " + str(op(0).shape) + " and " + str(op(1).shape) +
                    " into " + str(out));
  case Kernel::ReluGrad:
  case Kernel::GeluGrad:
  case Kernel::GeluTanhGrad:
  case Kernel::ClampGrad:
  case Kernel::AddInt:
  case Kernel::MulInt:
  case Kernel::EqualInt:
    return sameSize({0, 1});
  case Kernel::Sum:
  case Kernel::Mean: {
    const Shape &s = op(0).shape;
    std::vector<bool> reduced(s.size(), false);
    for (int64_t d : in.ints) {
      if (d < 0 || static_cast<size_t>(d) >= s.size() || reduced[d])
        return fail("reduces dimension " + llvm::Twine(d) + " of " + str(s) +
                    " (out of range, or twice)");
      reduced[d] = true;
    }
    int64_t kept = 1;
    for (size_t d = 0; d < s.size(); ++d)
      if (!reduced[d])
        kept = product(kept, s[d]);
    return want(kept == size(res(0)), "reduces " + str(s) + " into " +
                                          llvm::Twine(size(res(0))) +
                                          " elements");
  }
  case Kernel::Softmax:
  case Kernel::LogSoftmax:
  case Kernel::SoftmaxGrad:
  case Kernel::LogSoftmaxGrad: {
    bool grad =
        in.kernel == Kernel::SoftmaxGrad || in.kernel == Kernel::LogSoftmaxGrad;
    if (op(0).shape.empty() || op(0).shape.back() < 1)
      return fail("normalises rows of " + str(op(0).shape) +
                  "; rows must have an element");
    return grad ? sameSize({0, 1}) : sameSize({0});
  }
  case Kernel::CrossEntropy:
  case Kernel::CrossEntropyGrad: {
    bool grad = in.kernel == Kernel::CrossEntropyGrad;
    const Shape &logits = op(grad ? 1 : 0).shape;
    int64_t reduction = in.ints[0];
    if (reduction < 0 || reduction > 2)
      return fail("has reduction " + llvm::Twine(reduction) +
                  " (0 none, 1 mean, 2 sum)");
    if (logits.size() != 2 || size(op(grad ? 2 : 1)) != logits[0])
      return fail("takes logits " + str(logits) + " with " +
                  llvm::Twine(size(op(grad ? 2 : 1))) + " targets");
    int64_t perSample = reduction == 0 ? logits[0] : 1;
    if (!grad)
      return want(size(res(0)) == perSample,
                  "has a loss of " + llvm::Twine(size(res(0))) + " elements");
    if (size(op(0)) < perSample)
      return fail("has a loss gradient of " + llvm::Twine(size(op(0))) +
                  " elements");
    return sameSize({1});
  }
  case Kernel::MseLoss: {
    if (in.ints[0] < 0 || in.ints[0] > 2)
      return fail("has reduction " + llvm::Twine(in.ints[0]) +
                  " (0 none, 1 mean, 2 sum)");
    if (size(op(0)) != size(op(1)))
      return fail("compares " + llvm::Twine(size(op(0))) + " elements with " +
                  llvm::Twine(size(op(1))));
    return want(size(res(0)) == (in.ints[0] == 0 ? size(op(0)) : 1),
                "has a loss of " + llvm::Twine(size(res(0))) + " elements");
  }
  case Kernel::LayerNorm:
  case Kernel::LayerNormGrad: { // ints: has weight, has bias, row size
    bool grad = in.kernel == Kernel::LayerNormGrad;
    int64_t weight = in.ints[0], bias = in.ints[1], cols = in.ints[2];
    if ((weight != 0 && weight != 1) || (bias != 0 && bias != 1) || cols < 1)
      return fail("has flags " + llvm::Twine(weight) + ", " +
                  llvm::Twine(bias) + " and rows of " + llvm::Twine(cols));
    size_t first = grad ? 2 : 1; // the weight's operand
    size_t least = first + weight, most = first + weight + bias;
    if (in.operands.size() < least || in.operands.size() > most ||
        (!grad && in.operands.size() != most))
      return fail("has " + llvm::Twine(in.operands.size()) +
                  " operands for its weight and bias flags");
    if (llvm::Error e = grad ? sameSize({0, 1}) : sameSize({0}))
      return e;
    if (size(res(0)) % cols)
      return fail("normalises " + llvm::Twine(size(res(0))) +
                  " elements in rows of " + llvm::Twine(cols));
    for (size_t i = first; i < in.operands.size(); ++i)
      if (size(op(i)) != cols)
        return fail("has a weight or bias of " + llvm::Twine(size(op(i))) +
                    " elements for rows of " + llvm::Twine(cols));
    for (size_t r = 1; r < in.results.size(); ++r)
      if (size(res(r)) != cols)
        return fail("has a parameter gradient of " + llvm::Twine(size(res(r))) +
                    " elements for rows of " + llvm::Twine(cols));
    return llvm::Error::success();
  }
  case Kernel::Embedding: { // table [rows, dim], indices -> [.., dim]
    const Shape &table = op(0).shape;
    return want(table.size() == 2 && table[1] >= 1 &&
                    size(res(0)) == product(size(op(1)), table[1]),
                "looks up " + llvm::Twine(size(op(1))) + " rows of " +
                    str(table) + " into " + str(out));
  }
  case Kernel::EmbeddingGrad: // grad [.., dim], indices -> [rows, dim]
    return want(out.size() == 2 && size(op(0)) == product(size(op(1)), out[1]),
                "scatters " + str(op(0).shape) + " by " +
                    llvm::Twine(size(op(1))) + " indices into " + str(out));
  case Kernel::Dropout:
    if (in.ints[2] != 2 && (in.operands.size() != 2 || size(op(1)) < 1))
      return fail("draws a mask without a seed");
    return sameSize({0});
  case Kernel::MaxPool2d:
  case Kernel::AvgPool2d:
  case Kernel::AdaptiveAvgPool2d:
  case Kernel::MaxPool2dGrad:
  case Kernel::AvgPool2dGrad:
  case Kernel::AdaptiveAvgPool2dGrad: {
    // The input's and the pooled shapes (operands: grad, input for the
    // gradients, whose result is the input's).
    bool grad = in.operands.size() == 2;
    const Shape &x = op(grad ? 1 : 0).shape, &y = grad ? op(0).shape : out;
    if (x.size() < 2 || y.size() != x.size() ||
        !std::equal(x.begin(), x.end() - 2, y.begin()) ||
        (grad && size(res(0)) != size(op(1))))
      return fail("pools " + str(x) + " into " + str(y));
    const std::vector<int64_t> &g = in.ints;
    bool valid = g.empty() || (g.size() >= 9 && g[0] >= 1 && g[1] >= 1 &&
                               g[2] >= 1 && g[3] >= 1 && g[4] >= 0 &&
                               g[5] >= 0 && g[6] >= 1 && g[7] >= 1);
    for (size_t i = 0; valid && i < std::min<size_t>(g.size(), 8); ++i)
      valid = g[i] <= kMaxGeometry;
    return want(valid, "has windows, strides or dilations below 1, negative "
                       "padding, or one above 2^31");
  }
  case Kernel::BatchNorm:
  case Kernel::BatchNormGrad: { // input [N, C, ..]
    bool grad = in.kernel == Kernel::BatchNormGrad;
    const Shape &x = op(grad ? 1 : 0).shape;
    if (x.size() < 2)
      return fail("normalises " + str(x) + "; it takes [N, C, ...]");
    if (llvm::Error e = grad ? sameSize({0, 1}) : sameSize({0}))
      return e;
    for (size_t i = grad ? 2 : 1; i < 5; ++i)
      if (size(op(i)) != x[1])
        return fail("has operand " + llvm::Twine(i) + " of " +
                    llvm::Twine(size(op(i))) + " elements for " +
                    llvm::Twine(x[1]) + " channels");
    return want(size(res(1)) == x[1] && size(res(2)) == x[1],
                "has per-channel results of other sizes than its " +
                    llvm::Twine(x[1]) + " channels");
  }
  case Kernel::Fused: // operands of the result's size, or one element
    if (in.operands.size() > static_cast<size_t>(kFusedMaxRegisters) ||
        in.results.size() > static_cast<size_t>(kFusedMaxRegisters))
      return fail("has more than " + llvm::Twine(kFusedMaxRegisters) +
                  " operands or results");
    for (size_t i = 0; i < in.operands.size(); ++i)
      if (size(op(i)) != size(res(0)) && size(op(i)) != 1)
        return fail("has operand " + llvm::Twine(i) + " of " +
                    llvm::Twine(size(op(i))) + " elements for results of " +
                    llvm::Twine(size(res(0))));
    for (size_t r = 1; r < in.results.size(); ++r)
      if (size(res(r)) != size(res(0)))
        return fail("has results of different sizes");
    return llvm::Error::success();
  case Kernel::AllFinite:
    return want(size(res(0)) >= 1, "has no flag to write");
  default: // one operand mapped element by element
    return sameSize({0});
  }
}

} // namespace

llvm::Error checkInstruction(const Program &program, const Instruction &in,
                             const std::string &where) {
  return Checker(program, in, where).check();
}

} // namespace accel::rt
