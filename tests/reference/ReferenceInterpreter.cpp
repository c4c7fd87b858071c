//===- ReferenceInterpreter.cpp - evaluate accel IR with ATen -------------===//

#include "tests/reference/ReferenceInterpreter.h"

#include "dialects/accel/AccelOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/autograd.h>

#include <functional>

using namespace mlir;

namespace accel::reference {
namespace {

llvm::Error error(Operation *op, const llvm::Twine &message) {
  std::string where;
  llvm::raw_string_ostream os(where);
  os << op->getLoc();
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 where + ": " + op->getName().getStringRef() +
                                     ": " + message);
}

std::vector<int64_t> vec(ArrayRef<int64_t> a) { return a.vec(); }

int64_t reductionCode(Reduction r) {
  switch (r) {
  case Reduction::None:
    return at::Reduction::None;
  case Reduction::Mean:
    return at::Reduction::Mean;
  case Reduction::Sum:
    return at::Reduction::Sum;
  }
  return at::Reduction::Mean;
}

llvm::Expected<at::Tensor> constantTensor(arith::ConstantOp op) {
  auto attr = dyn_cast<DenseElementsAttr>(op.getValue());
  if (!attr)
    return error(op, "only dense tensor constants are supported");
  auto type = cast<RankedTensorType>(attr.getType());
  llvm::Expected<at::ScalarType> dtype = scalarTypeFor(type.getElementType());
  if (!dtype)
    return dtype.takeError();
  std::vector<int64_t> shape = vec(type.getShape());
  Type element = type.getElementType();
  if (element.isInteger(1)) {
    std::vector<uint8_t> bits;
    for (bool b : attr.getValues<bool>())
      bits.push_back(b);
    return at::tensor(at::ArrayRef<uint8_t>(bits), at::kByte)
        .to(at::kBool)
        .reshape(shape);
  }
  if (element.isInteger(64)) {
    std::vector<int64_t> values(attr.getValues<int64_t>().begin(),
                                attr.getValues<int64_t>().end());
    return at::tensor(values, at::kLong).reshape(shape);
  }
  std::vector<double> values;
  for (const APFloat &f : attr.getValues<APFloat>())
    values.push_back(f.convertToDouble());
  return at::tensor(values, at::kDouble).to(*dtype).reshape(shape);
}

} // namespace

llvm::Expected<at::ScalarType> scalarTypeFor(Type elementType) {
  if (elementType.isF32())
    return at::kFloat;
  if (elementType.isBF16())
    return at::kBFloat16;
  if (elementType.isF16())
    return at::kHalf;
  if (elementType.isInteger(64))
    return at::kLong;
  if (elementType.isInteger(1))
    return at::kBool;
  std::string name;
  llvm::raw_string_ostream(name) << elementType;
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "no LibTorch dtype for " + name);
}

llvm::Expected<std::vector<at::Tensor>>
interpret(func::FuncOp function, ArrayRef<at::Tensor> arguments,
          const InterpretOptions &options) {
  if (arguments.size() != function.getNumArguments())
    return llvm::createStringError(
        llvm::inconvertibleErrorCode(),
        "@" + function.getName() + " takes " +
            llvm::Twine(function.getNumArguments()) + " arguments, got " +
            llvm::Twine(arguments.size()));
  // Runs a block (the function's, or an accel.fused body) in `env` up to
  // its terminator, whose operands it returns.
  std::function<llvm::Expected<std::vector<at::Tensor>>(
      Block &, llvm::DenseMap<Value, at::Tensor> &)>
      runBlock = [&](Block &block, llvm::DenseMap<Value, at::Tensor> &env)
      -> llvm::Expected<std::vector<at::Tensor>> {
    auto in = [&](Value v) { return env.lookup(v); };
    for (Operation &op : block) {
      if (isa<func::ReturnOp, YieldOp>(op)) {
        std::vector<at::Tensor> results;
        for (Value v : op.getOperands())
          results.push_back(in(v));
        return results;
      }
      llvm::Expected<std::vector<at::Tensor>> results =
          llvm::TypeSwitch<Operation *, llvm::Expected<std::vector<at::Tensor>>>(
              &op)
              .Case([&](arith::ConstantOp c) -> llvm::Expected<std::vector<at::Tensor>> {
                llvm::Expected<at::Tensor> t = constantTensor(c);
                if (!t)
                  return t.takeError();
                if (options.floatsInDouble && t->is_floating_point())
                  return std::vector<at::Tensor>{t->to(at::kDouble)};
                return std::vector<at::Tensor>{*t};
              })
              .Case([&](FusedOp f) -> llvm::Expected<std::vector<at::Tensor>> {
                // The body's ops broadcast, so running it once on the whole
                // inputs (one-element ones as rank-0) computes every element.
                llvm::DenseMap<Value, at::Tensor> inner;
                for (auto [arg, input] :
                     llvm::zip(f.getBody().getArguments(), f.getInputs())) {
                  at::Tensor t = in(input);
                  inner[arg] = t.numel() == 1 ? t.reshape({}) : t;
                }
                llvm::Expected<std::vector<at::Tensor>> yielded =
                    runBlock(f.getBody().front(), inner);
                if (!yielded)
                  return yielded.takeError();
                for (auto [t, r] : llvm::zip(*yielded, f.getResults()))
                  t = t.expand(vec(cast<RankedTensorType>(r.getType()).getShape()))
                          .contiguous();
                return yielded;
              })
              .Case([&](func::CallOp call) -> llvm::Expected<std::vector<at::Tensor>> {
                auto callee =
                    function->getParentOfType<ModuleOp>().lookupSymbol<func::FuncOp>(
                        call.getCallee());
                if (!callee)
                  return error(call, "unknown callee");
                std::vector<at::Tensor> operands;
                for (Value v : call.getOperands())
                  operands.push_back(in(v));
                return interpret(callee, operands, options);
              })
              .Case([&](arith::CmpIOp o) -> llvm::Expected<std::vector<at::Tensor>> {
                if (o.getPredicate() != arith::CmpIPredicate::eq)
                  return error(o, "only the eq predicate is supported");
                return std::vector<at::Tensor>{at::eq(in(o.getLhs()), in(o.getRhs()))};
              })
              .Case([&](arith::MulIOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) * in(o.getRhs())};
              })
              .Case([&](arith::AddIOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) + in(o.getRhs())};
              })
              .Case([&](arith::SubIOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) - in(o.getRhs())};
              })
              .Case([&](ReluOp o) {
                return std::vector<at::Tensor>{at::relu(in(o.getInput()))};
              })
              .Case([&](GeluOp o) {
                return std::vector<at::Tensor>{at::gelu(
                    in(o.getInput()),
                    o.getApproximate() == GeluApproximation::Tanh ? "tanh"
                                                                  : "none")};
              })
              .Case([&](TanhOp o) {
                return std::vector<at::Tensor>{at::tanh(in(o.getInput()))};
              })
              .Case([&](SigmoidOp o) {
                return std::vector<at::Tensor>{at::sigmoid(in(o.getInput()))};
              })
              .Case([&](ExpOp o) {
                return std::vector<at::Tensor>{at::exp(in(o.getInput()))};
              })
              .Case([&](LogOp o) {
                return std::vector<at::Tensor>{at::log(in(o.getInput()))};
              })
              .Case([&](SqrtOp o) {
                return std::vector<at::Tensor>{at::sqrt(in(o.getInput()))};
              })
              .Case([&](RsqrtOp o) {
                return std::vector<at::Tensor>{at::rsqrt(in(o.getInput()))};
              })
              .Case([&](NegOp o) {
                return std::vector<at::Tensor>{at::neg(in(o.getInput()))};
              })
              .Case([&](CastOp o) -> llvm::Expected<std::vector<at::Tensor>> {
                at::Tensor x = in(o.getInput());
                if (options.floatsInDouble && x.is_floating_point() &&
                    isa<FloatType>(o.getType().getElementType()))
                  return std::vector<at::Tensor>{x};
                llvm::Expected<at::ScalarType> dtype =
                    scalarTypeFor(o.getType().getElementType());
                if (!dtype)
                  return dtype.takeError();
                return std::vector<at::Tensor>{in(o.getInput()).to(*dtype)};
              })
              .Case([&](AddOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) + in(o.getRhs())};
              })
              .Case([&](SubOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) - in(o.getRhs())};
              })
              .Case([&](MulOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) * in(o.getRhs())};
              })
              .Case([&](DivOp o) {
                return std::vector<at::Tensor>{in(o.getLhs()) / in(o.getRhs())};
              })
              .Case([&](MaskedFillOp o) {
                return std::vector<at::Tensor>{in(o.getInput()).masked_fill(
                    in(o.getMask()), o.getValue().convertToDouble())};
              })
              .Case([&](DropoutOp o) -> llvm::Expected<std::vector<at::Tensor>> {
                if (!o.getP().isZero())
                  return error(o, "random masks are not evaluated by the "
                                  "reference interpreter (export with p = 0)");
                return std::vector<at::Tensor>{in(o.getInput())};
              })
              .Case([&](MatmulOp o) {
                return std::vector<at::Tensor>{
                    at::matmul(in(o.getLhs()), in(o.getRhs()))};
              })
              .Case([&](LinearOp o) {
                at::Tensor bias = o.getBias() ? in(o.getBias()) : at::Tensor();
                return std::vector<at::Tensor>{
                    at::linear(in(o.getInput()), in(o.getWeight()), bias)};
              })
              .Case([&](Conv2dOp o) {
                at::Tensor bias = o.getBias() ? in(o.getBias()) : at::Tensor();
                return std::vector<at::Tensor>{at::conv2d(
                    in(o.getInput()), in(o.getWeight()), bias,
                    vec(o.getStride()), vec(o.getPadding()),
                    vec(o.getDilation()), o.getGroups())};
              })
              .Case([&](BatchNormOp o) {
                // ATen updates the statistics in place: work on copies.
                at::Tensor mean = in(o.getRunningMean()).clone();
                at::Tensor var = in(o.getRunningVar()).clone();
                at::Tensor y = at::batch_norm(
                    in(o.getInput()), in(o.getWeight()), in(o.getBias()), mean,
                    var, o.getTraining(), o.getMomentum().convertToDouble(),
                    o.getEps().convertToDouble(), /*cudnn_enabled=*/false);
                return std::vector<at::Tensor>{y, mean, var};
              })
              .Case([&](LayerNormOp o) {
                at::Tensor w = o.getWeight() ? in(o.getWeight()) : at::Tensor();
                at::Tensor b = o.getBias() ? in(o.getBias()) : at::Tensor();
                return std::vector<at::Tensor>{at::layer_norm(
                    in(o.getInput()), vec(o.getNormalizedShape()), w, b,
                    o.getEps().convertToDouble())};
              })
              .Case([&](MaxPool2dOp o) {
                return std::vector<at::Tensor>{at::max_pool2d(
                    in(o.getInput()), vec(o.getKernelSize()), vec(o.getStride()),
                    vec(o.getPadding()), vec(o.getDilation()), o.getCeilMode())};
              })
              .Case([&](AvgPool2dOp o) {
                return std::vector<at::Tensor>{at::avg_pool2d(
                    in(o.getInput()), vec(o.getKernelSize()), vec(o.getStride()),
                    vec(o.getPadding()), o.getCeilMode(),
                    o.getCountIncludePad())};
              })
              .Case([&](AdaptiveAvgPool2dOp o) {
                return std::vector<at::Tensor>{at::adaptive_avg_pool2d(
                    in(o.getInput()), vec(o.getOutputSize()))};
              })
              .Case([&](ReshapeOp o) {
                return std::vector<at::Tensor>{
                    in(o.getInput()).reshape(vec(o.getType().getShape()))};
              })
              .Case([&](FlattenOp o) {
                return std::vector<at::Tensor>{
                    at::flatten(in(o.getInput()), static_cast<int64_t>(o.getStartDim()),
                                static_cast<int64_t>(o.getEndDim()))};
              })
              .Case([&](TransposeOp o) {
                return std::vector<at::Tensor>{in(o.getInput()).transpose(
                    static_cast<int64_t>(o.getDim0()),
                    static_cast<int64_t>(o.getDim1()))};
              })
              .Case([&](PermuteOp o) {
                return std::vector<at::Tensor>{
                    in(o.getInput()).permute(vec(o.getPermutation()))};
              })
              .Case([&](SliceOp o) {
                return std::vector<at::Tensor>{in(o.getInput()).slice(
                    static_cast<int64_t>(o.getDim()),
                    static_cast<int64_t>(o.getStart()),
                    static_cast<int64_t>(o.getEnd()),
                    static_cast<int64_t>(o.getStep()))};
              })
              .Case([&](ConcatOp o) {
                std::vector<at::Tensor> parts;
                for (Value v : o.getInputs())
                  parts.push_back(in(v));
                return std::vector<at::Tensor>{
                    at::cat(parts, static_cast<int64_t>(o.getDim()))};
              })
              .Case([&](EmbeddingOp o) {
                return std::vector<at::Tensor>{
                    at::embedding(in(o.getWeight()), in(o.getIndices()))};
              })
              .Case([&](SumOp o) {
                return std::vector<at::Tensor>{
                    at::sum(in(o.getInput()), vec(o.getDims()), o.getKeepdim())};
              })
              .Case([&](MeanOp o) {
                return std::vector<at::Tensor>{
                    at::mean(in(o.getInput()), vec(o.getDims()), o.getKeepdim())};
              })
              .Case([&](AmaxOp o) {
                return std::vector<at::Tensor>{
                    at::amax(in(o.getInput()), vec(o.getDims()), o.getKeepdim())};
              })
              .Case([&](SoftmaxOp o) {
                return std::vector<at::Tensor>{at::softmax(
                    in(o.getInput()), static_cast<int64_t>(o.getDim()))};
              })
              .Case([&](LogSoftmaxOp o) {
                return std::vector<at::Tensor>{at::log_softmax(
                    in(o.getInput()), static_cast<int64_t>(o.getDim()))};
              })
              .Case([&](CrossEntropyOp o) {
                return std::vector<at::Tensor>{at::cross_entropy_loss(
                    in(o.getLogits()), in(o.getTarget()), {},
                    reductionCode(o.getReduction()),
                    static_cast<int64_t>(o.getIgnoreIndex()),
                    o.getLabelSmoothing().convertToDouble())};
              })
              .Case([&](MseLossOp o) {
                return std::vector<at::Tensor>{
                    at::mse_loss(in(o.getInput()), in(o.getTarget()),
                                 reductionCode(o.getReduction()))};
              })
              // Gradient ops: ATen's backward kernels, or autograd where
              // ATen composes the forward itself.
              .Case([&](BroadcastToOp o) {
                return std::vector<at::Tensor>{in(o.getInput())
                                                   .expand(vec(o.getType().getShape()))
                                                   .contiguous()};
              })
              .Case([&](ClampOp o) {
                return std::vector<at::Tensor>{at::hardtanh(
                    in(o.getInput()), o.getMin().convertToDouble(),
                    o.getMax().convertToDouble())};
              })
              .Case([&](ClampGradOp o) {
                return std::vector<at::Tensor>{at::hardtanh_backward(
                    in(o.getGrad()), in(o.getInput()),
                    o.getMin().convertToDouble(), o.getMax().convertToDouble())};
              })
              .Case([&](ReluGradOp o) {
                return std::vector<at::Tensor>{
                    at::threshold_backward(in(o.getGrad()), in(o.getInput()), 0)};
              })
              .Case([&](GeluGradOp o) {
                return std::vector<at::Tensor>{at::gelu_backward(
                    in(o.getGrad()), in(o.getInput()),
                    o.getApproximate() == GeluApproximation::Tanh ? "tanh"
                                                                  : "none")};
              })
              .Case([&](Conv2dGradInputOp o) {
                at::Tensor weight = in(o.getWeight());
                at::Tensor input = at::zeros(vec(o.getType().getShape()),
                                             weight.options());
                auto grads = at::convolution_backward(
                    in(o.getGrad()), input, weight, c10::nullopt,
                    vec(o.getStride()), vec(o.getPadding()), vec(o.getDilation()),
                    /*transposed=*/false, {0, 0}, o.getGroups(),
                    {true, false, false});
                return std::vector<at::Tensor>{std::get<0>(grads)};
              })
              .Case([&](Conv2dGradWeightOp o) {
                at::Tensor input = in(o.getInput());
                at::Tensor weight = at::zeros(vec(o.getType().getShape()),
                                              input.options());
                auto grads = at::convolution_backward(
                    in(o.getGrad()), input, weight, c10::nullopt,
                    vec(o.getStride()), vec(o.getPadding()), vec(o.getDilation()),
                    /*transposed=*/false, {0, 0}, o.getGroups(),
                    {false, true, false});
                return std::vector<at::Tensor>{std::get<1>(grads)};
              })
              .Case([&](BatchNormGradOp o) {
                at::Tensor input = in(o.getInput()), weight = in(o.getWeight());
                at::Tensor mean = in(o.getRunningMean()), var = in(o.getRunningVar());
                double eps = o.getEps().convertToDouble();
                at::Tensor saveMean, saveInvstd;
                if (o.getTraining()) {
                  auto stats = at::native_batch_norm(
                      input, weight, at::Tensor(), mean.clone(), var.clone(),
                      /*training=*/true, /*momentum=*/0.0, eps);
                  saveMean = std::get<1>(stats);
                  saveInvstd = std::get<2>(stats);
                }
                auto grads = at::native_batch_norm_backward(
                    in(o.getGrad()), input, weight, mean, var, saveMean,
                    saveInvstd, o.getTraining(), eps, {true, true, true});
                return std::vector<at::Tensor>{std::get<0>(grads),
                                               std::get<1>(grads),
                                               std::get<2>(grads)};
              })
              .Case([&](LayerNormGradOp o) {
                at::Tensor input = in(o.getInput());
                at::Tensor w = o.getWeight() ? in(o.getWeight()) : at::Tensor();
                at::Tensor b = o.getBias() ? in(o.getBias()) : at::Tensor();
                std::vector<int64_t> shape = vec(o.getNormalizedShape());
                auto forward = at::native_layer_norm(input, shape, w, b,
                                                     o.getEps().convertToDouble());
                auto grads = at::native_layer_norm_backward(
                    in(o.getGrad()), input, shape, std::get<1>(forward),
                    std::get<2>(forward), w, b, {true, true, true});
                at::Tensor zeros = at::zeros(shape, input.options());
                at::Tensor dw = std::get<1>(grads), db = std::get<2>(grads);
                return std::vector<at::Tensor>{std::get<0>(grads),
                                               dw.defined() ? dw : zeros,
                                               db.defined() ? db : zeros};
              })
              .Case([&](MaxPool2dGradOp o) {
                at::Tensor input = in(o.getInput());
                auto pooled = at::max_pool2d_with_indices(
                    input, vec(o.getKernelSize()), vec(o.getStride()),
                    vec(o.getPadding()), vec(o.getDilation()), o.getCeilMode());
                return std::vector<at::Tensor>{at::max_pool2d_with_indices_backward(
                    in(o.getGrad()), input, vec(o.getKernelSize()),
                    vec(o.getStride()), vec(o.getPadding()), vec(o.getDilation()),
                    o.getCeilMode(), std::get<1>(pooled))};
              })
              .Case([&](AvgPool2dGradOp o) {
                return std::vector<at::Tensor>{at::avg_pool2d_backward(
                    in(o.getGrad()), in(o.getInput()), vec(o.getKernelSize()),
                    vec(o.getStride()), vec(o.getPadding()), o.getCeilMode(),
                    o.getCountIncludePad(), c10::nullopt)};
              })
              .Case([&](AdaptiveAvgPool2dGradOp o) {
                return std::vector<at::Tensor>{at::_adaptive_avg_pool2d_backward(
                    in(o.getGrad()), in(o.getInput()))};
              })
              .Case([&](EmbeddingGradOp o) {
                return std::vector<at::Tensor>{at::embedding_dense_backward(
                    in(o.getGrad()), in(o.getIndices()),
                    static_cast<int64_t>(o.getNumEmbeddings()), /*padding_idx=*/-1,
                    /*scale_grad_by_freq=*/false)};
              })
              .Case([&](SoftmaxGradOp o) {
                at::Tensor g = in(o.getGrad());
                return std::vector<at::Tensor>{at::_softmax_backward_data(
                    g, in(o.getOutput()), static_cast<int64_t>(o.getDim()),
                    g.scalar_type())};
              })
              .Case([&](LogSoftmaxGradOp o) {
                at::Tensor g = in(o.getGrad());
                return std::vector<at::Tensor>{at::_log_softmax_backward_data(
                    g, in(o.getOutput()), static_cast<int64_t>(o.getDim()),
                    g.scalar_type())};
              })
              .Case([&](CrossEntropyGradOp o) {
                at::Tensor logits = in(o.getLogits()).detach().requires_grad_();
                at::Tensor loss = at::cross_entropy_loss(
                    logits, in(o.getTarget()), {}, reductionCode(o.getReduction()),
                    static_cast<int64_t>(o.getIgnoreIndex()),
                    o.getLabelSmoothing().convertToDouble());
                return std::vector<at::Tensor>{torch::autograd::grad(
                    {loss}, {logits}, {in(o.getGrad())})[0]};
              })
              .Case([&](AmaxGradOp o) {
                at::Tensor input = in(o.getInput()).detach().requires_grad_();
                at::Tensor y = at::amax(input, vec(o.getDims()), o.getKeepdim());
                return std::vector<at::Tensor>{
                    torch::autograd::grad({y}, {input}, {in(o.getGrad())})[0]};
              })
              .Case([&](SliceGradOp o) {
                return std::vector<at::Tensor>{at::slice_backward(
                    in(o.getGrad()), vec(o.getType().getShape()),
                    static_cast<int64_t>(o.getDim()),
                    static_cast<int64_t>(o.getStart()),
                    static_cast<int64_t>(o.getEnd()),
                    static_cast<int64_t>(o.getStep()))};
              })
              .Default([&](Operation *other) -> llvm::Expected<std::vector<at::Tensor>> {
                return error(other, "not supported by the reference interpreter");
              });
      if (!results)
        return results.takeError();
      for (auto [value, tensor] : llvm::zip(op.getResults(), *results))
        env[value] = tensor;
    }
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "@" + function.getName() + " has no return");
  };

  llvm::DenseMap<Value, at::Tensor> env;
  for (auto [arg, tensor] : llvm::zip(function.getArguments(), arguments))
    env[arg] = tensor;
  return runBlock(function.getBody().front(), env);
}

} // namespace accel::reference
