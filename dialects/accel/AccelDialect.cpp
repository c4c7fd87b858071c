//===- AccelDialect.cpp - accel dialect -----------------------------------===//

#include "dialects/accel/AccelDialect.h"

#include "dialects/accel/AccelOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Transforms/InliningUtils.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace accel;

#include "dialects/accel/AccelOpsDialect.cpp.inc"
#include "dialects/accel/AccelOpsEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/accel/AccelOpsAttrDefs.cpp.inc"

namespace {
/// Every accel op is a pure function of its operands, so calls to functions
/// of accel ops (@train_step calling @forward_grad) can be inlined.
struct AccelInlinerInterface : DialectInlinerInterface {
  using DialectInlinerInterface::DialectInlinerInterface;
  bool isLegalToInline(Operation *, Region *, bool, IRMapping &) const final {
    return true;
  }
};
} // namespace

void AccelDialect::initialize() {
  addInterfaces<AccelInlinerInterface>();
  addOperations<
#define GET_OP_LIST
#include "dialects/accel/AccelOps.cpp.inc"
      >();
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/accel/AccelOpsAttrDefs.cpp.inc"
      >();
}

/// The argument attributes that name persistent state or batch inputs.
static constexpr llvm::StringLiteral kArgumentRoles[] = {
    AccelDialect::kParamAttrName,    AccelDialect::kBufferAttrName,
    AccelDialect::kInputAttrName,    AccelDialect::kSeedAttrName,
    AccelDialect::kOptStateAttrName, AccelDialect::kStepAttrName,
    AccelDialect::kLrAttrName,       AccelDialect::kLossScaleAttrName,
    AccelDialect::kFp8StateAttrName};

/// The roles a function result may carry: the new value of a piece of
/// state, or a gradient.
static constexpr llvm::StringLiteral kResultRoles[] = {
    AccelDialect::kParamAttrName, AccelDialect::kBufferAttrName,
    AccelDialect::kOptStateAttrName, AccelDialect::kGradAttrName,
    AccelDialect::kMetricAttrName, AccelDialect::kFp8StateAttrName};

/// Verifies `accel.param`, `accel.buffer`, `accel.input` and `accel.seed`
/// (a rank-0 i64 tensor): a non-empty
/// string on a statically shaped tensor argument of a function, one role per
/// argument, and names unique within the function (they key safetensors
/// files, where a repeated name would make two tensors one).
LogicalResult AccelDialect::verifyRegionArgAttribute(Operation *op,
                                                     unsigned regionIndex,
                                                     unsigned argIndex,
                                                     NamedAttribute attribute) {
  StringRef role = attribute.getName().getValue();
  // Only function ops (FunctionOpInterface's verifier) call this hook.
  auto func = cast<FunctionOpInterface>(op);
  if (role == kInitAttrName) {
    if (!isa<FloatAttr>(attribute.getValue()) ||
        !func.getArgAttr(argIndex, kFp8StateAttrName))
      return func.emitError()
             << "'" << kInitAttrName << "' of argument #" << argIndex
             << " must be a float on an '" << kFp8StateAttrName
             << "' argument, got " << attribute.getValue();
    return success();
  }
  if (role == kShardOfAttrName) {
    auto shape = dyn_cast<DenseI64ArrayAttr>(attribute.getValue());
    // The rank count: a training step's, or the split forward's.
    auto ranks = func->getAttrOfType<IntegerAttr>("accel.ranks");
    if (auto split = func->getAttrOfType<DictionaryAttr>(kDataParallelAttrName);
        !ranks && split)
      ranks = split.getAs<IntegerAttr>("ranks");
    auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[argIndex]);
    if (!shape ||
        !(func.getArgAttr(argIndex, kOptStateAttrName) ||
          func.getArgAttr(argIndex, kParamAttrName)) ||
        !ranks || ranks.getInt() < 1 || !type)
      return func.emitError()
             << "'" << kShardOfAttrName << "' of argument #" << argIndex
             << " must be a shape (i64 array) on an '" << kOptStateAttrName
             << "' or '" << kParamAttrName
             << "' argument of a function with 'accel.ranks' or '"
             << kDataParallelAttrName << "'";
    int64_t elements = 1;
    for (int64_t d : shape.asArrayRef()) {
      if (d < 0 || (d > 0 && elements > INT64_MAX / d))
        return func.emitError() << "'" << kShardOfAttrName << "' of argument #"
                                << argIndex << " is not a valid shape";
      elements *= d;
    }
    auto expected = RankedTensorType::get(
        {shardElements(elements, ranks.getInt())}, type.getElementType());
    std::string whole = "[";
    llvm::raw_string_ostream os(whole);
    llvm::interleaveComma(shape.asArrayRef(), os);
    os << "]";
    if (type != expected)
      return func.emitError()
             << "argument #" << argIndex << " shards a tensor of shape "
             << whole << " over "
             << ranks.getInt() << " ranks, so it must be " << expected
             << ", got " << type;
    return success();
  }
  if (!llvm::is_contained(kArgumentRoles, role))
    return op->emitError() << "unknown accel argument attribute '" << role
                           << "'";
  auto name = dyn_cast<StringAttr>(attribute.getValue());
  if (!name || name.getValue().empty())
    return func.emitError() << "'" << role << "' of argument #" << argIndex
                            << " must be a non-empty string, got "
                            << attribute.getValue();

  auto type = dyn_cast<RankedTensorType>(func.getArgumentTypes()[argIndex]);
  if (!type || !type.hasStaticShape())
    return func.emitError() << "argument #" << argIndex << " with '" << role
                            << "' must be a statically shaped tensor, got "
                            << func.getArgumentTypes()[argIndex];

  Builder b(op->getContext());
  if ((role == kSeedAttrName || role == kStepAttrName) &&
      type != RankedTensorType::get({}, b.getI64Type()))
    return func.emitError() << "argument #" << argIndex << " with '" << role
                            << "' must be tensor<i64>, got " << type;
  if ((role == kLrAttrName || role == kLossScaleAttrName) &&
      type != RankedTensorType::get({}, b.getF32Type()))
    return func.emitError() << "argument #" << argIndex << " with '" << role
                            << "' must be tensor<f32>, got " << type;

  for (StringRef other : kArgumentRoles)
    if (other != role && func.getArgAttr(argIndex, other))
      return func.emitError()
             << "argument #" << argIndex << " has both '" << role << "' and '"
             << other << "'; an argument has one role";

  // Names are unique across all arguments. Checking each argument against
  // all others made verification quadratic in the argument count (2,000
  // arguments in a 48-layer GPT's step, verified after every pass), so the
  // first argument with a role checks them all at once.
  for (unsigned i = 0; i < argIndex; ++i)
    for (StringRef other : kArgumentRoles)
      if (func.getArgAttr(i, other))
        return success();
  llvm::DenseMap<StringAttr, unsigned> firstNamed;
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i) {
    DictionaryAttr attrs = func.getArgAttrDict(i);
    if (!attrs)
      continue;
    for (StringRef other : kArgumentRoles)
      if (auto otherName = attrs.getAs<StringAttr>(other)) {
        auto [first, inserted] = firstNamed.try_emplace(otherName, i);
        if (!inserted)
          return func.emitError()
                 << "argument #" << first->second << " and argument #" << i
                 << " are both named \"" << otherName.getValue() << "\"";
        // An argument with two roles is the error above, at its own turn.
        break;
      }
  }
  return success();
}

/// A result may carry the name of the state it is the new value of
/// (`accel.param`, `accel.buffer`, `accel.opt_state`; checked against the
/// arguments by the passes that rely on it) or of the parameter it is the
/// gradient of (`accel.grad`).
LogicalResult AccelDialect::verifyRegionResultAttribute(
    Operation *op, unsigned regionIndex, unsigned resultIndex,
    NamedAttribute attribute) {
  StringRef role = attribute.getName().getValue();
  if (!llvm::is_contained(kResultRoles, role))
    return op->emitError() << "'" << role
                           << "' is not valid on a result; only '"
                           << kParamAttrName << "', '" << kBufferAttrName
                           << "', '" << kOptStateAttrName << "', '"
                           << kFp8StateAttrName << "', '" << kGradAttrName
                           << "' and '" << kMetricAttrName << "' are";
  auto name = dyn_cast<StringAttr>(attribute.getValue());
  if (!name || name.getValue().empty())
    return op->emitError() << "'" << role << "' of result #" << resultIndex
                           << " must be a non-empty string, got "
                           << attribute.getValue();
  return success();
}
