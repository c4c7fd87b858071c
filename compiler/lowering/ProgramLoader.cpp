//===- ProgramLoader.cpp - compiled step to runtime program ---------------===//

#include "compiler/lowering/ProgramLoader.h"

#include "compiler/lowering/CpuKernelOps.h"

#include "compiler/support/Nesting.h"
#include "compiler/transforms/Passes.h"
#include "compiler/transforms/StepContract.h"
#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/Extensions/AllExtensions.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "runtime/executor/FusedKernel.h"
#include "runtime/executor/ProgramCheck.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SourceMgr.h"

#include <map>

using namespace mlir;
using accel::rt::BufferDesc;
using accel::rt::Kernel;

namespace accel::lowering {
namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::optional<rt::ElementType> elementType(Type type) {
  if (type.isF32())
    return rt::ElementType::F32;
  if (type.isInteger(64))
    return rt::ElementType::I64;
  if (type.isInteger(1))
    return rt::ElementType::I1;
  if (type.isBF16())
    return rt::ElementType::BF16;
  if (type.isF16())
    return rt::ElementType::F16;
  if (isa<Float8E4M3FNType>(type))
    return rt::ElementType::F8E4M3FN;
  if (isa<Float8E5M2Type>(type))
    return rt::ElementType::F8E5M2;
  if (isa<Float8E8M0FNUType>(type))
    return rt::ElementType::F8E8M0FNU;
  return std::nullopt;
}

/// The largest finite value of the float type `t` (448 for f8E4M3FN).
double largestOf(Type t) {
  return llvm::APFloat::getLargest(cast<FloatType>(t).getFloatSemantics())
      .convertToDouble();
}

std::vector<int64_t> shapeOf(Value v) {
  auto t = cast<RankedTensorType>(v.getType());
  return std::vector<int64_t>(t.getShape().begin(), t.getShape().end());
}

class Builder {
public:
  explicit Builder(rt::Program &program) : program(program) {}

  int add(BufferDesc desc) {
    program.buffers.push_back(std::move(desc));
    return static_cast<int>(program.buffers.size()) - 1;
  }

  LogicalResult argument(func::FuncOp f, unsigned i) {
    Value arg = f.getArgument(i);
    auto type = cast<RankedTensorType>(arg.getType());
    std::optional<rt::ElementType> et = elementType(type.getElementType());
    if (!et)
      return emitError(arg.getLoc()) << "argument type " << type
                                     << " is not supported by the CPU driver";
    static const std::pair<llvm::StringLiteral, BufferDesc::Role> roles[] = {
        {AccelDialect::kParamAttrName, BufferDesc::Role::Param},
        {AccelDialect::kBufferAttrName, BufferDesc::Role::Buffer},
        {AccelDialect::kOptStateAttrName, BufferDesc::Role::OptState},
        {AccelDialect::kInputAttrName, BufferDesc::Role::Input},
        {AccelDialect::kSeedAttrName, BufferDesc::Role::Seed},
        {AccelDialect::kStepAttrName, BufferDesc::Role::Step},
        {AccelDialect::kLrAttrName, BufferDesc::Role::Lr},
        {AccelDialect::kLossScaleAttrName, BufferDesc::Role::LossScale},
        {AccelDialect::kFp8StateAttrName, BufferDesc::Role::Fp8State}};
    for (auto [attr, role] : roles)
      if (auto name = f.getArgAttrOfType<StringAttr>(i, attr)) {
        BufferDesc desc{role, name.str(), *et, shapeOf(arg)};
        if (auto init = f.getArgAttrOfType<FloatAttr>(i, AccelDialect::kInitAttrName))
          desc.init = static_cast<float>(init.getValueAsDouble());
        if (auto whole = f.getArgAttrOfType<DenseI64ArrayAttr>(
                i, AccelDialect::kShardOfAttrName))
          desc.shardOf.assign(whole.asArrayRef().begin(),
                              whole.asArrayRef().end());
        ids[arg] = add(std::move(desc));
        return success();
      }
    return emitError(arg.getLoc()) << "argument #" << i << " has no role";
  }

  LogicalResult constant(arith::ConstantOp op) {
    auto attr = dyn_cast<DenseElementsAttr>(op.getValue());
    std::optional<rt::ElementType> et =
        attr ? elementType(attr.getElementType()) : std::nullopt;
    if (!et)
      return op.emitOpError(
          "is not a dense f32, bf16, f16, f8E4M3FN, f8E5M2, i64 or i1 tensor "
          "constant");
    BufferDesc desc{BufferDesc::Role::Constant, "", *et, shapeOf(op)};
    size_t count = desc.numElements();
    desc.constant.resize(count * rt::elementBytes(*et));
    if (*et == rt::ElementType::F32) {
      auto *p = reinterpret_cast<float *>(desc.constant.data());
      size_t i = 0;
      for (const APFloat &v : attr.getValues<APFloat>())
        p[i++] = v.convertToFloat();
    } else if (*et == rt::ElementType::BF16 || *et == rt::ElementType::F16) {
      // The attribute holds the 16-bit value exactly: store its bits.
      auto *p = reinterpret_cast<uint16_t *>(desc.constant.data());
      size_t i = 0;
      for (const APFloat &v : attr.getValues<APFloat>())
        p[i++] = static_cast<uint16_t>(v.bitcastToAPInt().getZExtValue());
    } else if (*et == rt::ElementType::F8E4M3FN || *et == rt::ElementType::F8E5M2) {
      size_t i = 0;
      for (const APFloat &v : attr.getValues<APFloat>())
        desc.constant[i++] = static_cast<uint8_t>(v.bitcastToAPInt().getZExtValue());
    } else if (*et == rt::ElementType::I64) {
      auto *p = reinterpret_cast<int64_t *>(desc.constant.data());
      size_t i = 0;
      for (int64_t v : attr.getValues<int64_t>())
        p[i++] = v;
    } else {
      size_t i = 0;
      for (bool v : attr.getValues<bool>())
        desc.constant[i++] = v;
    }
    ids[op.getResult()] = add(std::move(desc));
    return success();
  }

  /// Results live in the arena at the planned offsets.
  LogicalResult results(Operation *op) {
    auto offsets = op->getAttrOfType<DenseI64ArrayAttr>("accel.arena_offsets");
    if (!offsets || offsets.size() != static_cast<int64_t>(op->getNumResults()))
      return op->emitOpError("has no planned arena offsets");
    for (auto [r, off] : llvm::zip(op->getResults(), offsets.asArrayRef())) {
      if (off < 0)
        return op->emitOpError() << "has a negative arena offset " << off;
      std::optional<rt::ElementType> et =
          elementType(cast<RankedTensorType>(r.getType()).getElementType());
      if (!et)
        return op->emitOpError() << "result type " << r.getType()
                                 << " is not supported by the CPU driver";
      ids[r] = add({BufferDesc::Role::Arena, "", *et, shapeOf(r),
                    static_cast<uint64_t>(off)});
    }
    return success();
  }

  void emit(Kernel k, Operation *op, std::vector<int64_t> ints = {},
            std::vector<double> floats = {}) {
    rt::Instruction in{k, {}, {}, std::move(ints), std::move(floats)};
    for (Value v : op->getOperands())
      in.operands.push_back(ids.at(v));
    for (Value v : op->getResults())
      in.results.push_back(ids.at(v));
    program.code.push_back(std::move(in));
  }

  int id(Value v) const { return ids.at(v); }

  /// `v` reads `source`'s buffer (a transpose a product absorbs).
  void alias(Value v, Value source) { ids[v] = ids.at(source); }

  /// `v` is `source`'s bytes under its own shape (a planned reshape).
  void view(Value v, Value source) {
    int root = ids.at(source);
    if (program.buffers[root].role == BufferDesc::Role::View)
      root = program.buffers[root].viewOf;
    std::optional<rt::ElementType> et =
        elementType(cast<RankedTensorType>(v.getType()).getElementType());
    BufferDesc desc{BufferDesc::Role::View, "", *et, shapeOf(v)};
    desc.viewOf = root;
    ids[v] = add(std::move(desc));
  }

private:
  rt::Program &program;
  llvm::DenseMap<Value, int> ids;
};

int64_t reductionCode(Reduction r) {
  // cpu::LossReduction: None, Mean, Sum.
  return r == Reduction::None ? 0 : r == Reduction::Mean ? 1 : 2;
}

/// The kernel of one op, or nullopt when the CPU driver has none yet.
std::optional<std::pair<Kernel, std::pair<std::vector<int64_t>, std::vector<double>>>>
kernelFor(Operation *op) {
  using R = std::optional<
      std::pair<Kernel, std::pair<std::vector<int64_t>, std::vector<double>>>>;
  auto k = [](Kernel kind, std::vector<int64_t> ints = {},
              std::vector<double> floats = {}) -> R {
    return R{{kind, {std::move(ints), std::move(floats)}}};
  };
  return llvm::TypeSwitch<Operation *, R>(op)
      .Case([&](LinearOp) { return k(Kernel::Linear); })
      .Case([&](MatmulOp) { return k(Kernel::BatchedMatmul); })
      .Case([&](TransposeOp t) {
        std::vector<int64_t> perm(shapeOf(t.getInput()).size());
        for (size_t i = 0; i < perm.size(); ++i)
          perm[i] = i;
        std::swap(perm[t.getDim0()], perm[t.getDim1()]);
        return k(Kernel::Permute, perm);
      })
      .Case([&](PermuteOp p) {
        return k(Kernel::Permute, std::vector<int64_t>(p.getPermutation().begin(),
                                                       p.getPermutation().end()));
      })
      .Case<ReshapeOp, FlattenOp>([&](Operation *) { return k(Kernel::Copy); })
      .Case([&](SliceOp sl) -> R {
        return k(Kernel::Slice, {static_cast<int64_t>(sl.getDim()),
                                 static_cast<int64_t>(sl.getStart()),
                                 static_cast<int64_t>(sl.getEnd()),
                                 static_cast<int64_t>(sl.getStep())});
      })
      .Case([&](SliceGradOp sl) -> R {
        return k(Kernel::SliceGrad, {static_cast<int64_t>(sl.getDim()),
                                     static_cast<int64_t>(sl.getStart()),
                                     static_cast<int64_t>(sl.getEnd()),
                                     static_cast<int64_t>(sl.getStep())});
      })
      .Case([&](ConcatOp c) {
        return k(Kernel::Concat, {static_cast<int64_t>(c.getDim())});
      })
      .Case([&](MseLossOp m) {
        return k(Kernel::MseLoss, {reductionCode(m.getReduction())});
      })
      .Case([&](BroadcastToOp b) -> R {
        // The kernel repeats floats; an expanded integer or boolean tensor
        // (the importer makes them from expand) has no kernel yet.
        if (!isa<FloatType>(b.getType().getElementType()))
          return std::nullopt;
        return k(Kernel::BroadcastTo);
      })
      .Case([&](AddOp) { return k(Kernel::Add); })
      .Case([&](SubOp) { return k(Kernel::Sub); })
      .Case([&](MulOp) { return k(Kernel::Mul); })
      .Case([&](DivOp) { return k(Kernel::Div); })
      .Case([&](ReluOp) { return k(Kernel::Relu); })
      .Case([&](TanhOp) { return k(Kernel::Tanh); })
      .Case([&](SigmoidOp) { return k(Kernel::Sigmoid); })
      .Case([&](ExpOp) { return k(Kernel::Exp); })
      .Case([&](LogOp) { return k(Kernel::Log); })
      .Case([&](SqrtOp) { return k(Kernel::Sqrt); })
      .Case([&](RsqrtOp) { return k(Kernel::Rsqrt); })
      .Case([&](NegOp) { return k(Kernel::Neg); })
      .Case([&](GeluOp g) {
        return k(g.getApproximate() == GeluApproximation::Tanh ? Kernel::GeluTanh
                                                               : Kernel::Gelu);
      })
      .Case([&](ReluGradOp) { return k(Kernel::ReluGrad); })
      .Case([&](ClampOp c) {
        return k(Kernel::Clamp, {},
                 {c.getMin().convertToDouble(), c.getMax().convertToDouble()});
      })
      .Case([&](ClampGradOp c) {
        return k(Kernel::ClampGrad, {},
                 {c.getMin().convertToDouble(), c.getMax().convertToDouble()});
      })
      .Case([&](GeluGradOp g) {
        return k(g.getApproximate() == GeluApproximation::Tanh
                     ? Kernel::GeluTanhGrad
                     : Kernel::GeluGrad);
      })
      .Case([&](CastOp c) -> R {
        Type from = c.getInput().getType().getElementType();
        Type to = c.getType().getElementType();
        auto storedFloat = [](Type t) {
          std::optional<rt::ElementType> et = elementType(t);
          return et && *et != rt::ElementType::I64 && *et != rt::ElementType::I1;
        };
        if (!storedFloat(to))
          return std::nullopt;
        if (storedFloat(from))
          return k(from == to ? Kernel::Copy : Kernel::Cast);
        if (!to.isF32())
          return std::nullopt;
        if (from.isInteger(64))
          return k(Kernel::IntToFloat);
        if (from.isInteger(1))
          return k(Kernel::BoolToFloat);
        return std::nullopt;
      })
      .Case([&](SelectOp) { return k(Kernel::Select); })
      .Case([&](AllFiniteOp) { return k(Kernel::AllFinite); })
      .Case([&](AllReduceOp r) {
        return k(Kernel::AllReduce,
                 {r.getKind() == ReduceKind::Mean ? 1 : 0,
                  static_cast<int64_t>(r.getBucket())});
      })
      .Case([&](ReduceScatterOp r) {
        return k(Kernel::ReduceScatter,
                 {r.getKind() == ReduceKind::Mean ? 1 : 0,
                  static_cast<int64_t>(r.getBucket())});
      })
      .Case([&](AllGatherOp g) {
        return k(Kernel::AllGather, {static_cast<int64_t>(g.getBucket())});
      })
      .Case([&](LocalShardOp s) {
        return k(Kernel::LocalShard, {static_cast<int64_t>(s.getRanks())});
      })
      .Case([&](WaitOp) { return k(Kernel::Wait); })
      .Case([&](Fp8QuantizeOp q) {
        // cpu::Fp8Grouping numbers the scalings as the dialect does.
        return k(Kernel::Fp8Quantize,
                 {static_cast<int64_t>(q.getScaling()),
                  q.getRoundScaleToPow2()},
                 {largestOf(q.getData().getType().getElementType())});
      })
      .Case([&](ScaledMatmulOp) { return k(Kernel::ScaledMatmul); })
      .Case([&](Fp8QuantizeScaledOp q) {
        return k(Kernel::Fp8QuantizeScaled, {},
                 {largestOf(q.getData().getType().getElementType())});
      })
      .Case([&](Fp8ScaleUpdateOp u) {
        // cpu::Fp8AmaxAlgo numbers the algorithms as the dialect does.
        return k(Kernel::Fp8ScaleUpdate,
                 {static_cast<int64_t>(u.getAmaxAlgo()),
                  static_cast<int64_t>(u.getMargin())},
                 {largestOf(u.getFormat())});
      })
      .Case([&](SumOp s) -> R {
        return k(Kernel::Sum,
                 std::vector<int64_t>(s.getDims().begin(), s.getDims().end()));
      })
      .Case([&](MeanOp s) -> R {
        return k(Kernel::Mean,
                 std::vector<int64_t>(s.getDims().begin(), s.getDims().end()));
      })
      .Case([&](SoftmaxOp s) -> R {
        if (static_cast<size_t>(s.getDim()) != shapeOf(s.getInput()).size() - 1)
          return std::nullopt;
        return k(Kernel::Softmax);
      })
      .Case([&](LogSoftmaxOp s) -> R {
        if (static_cast<size_t>(s.getDim()) != shapeOf(s.getInput()).size() - 1)
          return std::nullopt;
        return k(Kernel::LogSoftmax);
      })
      .Case([&](SoftmaxGradOp s) -> R {
        if (static_cast<size_t>(s.getDim()) != shapeOf(s.getOutput()).size() - 1)
          return std::nullopt;
        return k(Kernel::SoftmaxGrad);
      })
      .Case([&](LogSoftmaxGradOp s) -> R {
        if (static_cast<size_t>(s.getDim()) != shapeOf(s.getOutput()).size() - 1)
          return std::nullopt;
        return k(Kernel::LogSoftmaxGrad);
      })
      .Case([&](CrossEntropyOp c) {
        return k(Kernel::CrossEntropy,
                 {reductionCode(c.getReduction()),
                  static_cast<int64_t>(c.getIgnoreIndex())},
                 {c.getLabelSmoothing().convertToDouble()});
      })
      .Case([&](CrossEntropyGradOp c) {
        return k(Kernel::CrossEntropyGrad,
                 {reductionCode(c.getReduction()),
                  static_cast<int64_t>(c.getIgnoreIndex())},
                 {c.getLabelSmoothing().convertToDouble()});
      })
      .Case<LayerNormOp, LayerNormGradOp>([&](Operation *op) {
        // ints: has weight, has bias, elements normalised together.
        auto params = [](auto l) -> std::vector<int64_t> {
          return {l.getWeight() != nullptr, l.getBias() != nullptr,
                  mlir::ShapedType::getNumElements(l.getNormalizedShape())};
        };
        if (auto l = dyn_cast<LayerNormOp>(op))
          return k(Kernel::LayerNorm, params(l), {l.getEps().convertToDouble()});
        auto l = cast<LayerNormGradOp>(op);
        return k(Kernel::LayerNormGrad, params(l), {l.getEps().convertToDouble()});
      })
      .Case([&](EmbeddingOp) { return k(Kernel::Embedding); })
      .Case([&](EmbeddingGradOp) { return k(Kernel::EmbeddingGrad); })
      .Case([&](MaskedFillOp m) {
        return k(Kernel::MaskedFill, {}, {m.getValue().convertToDouble()});
      })
      .Case([&](DropoutOp d) {
        return k(Kernel::Dropout,
                 {static_cast<int64_t>(d.getStream()),
                  static_cast<int64_t>(d.getRankStride()),
                  d.getRescale() ? 0 : 1},
                 {d.getP().convertToDouble()});
      })
      .Case<Conv2dOp, Conv2dGradInputOp, Conv2dGradWeightOp>([&](Operation *c) {
        auto ints = [](auto conv) {
          std::vector<int64_t> v;
          for (ArrayRef<int64_t> pair :
               {conv.getStride(), conv.getPadding(), conv.getDilation()})
            v.insert(v.end(), pair.begin(), pair.end());
          v.push_back(static_cast<int64_t>(conv.getGroups()));
          return v;
        };
        if (auto conv = dyn_cast<Conv2dOp>(c))
          return k(Kernel::Conv2d, ints(conv));
        if (auto conv = dyn_cast<Conv2dGradInputOp>(c))
          return k(Kernel::Conv2dGradInput, ints(conv));
        return k(Kernel::Conv2dGradWeight, ints(cast<Conv2dGradWeightOp>(c)));
      })
      .Case<MaxPool2dOp, MaxPool2dGradOp, AvgPool2dOp, AvgPool2dGradOp>(
          [&](Operation *p) {
            auto ints = [](auto pool, ArrayRef<int64_t> dilation, bool includePad) {
              std::vector<int64_t> v;
              for (ArrayRef<int64_t> pair :
                   {pool.getKernelSize(), pool.getStride(), pool.getPadding(), dilation})
                v.insert(v.end(), pair.begin(), pair.end());
              v.push_back(includePad);
              return v;
            };
            static const int64_t one[2] = {1, 1};
            if (auto m = dyn_cast<MaxPool2dOp>(p))
              return k(Kernel::MaxPool2d, ints(m, m.getDilation(), false));
            if (auto m = dyn_cast<MaxPool2dGradOp>(p))
              return k(Kernel::MaxPool2dGrad, ints(m, m.getDilation(), false));
            if (auto a = dyn_cast<AvgPool2dOp>(p))
              return k(Kernel::AvgPool2d, ints(a, one, a.getCountIncludePad()));
            auto a = cast<AvgPool2dGradOp>(p);
            return k(Kernel::AvgPool2dGrad, ints(a, one, a.getCountIncludePad()));
          })
      .Case([&](AdaptiveAvgPool2dOp) { return k(Kernel::AdaptiveAvgPool2d); })
      .Case([&](AdaptiveAvgPool2dGradOp) {
        return k(Kernel::AdaptiveAvgPool2dGrad);
      })
      .Case([&](BatchNormOp b) {
        return k(Kernel::BatchNorm, {b.getTraining()},
                 {b.getEps().convertToDouble(), b.getMomentum().convertToDouble()});
      })
      .Case([&](BatchNormGradOp b) {
        return k(Kernel::BatchNormGrad, {b.getTraining()},
                 {b.getEps().convertToDouble()});
      })
      .Case([&](FusedOp) { return k(Kernel::Fused); })
      .Case([&](arith::AddIOp) { return k(Kernel::AddInt); })
      .Case([&](arith::MulIOp) { return k(Kernel::MulInt); })
      .Case([&](arith::CmpIOp c) -> R {
        if (c.getPredicate() != arith::CmpIPredicate::eq)
          return std::nullopt;
        return k(Kernel::EqualInt);
      })
      .Default([](Operation *) -> R { return std::nullopt; });
}

/// The per-element program of `op`'s body, or the names of the body ops the
/// runtime cannot fuse.
llvm::Expected<rt::FusedBody> fusedBody(FusedOp op) {
  Block &body = op.getBody().front();
  if (body.getNumArguments() + body.getOperations().size() - 1 >
      static_cast<size_t>(rt::kFusedMaxRegisters))
    return error("an accel.fused with more than " +
                 llvm::Twine(rt::kFusedMaxRegisters) +
                 " inputs and ops together (fuse with a smaller max-values)");
  llvm::DenseMap<Value, int> reg;
  for (BlockArgument arg : body.getArguments()) {
    Type element = cast<RankedTensorType>(arg.getType()).getElementType();
    if (!element.isF32() && !element.isBF16() && !element.isF16())
      return error("an accel.fused with a non-float input");
    reg[arg] = static_cast<int>(arg.getArgNumber());
  }
  bool keepF32 = op->hasAttr("accel.fp32_intermediates");
  rt::FusedBody program;
  for (Operation &inner : body.without_terminator()) {
    auto kernel = kernelFor(&inner);
    int arity = kernel ? rt::fusedStepArity(kernel->first) : 0;
    if (arity == 0 || static_cast<int>(inner.getNumOperands()) != arity)
      return error("an accel.fused containing " +
                   inner.getName().getStringRef());
    rt::FusedStep step{kernel->first, reg.at(inner.getOperand(0))};
    if (arity == 2)
      step.rhs = reg.at(inner.getOperand(1));
    std::optional<rt::ElementType> type = elementType(
        cast<RankedTensorType>(inner.getResult(0).getType()).getElementType());
    if (!keepF32 && type &&
        (*type == rt::ElementType::BF16 || *type == rt::ElementType::F16))
      step.round = *type;
    reg[inner.getResult(0)] =
        static_cast<int>(body.getNumArguments() + program.steps.size());
    program.steps.push_back(step);
  }
  for (Value v : body.getTerminator()->getOperands())
    program.results.push_back(reg.at(v));
  return program;
}

/// The transpose defining `v` if the products read through it
/// (isAbsorbedTranspose), else null.
TransposeOp absorbedTranspose(Value v) {
  auto t = v.getDefiningOp<TransposeOp>();
  return t && isAbsorbedTranspose(t) ? t : nullptr;
}

/// Writes state updates in place: when a fused (elementwise) instruction
/// computes a state's new value and nothing after it reads the old one, it
/// writes straight into the state's buffer (reading each element before
/// writing it), later readers of the new value read it there, and the copy
/// back after the step disappears. Other producers keep their arena result.
void donateState(rt::Program &program) {
  for (rt::ProgramResult &r : program.results) {
    if (r.kind != rt::ProgramResult::Kind::State)
      continue;
    int state = -1;
    for (size_t i = 0; i < program.buffers.size(); ++i)
      if (program.buffers[i].role == r.role && program.buffers[i].name == r.name)
        state = static_cast<int>(i);
    if (state < 0 || program.buffers[r.buffer].role != BufferDesc::Role::Arena)
      continue;
    // The instruction producing the new value, and the last reader of the
    // old one.
    auto root = [&](int id) {
      return program.buffers[id].role == BufferDesc::Role::View
                 ? program.buffers[id].viewOf
                 : id;
    };
    int producer = -1, lastRead = -1;
    for (size_t pc = 0; pc < program.code.size(); ++pc) {
      const rt::Instruction &in = program.code[pc];
      if (llvm::is_contained(in.results, r.buffer))
        producer = static_cast<int>(pc);
      if (llvm::any_of(in.operands, [&](int id) { return root(id) == state; }))
        lastRead = static_cast<int>(pc);
    }
    if (producer < 0 || program.code[producer].kernel != Kernel::Fused ||
        lastRead > producer)
      continue;
    for (size_t pc = producer; pc < program.code.size(); ++pc) {
      rt::Instruction &in = program.code[pc];
      for (int &v : in.operands)
        if (v == r.buffer && static_cast<int>(pc) > producer)
          v = state;
      if (static_cast<int>(pc) == producer)
        for (int &v : in.results)
          if (v == r.buffer)
            v = state;
    }
    for (BufferDesc &b : program.buffers) // views of the new value
      if (b.role == BufferDesc::Role::View && b.viewOf == r.buffer)
        b.viewOf = state;
    for (rt::ProgramResult &other : program.results)
      if (other.buffer == r.buffer)
        other.buffer = state;
  }
}

/// The step input `v` is taken from, through slices (micro-batches) and
/// reshapes, if any.
std::optional<std::string> inputName(func::FuncOp f, Value v) {
  while (Operation *def = v.getDefiningOp()) {
    if (!isa<SliceOp, ReshapeOp, FlattenOp>(def))
      return std::nullopt;
    v = def->getOperand(0);
  }
  auto arg = cast<BlockArgument>(v);
  if (auto name = f.getArgAttrOfType<StringAttr>(arg.getArgNumber(),
                                                 AccelDialect::kInputAttrName))
    return name.str();
  return std::nullopt;
}

/// The ranges the step's integer inputs must respect (see rt::IndexBound).
std::vector<rt::IndexBound> indexBounds(func::FuncOp f) {
  std::vector<rt::IndexBound> bounds;
  f.walk([&](Operation *op) {
    if (auto e = dyn_cast<EmbeddingOp>(op)) {
      if (auto name = inputName(f, e.getIndices()))
        bounds.push_back({*name, shapeOf(e.getWeight())[0], std::nullopt,
                          "an embedding table"});
    } else if (auto c = dyn_cast<CrossEntropyOp>(op)) {
      if (auto name = inputName(f, c.getTarget()))
        bounds.push_back({*name, shapeOf(c.getLogits()).back(),
                          static_cast<int64_t>(c.getIgnoreIndex()),
                          "the cross-entropy's classes"});
    }
  });
  return bounds;
}

} // namespace

namespace {

/// Parses MLIR text, refusing nesting deeper than the parser's recursion
/// can take.
llvm::Expected<OwningOpRef<ModuleOp>> parse(MLIRContext &context,
                                            llvm::StringRef path,
                                            std::string &diagnostics) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
      llvm::MemoryBuffer::getFile(path);
  if (!text)
    return error("cannot read '" + path + "': " + text.getError().message());
  // The parser recurses per bracket: measure the nesting first.
  if (llvm::Error e = accel::checkNesting((*text)->getBuffer(), path,
                                          accel::SourceSyntax::Mlir))
    return e;
  llvm::SourceMgr sources;
  sources.AddNewSourceBuffer(std::move(*text), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sources, &context);
  if (!module)
    return error("cannot parse '" + path + "'" + diagnostics);
  return module;
}

/// Plans `entry` of `module` (inlining calls first) unless it already
/// carries a plan.
llvm::Error plan(ModuleOp module, llvm::StringRef path, llvm::StringRef entry,
                 bool overlapCollectives, std::string &diagnostics) {
  auto f = module.lookupSymbol<func::FuncOp>(entry);
  if (!f)
    return error("'" + path + "' has no @" + entry +
                 "; build one with accel-opt --accel-train-pipeline");
  if (f->hasAttr("accel.arena_bytes"))
    return llvm::Error::success();
  PassManager pm(module->getContext());
  pm.addPass(createInlinerPass());
  if (overlapCollectives)
    pm.addNestedPass<func::FuncOp>(accel::createOverlapCollectivesPass());
  pm.addNestedPass<func::FuncOp>(accel::createFuseElementwisePass());
  PlanMemoryPassOptions options;
  options.entry = entry.str();
  pm.addPass(accel::createPlanMemoryPass(options));
  if (failed(pm.run(module)))
    return error("cannot lower '" + path + "'" + diagnostics);
  return llvm::Error::success();
}

/// The runtime program of `f`'s ops up to and including `last` (all of
/// them when null); the function's results, or `last`'s operand
/// `resultOperand`, become the program's results.
llvm::Expected<rt::Program> build(func::FuncOp f, llvm::StringRef path,
                                  Operation *last, unsigned resultOperand,
                                  std::string &diagnostics,
                                  bool inference = false) {
  rt::Program program;
  // Hand-written or damaged text may carry a plan of the wrong kind, or a
  // function without one body.
  auto arena = f->getAttrOfType<IntegerAttr>("accel.arena_bytes");
  if (!arena || arena.getValue().isNegative() ||
      arena.getValue().getActiveBits() > 63)
    return error("'" + path + "': @" + f.getSymName() +
                 "'s accel.arena_bytes is not a non-negative 64-bit integer");
  if (!llvm::hasSingleElement(f.getBody()))
    return error("'" + path + "': @" + f.getSymName() +
                 " is not one block of ops (external, or not yet lowered)");
  program.arenaBytes = arena.getValue().getZExtValue();
  if (auto k = f->getAttrOfType<IntegerAttr>("accel.grad_accum"))
    program.microBatches = k.getInt();
  if (auto n = f->getAttrOfType<IntegerAttr>("accel.ranks"))
    program.ranks = n.getInt();
  if (auto strategy = f->getAttrOfType<StringAttr>("accel.strategy"))
    program.strategy = strategy.getValue().str();
  if (auto lr = f->getAttrOfType<FloatAttr>("accel.default_lr"))
    program.defaultLr = lr.getValueAsDouble();
  if (auto scale = f->getAttrOfType<FloatAttr>("accel.initial_loss_scale"))
    program.initialLossScale = scale.getValueAsDouble();
  program.indexBounds = indexBounds(f);
  Builder b(program);
  for (unsigned i = 0; i < f.getNumArguments(); ++i)
    if (failed(b.argument(f, i)))
      return error("cannot load '" + path + "'" + diagnostics);

  // Every op must have a kernel; list all that do not before building.
  std::map<std::string, int> unsupported;
  for (Operation &op : f.getBody().front()) {
    if (&op == last)
      break;
    if (auto fused = dyn_cast<FusedOp>(op)) {
      if (llvm::Expected<rt::FusedBody> body = fusedBody(fused); !body)
        ++unsupported[llvm::toString(body.takeError())];
      continue;
    }
    if (isa<func::ReturnOp, arith::ConstantOp>(op))
      continue;
    if (!kernelFor(&op))
      ++unsupported[op.getName().getStringRef().str()];
    else if (!hasCpuKernel(op.getName().getStringRef()))
      return error("internal error: " + op.getName().getStringRef() +
                   " has a CPU kernel but is missing from "
                   "compiler/lowering/CpuKernelOps.cpp");
  }
  if (!unsupported.empty()) {
    std::string list;
    for (auto &[name, count] : unsupported)
      list += "\n  " + name + " (" + std::to_string(count) + "x)";
    return error("'" + path + "' uses ops the CPU driver does not run yet:" + list);
  }

  llvm::DenseMap<Operation *, int64_t> startedAt; // collectives' instructions
  for (Operation &op : f.getBody().front()) {
    if (&op == last) {
      rt::ProgramResult r;
      r.buffer = b.id(op.getOperand(resultOperand));
      program.results.push_back(r);
      break;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      for (auto [i, v] : llvm::enumerate(ret.getOperands())) {
        rt::ProgramResult r;
        r.buffer = b.id(v);
        for (auto [attr, role] :
             {std::pair{AccelDialect::kParamAttrName, BufferDesc::Role::Param},
              std::pair{AccelDialect::kBufferAttrName, BufferDesc::Role::Buffer},
              std::pair{AccelDialect::kOptStateAttrName,
                        BufferDesc::Role::OptState},
              std::pair{AccelDialect::kFp8StateAttrName,
                        BufferDesc::Role::Fp8State}})
          if (auto name = f.getResultAttrOfType<StringAttr>(i, attr)) {
            r.kind = rt::ProgramResult::Kind::State;
            r.role = role;
            r.name = name.str();
          }
        if (auto name =
                f.getResultAttrOfType<StringAttr>(i, AccelDialect::kGradAttrName)) {
          r.kind = rt::ProgramResult::Kind::Grad;
          r.name = name.str();
        }
        if (auto name = f.getResultAttrOfType<StringAttr>(
                i, AccelDialect::kMetricAttrName)) {
          r.kind = rt::ProgramResult::Kind::Metric;
          r.name = name.str();
        }
        program.results.push_back(r);
      }
      continue;
    }
    if (auto c = dyn_cast<arith::ConstantOp>(op)) {
      if (failed(b.constant(c)))
        return error("cannot load '" + path + "'" + diagnostics);
      continue;
    }
    if (isa<ReshapeOp, FlattenOp>(op) && op.hasAttr("accel.view")) {
      b.view(op.getResult(0), op.getOperand(0)); // planned as a view: no copy
      continue;
    }
    if (auto t = dyn_cast<TransposeOp>(op); t && isAbsorbedTranspose(t)) {
      b.alias(t.getResult(), t.getInput()); // planned as a view
      continue;
    }
    if (auto wait = dyn_cast<WaitOp>(op)) {
      // The collective's results, complete from here on.
      Operation *started = wait.getInputs().front().getDefiningOp();
      for (auto [result, input] : llvm::zip(wait.getResults(), wait.getInputs()))
        b.alias(result, input);
      b.emit(Kernel::Wait, &op, {startedAt.at(started)});
      continue;
    }

    if (isa<AllReduceOp, ReduceScatterOp, AllGatherOp>(op))
      startedAt[&op] = static_cast<int64_t>(program.code.size());
    auto kernel = kernelFor(&op);
    if (failed(b.results(&op)))
      return error("cannot load '" + path + "'" + diagnostics);
    if (auto bn = dyn_cast<BatchNormOp>(op); inference && bn) {
      // Evaluation normalises with the running statistics.
      b.emit(Kernel::BatchNorm, &op, {0},
             {bn.getEps().convertToDouble(), bn.getMomentum().convertToDouble()});
      continue;
    }
    if (auto d = dyn_cast<DropoutOp>(op); inference && d) {
      // Evaluation replaces the mask by its expectation: dropout is the
      // identity; a mask kept unscaled (stochastic depth) is 1 - p.
      if (d.getRescale()) {
        b.emit(Kernel::Copy, &op);
        program.code.back().operands.resize(1);
      } else {
        b.emit(Kernel::Dropout, &op, {0, 0, 2}, {d.getP().convertToDouble()});
      }
      continue;
    }
    if (auto mm = dyn_cast<MatmulOp>(op)) {
      b.emit(Kernel::BatchedMatmul, &op,
             {absorbedTranspose(mm.getLhs()) != nullptr,
              absorbedTranspose(mm.getRhs()) != nullptr});
      continue;
    }
    if (auto mm = dyn_cast<ScaledMatmulOp>(op)) {
      // The high-precision operands are for the VJP; the GEMM reads the
      // quantised ones.
      auto grouping = [](Value scale) -> int64_t {
        auto type = cast<RankedTensorType>(scale.getType());
        if (type.getRank() == 0)
          return 0;
        return isa<Float8E8M0FNUType>(type.getElementType()) ? 2 : 1;
      };
      b.emit(Kernel::ScaledMatmul, &op,
             {grouping(mm.getLhsScale()), grouping(mm.getRhsScale()),
              mm.getOutputScaled()});
      program.code.back().operands.resize(4);
      continue;
    }
    if (auto fused = dyn_cast<FusedOp>(op)) {
      b.emit(Kernel::Fused, &op,
             {static_cast<int64_t>(program.fusedBodies.size())});
      program.fusedBodies.push_back(cantFail(fusedBody(fused)));
      continue;
    }
    b.emit(kernel->first, &op, kernel->second.first, kernel->second.second);
  }
  donateState(program);
  // The executor trusts the buffer table: check what the text implied
  // (planned offsets, shapes) before anything runs.
  if (llvm::Error e = rt::checkProgram(program))
    return error("cannot load '" + path + "': " + llvm::toString(std::move(e)));
  return program;
}

} // namespace

/// An MLIR context with accel's dialects (its own, or a module's), a handler
/// that keeps each load's errors, and the files parsed so far.
struct ProgramLoader::State {
  State()
      : owned(std::make_unique<MLIRContext>(MLIRContext::Threading::DISABLED)),
        context(*owned) {
    DialectRegistry registry;
    registry.insert<AccelDialect, func::FuncDialect, arith::ArithDialect>();
    func::registerAllExtensions(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    keepDiagnostics();
  }

  State(ModuleOp module, llvm::StringRef name) : context(*module.getContext()) {
    parsed[name].module = module.clone();
    keepDiagnostics();
  }

  void keepDiagnostics() {
    handler = std::make_unique<ScopedDiagnosticHandler>(
        &context, [&](Diagnostic &d) {
          if (d.getSeverity() == DiagnosticSeverity::Remark)
            return success();
          llvm::raw_string_ostream os(diagnostics);
          os << "\n" << d.getLocation() << ": " << d.str();
          return success();
        });
  }

  /// A copy of `path`'s module, planned for `entry`: each entry is planned
  /// on its own copy, so loading one never sees another's plan.
  llvm::Expected<OwningOpRef<ModuleOp>> planned(llvm::StringRef path,
                                                llvm::StringRef entry) {
    llvm::Expected<ModuleOp> module = source(path);
    if (!module)
      return module.takeError();
    OwningOpRef<ModuleOp> copy = module->clone();
    if (llvm::Error e = plan(*copy, path, entry, overlapCollectives, diagnostics))
      return std::move(e);
    return copy;
  }

  bool overlapCollectives = true;
  /// `path`'s module as parsed (once).
  llvm::Expected<ModuleOp> source(llvm::StringRef path) {
    diagnostics.clear();
    auto [it, inserted] = parsed.try_emplace(path);
    if (inserted) {
      llvm::Expected<OwningOpRef<ModuleOp>> module =
          parse(context, path, diagnostics);
      if (module)
        it->second.module = std::move(*module);
      else
        it->second.error = llvm::toString(module.takeError());
    }
    if (!it->second.module)
      return error(it->second.error);
    return *it->second.module;
  }

  std::unique_ptr<MLIRContext> owned; // null when the context is a module's
  MLIRContext &context;
  std::string diagnostics;
  std::unique_ptr<ScopedDiagnosticHandler> handler;
  struct Parsed {
    OwningOpRef<ModuleOp> module;
    std::string error;
  };
  // Declared last: its modules go before the handler and the context.
  llvm::StringMap<Parsed> parsed;
};

ProgramLoader::ProgramLoader() : state(std::make_unique<State>()) {}
ProgramLoader::ProgramLoader(ModuleOp module, llvm::StringRef name)
    : state(std::make_unique<State>(module, name)) {}
ProgramLoader::~ProgramLoader() = default;

void ProgramLoader::setOverlapCollectives(bool on) {
  state->overlapCollectives = on;
}

llvm::Expected<rt::Program> ProgramLoader::function(llvm::StringRef path,
                                                    llvm::StringRef name) {
  llvm::Expected<OwningOpRef<ModuleOp>> module = state->planned(path, name);
  if (!module)
    return module.takeError();
  auto f = (*module)->lookupSymbol<func::FuncOp>(name);
  return build(f, path, nullptr, 0, state->diagnostics);
}

llvm::Expected<rt::Program> ProgramLoader::trainStep(llvm::StringRef path) {
  llvm::Expected<OwningOpRef<ModuleOp>> module =
      state->planned(path, "train_step");
  if (!module)
    return module.takeError();
  auto f = (*module)->lookupSymbol<func::FuncOp>("train_step");
  // State is updated in place and checkpointed by name: a step that drops
  // or misnames a piece of state would train wrongly without a word.
  if (failed(verifyStepContract(f)))
    return error("'" + path + "' is not a valid training step" +
                 state->diagnostics);
  return build(f, path, nullptr, 0, state->diagnostics);
}

llvm::Expected<EvalProgram> ProgramLoader::classifier(llvm::StringRef path) {
  // A data-parallel step keeps the unsplit forward for evaluation.
  llvm::Expected<ModuleOp> source = state->source(path);
  if (!source)
    return source.takeError();
  llvm::StringRef name =
      source->lookupSymbol("forward_eval") ? "forward_eval" : "forward";
  llvm::Expected<OwningOpRef<ModuleOp>> module = state->planned(path, name);
  if (!module)
    return module.takeError();
  std::string &diagnostics = state->diagnostics;
  auto forward = (*module)->lookupSymbol<func::FuncOp>(name);
  auto ret = cast<func::ReturnOp>(forward.getBody().front().getTerminator());
  auto loss = ret.getOperand(0).getDefiningOp<CrossEntropyOp>();
  // The labels may be an input reshaped (a language model's [B, T] targets
  // flattened with its [B*T, vocab] logits).
  std::optional<std::string> labels =
      loss ? inputName(forward, loss.getTarget()) : std::nullopt;
  if (!loss || !labels)
    return error("'" + path + "': @forward's loss is not a cross-entropy of "
                 "an input's labels, so there is no accuracy to evaluate");
  // Synchronised batch norm is batch statistics in the forward's own ops:
  // there is no batch_norm op left to switch to running statistics.
  if (!forward.getBody().getOps<AllReduceOp>().empty() ||
      !forward.getBody().getOps<AllGatherOp>().empty())
    return error("'" + path + "': its forward synchronises batch norm or "
                 "gathers parameter shards across ranks, and the step keeps "
                 "no @forward_eval to evaluate (compiled by an older "
                 "accel-shard: compile it again)");
  EvalProgram eval;
  eval.labelsInput = *labels;
  eval.ignoreIndex = static_cast<int64_t>(loss.getIgnoreIndex());
  llvm::Expected<rt::Program> program =
      build(forward, path, loss, /*logits=*/0, diagnostics,
            /*inference=*/true);
  if (!program)
    return program.takeError();
  eval.program = std::move(*program);
  return eval;
}

llvm::Expected<rt::StepPrograms>
ProgramLoader::stepPrograms(llvm::StringRef path) {
  rt::StepPrograms programs;
  llvm::Expected<rt::Program> train = trainStep(path);
  if (!train)
    return train.takeError();
  programs.trainStep = std::move(*train);
  if (llvm::Expected<EvalProgram> eval = classifier(path))
    programs.classifier = std::move(*eval);
  else
    programs.classifierError = llvm::toString(eval.takeError());
  if (llvm::Expected<rt::Program> grad = function(path, "forward_grad"))
    programs.forwardGrad = std::move(*grad);
  else
    programs.forwardGradError = llvm::toString(grad.takeError());
  return programs;
}

llvm::Expected<rt::Program> loadFunction(llvm::StringRef path,
                                         llvm::StringRef name) {
  return ProgramLoader().function(path, name);
}

llvm::Expected<rt::Program> loadTrainStep(llvm::StringRef path) {
  return ProgramLoader().trainStep(path);
}

llvm::Expected<EvalProgram> loadClassifier(llvm::StringRef path) {
  return ProgramLoader().classifier(path);
}

} // namespace accel::lowering
