//===- AccelBase.td - accel dialect, types and attributes --*- tablegen -*-===//
//
// The accel dialect: the forward ops of the model families accel trains, on
// builtin statically shaped tensors.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELBASE_TD
#define ACCEL_DIALECT_ACCELBASE_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/OpBase.td"

def Accel_Dialect : Dialect {
  let name = "accel";
  let cppNamespace = "::accel";
  let summary = "Forward ops of deep-learning models, for training.";
  let description = [{
    The accel dialect holds the forward computation of a model imported from
    PyTorch: dense layers, convolutions, normalisation, pooling, attention
    building blocks and losses. Every op works on builtin `RankedTensorType`s
    with static shapes whose element type is one of `f32`, `bf16`, `f16`,
    `f8E4M3FN`, `f8E5M2` (values), `i64` (indices) or `i1` (masks) — and
    `f8E8M0FNU` for the shared scales of MX-quantised data; every op
    infers its result type and verifies its operands, following PyTorch's
    semantics for the aten op it mirrors.

    A model's forward function takes four kinds of arguments, each marked
    with one discardable argument attribute whose value is a name matching
    the tensor names of the safetensors files accel reads and writes:

    * `accel.param = "<module path>"`: a trainable parameter, named as
      PyTorch's `named_parameters()` does (e.g. `"0.weight"`).
    * `accel.buffer = "<module path>"`: persistent state that is not trained,
      named as `named_buffers()` does (e.g. `"bn1.running_mean"`).
    * `accel.input = "<name>"`: a batch input, named after the argument of
      the TorchScript method (e.g. `"x"`).
    * `accel.seed = "<name>"`: the step's random seed, a `tensor<i64>` from
      which dropout derives its masks; the training step supplies it (from
      the step number and the rank), not the dataset.

    A training step (`accel-optimizer`) adds three more:

    * `accel.opt_state = "<param>.<slot>"`: optimizer state of a parameter
      (`fc.weight.exp_avg`, `fc.weight.momentum_buffer`), named as it is
      checkpointed.
    * `accel.step = "step"`: the 1-based number of the step being taken, a
      `tensor<i64>`.
    * `accel.lr = "lr"`: the learning rate of this step, a `tensor<f32>`.
    * `accel.loss_scale = "loss_scale"`: with loss scaling, the factor the
      loss is multiplied by before the backward pass, a `tensor<f32>` (the
      gradient function's seed; `accel-autodiff` with `loss-scale`).

    FP8 training with delayed scaling (`accel-fp8 recipe=delayed`) adds:

    * `accel.fp8_state = "<layer>.fp8.<operand>.<amax_history|scale>"`:
      an operand's amax history (`tensor<Hxf32>`) or scale (`tensor<f32>`),
      state that the forward or backward pass updates each step, saved in
      checkpoints. `accel.init = 1.0 : f32` on such an argument is the
      value its elements start at (0 without it).

    A result may carry `accel.buffer = "<module path>"` to say that it is the
    new value of that buffer (a BatchNorm running statistic, say),
    `accel.grad = "<module path>"` to say that it is the gradient of the loss
    with respect to that parameter (as `accel-autodiff` returns them), or
    `accel.param` / `accel.opt_state` / `accel.fp8_state` for the updated
    value of that state
    (as a training step returns them), or `accel.metric = "<name>"` for a
    value the runner reports each step (`"skipped"`: a `tensor<i1>` that is
    true when dynamic loss scaling discarded the step's update).

    ```mlir
    func.func @forward(%w: tensor<10x784xf32> {accel.param = "0.weight"},
                       %b: tensor<10xf32> {accel.param = "0.bias"},
                       %x: tensor<128x784xf32> {accel.input = "x"},
                       %y: tensor<128xi64> {accel.input = "y"}) -> tensor<f32> {
      %logits = accel.linear %x, %w, %b
          : (tensor<128x784xf32>, tensor<10x784xf32>, tensor<10xf32>) -> tensor<128x10xf32>
      %loss = accel.cross_entropy %logits, %y
          : (tensor<128x10xf32>, tensor<128xi64>) -> tensor<f32>
      return %loss : tensor<f32>
    }
    ```
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let extraClassDeclaration = [{
    /// Argument attribute naming a trainable parameter.
    static constexpr ::llvm::StringLiteral kParamAttrName = "accel.param";
    /// Argument attribute naming a persistent, non-trainable buffer.
    static constexpr ::llvm::StringLiteral kBufferAttrName = "accel.buffer";
    /// Argument attribute naming a batch input.
    static constexpr ::llvm::StringLiteral kInputAttrName = "accel.input";
    /// Result attribute naming the parameter a gradient belongs to.
    static constexpr ::llvm::StringLiteral kGradAttrName = "accel.grad";
    /// Argument and result attribute naming a piece of optimizer state.
    static constexpr ::llvm::StringLiteral kOptStateAttrName = "accel.opt_state";
    /// Argument attribute marking the 1-based step number (tensor<i64>).
    static constexpr ::llvm::StringLiteral kStepAttrName = "accel.step";
    /// Argument attribute marking the learning rate (tensor<f32>).
    static constexpr ::llvm::StringLiteral kLrAttrName = "accel.lr";
    /// Argument attribute marking the step's random seed (tensor<i64>).
    static constexpr ::llvm::StringLiteral kSeedAttrName = "accel.seed";
    /// Argument attribute marking the loss scale that seeds the backward
    /// pass (tensor<f32>; accel-autodiff with loss-scale).
    static constexpr ::llvm::StringLiteral kLossScaleAttrName = "accel.loss_scale";
    /// Result attribute naming a value the runner reports each step
    /// ("skipped": whether dynamic loss scaling skipped the update).
    static constexpr ::llvm::StringLiteral kMetricAttrName = "accel.metric";
    /// Argument and result attribute naming a piece of FP8 scaling state
    /// (delayed scaling's amax histories and scales; accel-fp8).
    static constexpr ::llvm::StringLiteral kFp8StateAttrName = "accel.fp8_state";
    /// Argument attribute: the value every element of an `accel.fp8_state`
    /// argument starts at (a float; 0 when absent).
    static constexpr ::llvm::StringLiteral kInitAttrName = "accel.init";
    /// Argument attribute of a sharded `accel.opt_state` (ZeRO, FSDP) or
    /// `accel.param` (FSDP) argument: the whole tensor's shape (an i64
    /// array); the argument is this rank's 1-D shard of it, as
    /// `accel.local_shard` splits it over the function's ranks
    /// (`accel.ranks`, or `accel.data_parallel`'s).
    static constexpr ::llvm::StringLiteral kShardOfAttrName = "accel.shard_of";
    /// Function attribute of a forward that accel-shard split over
    /// data-parallel ranks: a dictionary (strategy, ranks, global_batch,
    /// loss = "mean" | "sum", bucket_bytes, first_bucket_bytes).
    static constexpr ::llvm::StringLiteral kDataParallelAttrName =
        "accel.data_parallel";
  }];
}

//===----------------------------------------------------------------------===//
// Type constraints
//===----------------------------------------------------------------------===//

defvar Accel_FloatTypes = [F32, BF16, F16, F8E4M3FN, F8E5M2];

def Accel_FloatTensor : StaticShapeTensorOf<Accel_FloatTypes>;
def Accel_IndexTensor : StaticShapeTensorOf<[I64]>;
def Accel_MaskTensor : StaticShapeTensorOf<[I1]>;
def Accel_AnyTensor : StaticShapeTensorOf<!listconcat(Accel_FloatTypes, [I64, I1])>;
def Accel_SeedTensor : 0DTensorOf<[I64]>;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Accel_Reduction : I32EnumAttr<"Reduction",
    "how a loss reduces over the batch (PyTorch's `reduction` argument)", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Mean", 1, "mean">,
      I32EnumAttrCase<"Sum", 2, "sum">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_ReductionAttr : EnumAttr<Accel_Dialect, Accel_Reduction, "reduction">;

def Accel_GeluApproximation : I32EnumAttr<"GeluApproximation",
    "GELU formula (PyTorch's `approximate` argument)", [
      I32EnumAttrCase<"None", 0, "none">,
      I32EnumAttrCase<"Tanh", 1, "tanh">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_GeluApproximationAttr :
    EnumAttr<Accel_Dialect, Accel_GeluApproximation, "gelu_approximation">;

//===----------------------------------------------------------------------===//
// Attribute constraints
//===----------------------------------------------------------------------===//

/// A pair of sizes along (height, width), as PyTorch's 2-d ops take them.
def Accel_Pair : ConfinedAttr<DenseI64ArrayAttr, [DenseArrayCount<2>]>;

#endif // ACCEL_DIALECT_ACCELBASE_TD
