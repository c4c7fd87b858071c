//===- AccelOps.td - accel dialect ops ---------------------*- tablegen -*-===//
//
// Forward ops of the MLP, CNN and Transformer model families. Each op mirrors
// one aten op (or a fixed composition of them) and follows its semantics;
// the description says where accel's form is narrower than PyTorch's (for
// example, dimensions are always non-negative: the importer normalises them).
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELOPS_TD
#define ACCEL_DIALECT_ACCELOPS_TD

include "dialects/accel/AccelBase.td"
include "dialects/accel/AccelInterfaces.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

class Accel_Op<string mnemonic, list<Trait> traits = []> :
    Op<Accel_Dialect, mnemonic, traits>;

/// Forward ops state their vector-Jacobian product (AccelVjp.cpp).
defvar Accel_Differentiable = DeclareOpInterfaceMethods<DifferentiableOpInterface>;

/// Like upstream's InferTypeOpAdaptor, but the adaptor handed to
/// `inferReturnTypes` has every unset default-valued attribute filled in:
/// builders infer result types before the op exists, when attributes the
/// caller left out are still unset.
def Accel_InferTypeWithDefaults : TraitList<[
  DeclareOpInterfaceMethods<InferTypeOpInterface>,
  NativeOpTrait<"InferTypeOpAdaptor", [], [{
    static ::llvm::LogicalResult
    inferReturnTypes(::mlir::MLIRContext *context,
                     std::optional<::mlir::Location> location, Adaptor adaptor,
                     ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes);
  }], [{
    ::llvm::LogicalResult $cppClass::inferReturnTypes(
        ::mlir::MLIRContext *context, std::optional<::mlir::Location> location,
        ::mlir::ValueRange operands, ::mlir::DictionaryAttr attributes,
        ::mlir::OpaqueProperties properties, ::mlir::RegionRange regions,
        ::llvm::SmallVectorImpl<::mlir::Type> &inferredReturnTypes) {
      return $cppClass::inferReturnTypes(context, location,
          ::accel::detail::adaptorWithDefaults<$cppClass>(
              context, operands, attributes, properties, regions),
          inferredReturnTypes);
    }
  }]>
]>;

/// Ops whose result types are computed from operands and attributes by a
/// static `inferReturnTypes`. The verifier runs that same inference, so each
/// shape rule is written once and reports its own message.
class Accel_InferredOp<string mnemonic, list<Trait> traits = []> :
    Accel_Op<mnemonic,
             !listconcat([Pure, Accel_InferTypeWithDefaults], traits)> {
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
  let extraClassDefinition = [{
    ::llvm::LogicalResult $cppClass::verify() {
      return ::accel::detail::verifyByInference(*this);
    }
  }];
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

class Accel_UnaryOp<string mnemonic, string formula, list<Trait> traits = []> :
    Accel_Op<mnemonic, !listconcat([Pure, SameOperandsAndResultType,
                                    Accel_Differentiable], traits)> {
  let summary = "elementwise " # formula;
  let description = [{
    Applies `}] # formula # [{` to every element; the result has the type of
    the operand.

    ```mlir
    %y = accel.}] # mnemonic # [{ %x : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Accel_ReluOp : Accel_UnaryOp<"relu", "max(x, 0)"> {
  let hasFolder = 1;
}
def Accel_TanhOp : Accel_UnaryOp<"tanh", "tanh(x)">;
def Accel_SigmoidOp : Accel_UnaryOp<"sigmoid", "1 / (1 + exp(-x))">;
def Accel_ExpOp : Accel_UnaryOp<"exp", "exp(x)">;
def Accel_LogOp : Accel_UnaryOp<"log", "log(x)">;
def Accel_SqrtOp : Accel_UnaryOp<"sqrt", "sqrt(x)">;
def Accel_RsqrtOp : Accel_UnaryOp<"rsqrt", "1 / sqrt(x)">;
def Accel_NegOp : Accel_UnaryOp<"neg", "-x"> {
  let hasFolder = 1;
}

def Accel_GeluOp : Accel_Op<"gelu", [Pure, SameOperandsAndResultType,
                                     Accel_Differentiable]> {
  let summary = "elementwise GELU (torch.nn.functional.gelu)";
  let description = [{
    `approximate = none` computes `x * Φ(x)` with the exact normal CDF
    (`0.5 * x * (1 + erf(x / sqrt(2)))`); `approximate = tanh` uses
    `0.5 * x * (1 + tanh(sqrt(2 / π) * (x + 0.044715 x³)))`, as PyTorch does.

    ```mlir
    %y = accel.gelu %x {approximate = #accel<gelu_approximation tanh>} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input,
    DefaultValuedAttr<Accel_GeluApproximationAttr,
                      "::accel::GeluApproximation::None">:$approximate);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
}

def Accel_ClampOp : Accel_Op<"clamp", [Pure, SameOperandsAndResultType,
                                       Accel_Differentiable]> {
  let summary = "elementwise clamp to [min, max] (torch.nn.functional.hardtanh)";
  let description = [{
    `min(max(x, min), max)`, with NaN passed through, as `hardtanh` (and
    `relu6`, its `[0, 6]` case) computes it. The importer also builds
    `hardsigmoid` and `hardswish` from it, in ATen's order of operations.
    Its gradient passes where `min < x < max` (`aten::hardtanh_backward`).

    ```mlir
    %y = accel.clamp %x {min = 0.0 : f64, max = 6.0 : f64} : tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, F64Attr:$min, F64Attr:$max);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input)";
  let hasVerifier = 1;
}

def Accel_CastOp : Accel_Op<"cast", [Pure, SameOperandsAndResultShape,
                                     Accel_Differentiable]> {
  let summary = "element type conversion (Tensor.to(dtype))";
  let description = [{
    Converts every element to the result's element type as `Tensor.to`
    does on the CPU (measured with torch 2.15): floats round to nearest
    even; values beyond the target's range become infinity, except in
    `f8E4M3FN`, which has no infinity and saturates every overflow and
    infinity to +-448; NaN stays NaN. Floats convert to `i64` by truncation
    towards zero and to `i1` by comparison with zero.

    Casting to the operand's own type folds away, and a round trip through a
    type that represents every value of the original exactly (for example
    `bf16 -> f32 -> bf16`) folds to the original value.

    ```mlir
    %h = accel.cast %x : tensor<4x8xf32> -> tensor<4x8xbf16>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input);
  let results = (outs Accel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasFolder = 1;
}

class Accel_BinaryOp<string mnemonic, string formula, list<Trait> traits = []> :
    Accel_InferredOp<mnemonic, !listconcat([Accel_Differentiable], traits)> {
  let summary = "elementwise " # formula # " with broadcasting";
  let description = [{
    Computes `}] # formula # [{` elementwise. The operands share an element
    type and their shapes broadcast as in PyTorch (align trailing dimensions;
    a dimension of size 1 stretches), which gives the result shape.

    One exception mirrors PyTorch's reduced-precision kernels: a rank-0
    `f32` operand (a scalar such as `1 / sqrt(d)`) may meet a `bf16`, `f16`
    or FP8 operand. The scalar keeps its full precision, the arithmetic is
    done in `f32`, and the result has the other operand's type, rounded
    once (`x_bf16 / 5.656854` divides by the float, not by its bf16
    rounding 5.65625).

    ```mlir
    %z = accel.}] # mnemonic # [{ %x, %b : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$lhs, Accel_FloatTensor:$rhs);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AddOp : Accel_BinaryOp<"add", "lhs + rhs", [Commutative]>;
def Accel_SubOp : Accel_BinaryOp<"sub", "lhs - rhs">;
def Accel_MulOp : Accel_BinaryOp<"mul", "lhs * rhs", [Commutative]> {
  // x * 1 is x exactly in IEEE arithmetic (when the 1 does not broadcast x
  // to a larger shape).
  let hasFolder = 1;
}
def Accel_DivOp : Accel_BinaryOp<"div", "lhs / rhs">;

def Accel_MaskedFillOp : Accel_InferredOp<"masked_fill", [Accel_Differentiable]> {
  let summary = "replace masked elements by a constant (Tensor.masked_fill)";
  let description = [{
    Where `mask` is true the result holds `value`, elsewhere `input`. Input
    and mask broadcast against each other, as the out-of-place
    `Tensor.masked_fill` does; the result has the broadcast shape and the
    input's element type. Causal attention uses it to set future positions to
    `-inf` before the softmax.

    ```mlir
    %s = accel.masked_fill %scores, %causal {value = 0xFFF0000000000000 : f64}
        : (tensor<2x4x16x16xf32>, tensor<16x16xi1>) -> tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, Accel_MaskTensor:$mask,
                       F64Attr:$value);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_DropoutOp : Accel_InferredOp<"dropout", [Accel_Differentiable]> {
  let summary = "inverted dropout with a counter-based random mask";
  let description = [{
    Zeroes each element with probability `p` and scales the others by
    `1 / (1 - p)`, as `torch.nn.functional.dropout(training=True)` does. The
    mask is a pure function of `seed` (a scalar the training step derives from
    the step number and the rank), `stream` and the element's position, so
    the same mask is recomputed for the backward pass and the op has no side
    effects. Dropout ops that share a seed take distinct `stream` numbers so
    that their masks are independent. `p = 0` folds to the input;
    inference-mode dropout is not imported at all.

    On one rank of a data-parallel step (`accel-shard`), the input is rank
    r's slice of the global batch, elements r × `rank_stride` onwards of
    the global tensor; the mask is that slice of the global tensor's mask,
    so N ranks drop exactly the elements one rank would. `rank_stride = 0`
    (the default) is a whole tensor.

    `rescale = false` keeps the kept elements as they are: applied to ones,
    that is `bernoulli_(1 - p)`, the per-sample mask of torchvision's
    stochastic depth. Evaluation (accel-run's inference) replaces the mask
    by its expectation: the input unchanged when rescaling, else scaled by
    `1 - p`.

    ```mlir
    %y = accel.dropout %x, %seed {p = 1.000000e-01 : f64, stream = 2 : i64}
        : (tensor<128x1024xf32>, tensor<i64>) -> tensor<128x1024xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, Accel_SeedTensor:$seed,
                       F64Attr:$p, DefaultValuedAttr<I64Attr, "0">:$stream,
                       DefaultValuedAttr<I64Attr, "0">:$rank_stride,
                       DefaultValuedAttr<BoolAttr, "true">:$rescale);
  let results = (outs Accel_FloatTensor:$result);
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

def Accel_MatmulOp : Accel_InferredOp<"matmul", [Accel_Differentiable]> {
  let summary = "(batched) matrix product (torch.matmul on rank >= 2)";
  let description = [{
    Multiplies the trailing two dimensions, `[..., M, K] x [..., K, N] ->
    [..., M, N]`; leading (batch) dimensions broadcast as in `torch.matmul`.
    Both operands have rank at least 2 (the importer turns 1-d operands into
    matrices) and the same element type.

    ```mlir
    %att = accel.matmul %q, %kt
        : (tensor<2x4x16x8xf32>, tensor<2x4x8x16xf32>) -> tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$lhs, Accel_FloatTensor:$rhs);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_LinearOp : Accel_InferredOp<"linear", [Accel_Differentiable]> {
  let summary = "affine layer y = x Wᵀ + b (torch.nn.functional.linear)";
  let description = [{
    `input` is `[..., in]`, `weight` is `[out, in]` as `nn.Linear` stores it,
    and the optional `bias` is `[out]`; the result is `[..., out]`. All
    operands share an element type.

    ```mlir
    %y = accel.linear %x, %w, %b
        : (tensor<128x784xf32>, tensor<1024x784xf32>, tensor<1024xf32>) -> tensor<128x1024xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, Accel_FloatTensor:$weight,
                       Optional<Accel_FloatTensor>:$bias);
  let results = (outs Accel_FloatTensor:$result);
}

//===----------------------------------------------------------------------===//
// Convolution, normalisation, pooling
//===----------------------------------------------------------------------===//

def Accel_Conv2dOp : Accel_InferredOp<"conv2d", [Accel_Differentiable]> {
  let summary = "2-d convolution (torch.nn.functional.conv2d)";
  let description = [{
    `input` is `[N, C, H, W]`, `weight` is `[O, C / groups, kH, kW]`, the
    optional `bias` is `[O]`. `stride` and `dilation` are positive, `padding`
    is non-negative (zeros on both sides), `groups` divides both `C` and `O`.
    The output is `[N, O, Ho, Wo]` with
    `Ho = (H + 2 padding - dilation (kH - 1) - 1) / stride + 1` (floor), which
    must be at least 1.

    ```mlir
    %y = accel.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>}
        : (tensor<8x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<8x64x112x112xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Accel_FloatTensor:$weight,
    Optional<Accel_FloatTensor>:$bias,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$dilation,
    DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_BatchNormOp : Accel_InferredOp<"batch_norm", [Accel_Differentiable]> {
  let summary = "batch normalisation with explicit running statistics";
  let description = [{
    Normalises `input` (`[N, C, ...]`) per channel and applies the affine
    `weight` and `bias` (`[C]`), as `torch.nn.functional.batch_norm`.

    With `training`, the statistics are those of the batch (biased variance
    for normalising) and the op also returns the updated running statistics,
    `(1 - momentum) * running + momentum * batch` with the unbiased batch
    variance, as PyTorch updates them; there must be more than one value per
    channel. Without `training`, the running statistics normalise and are
    returned unchanged (a canonicalisation forwards them), so the op has the
    same results in both modes and the state update is always explicit.

    ```mlir
    %y, %mean, %var = accel.batch_norm %x, %gamma, %beta, %rm, %rv
        {training, eps = 1.000000e-05 : f64, momentum = 1.000000e-01 : f64}
        : (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Accel_FloatTensor:$weight,
    Accel_FloatTensor:$bias, Accel_FloatTensor:$running_mean,
    Accel_FloatTensor:$running_var,
    DefaultValuedAttr<F64Attr, "1e-5">:$eps,
    DefaultValuedAttr<F64Attr, "0.1">:$momentum,
    UnitAttr:$training);
  let results = (outs Accel_FloatTensor:$result, Accel_FloatTensor:$new_running_mean,
                      Accel_FloatTensor:$new_running_var);
  let hasCanonicalizer = 1;
}

def Accel_LayerNormOp : Accel_InferredOp<"layer_norm", [AttrSizedOperandSegments,
                                                        Accel_Differentiable]> {
  let summary = "layer normalisation over trailing dimensions";
  let description = [{
    Normalises over the trailing dimensions given by `normalized_shape` (which
    must equal the input's trailing dimensions) with the biased variance and
    `eps`, then applies the optional elementwise `weight` and `bias` (each of
    shape `normalized_shape`), as `torch.nn.functional.layer_norm`.

    ```mlir
    %y = accel.layer_norm %x weight(%g) bias(%b) {normalized_shape = array<i64: 64>}
        : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Optional<Accel_FloatTensor>:$weight,
    Optional<Accel_FloatTensor>:$bias, DenseI64ArrayAttr:$normalized_shape,
    DefaultValuedAttr<F64Attr, "1e-5">:$eps);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = [{
    $input (`weight` `(` $weight^ `)`)? (`bias` `(` $bias^ `)`)? attr-dict `:`
    functional-type(operands, results)
  }];
}

def Accel_MaxPool2dOp : Accel_InferredOp<"max_pool2d", [Accel_Differentiable]> {
  let summary = "2-d max pooling (torch.nn.functional.max_pool2d)";
  let description = [{
    Pools the last two dimensions of a `[N, C, H, W]` or `[C, H, W]` input.
    Padding is implicit `-inf` and at most half the kernel size; the output
    size follows PyTorch, including `ceil_mode` (a last window that would
    start in the padding is dropped).

    ```mlir
    %y = accel.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>,
                              padding = array<i64: 1, 1>}
        : (tensor<8x64x112x112xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Accel_Pair:$kernel_size, Accel_Pair:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$dilation,
    UnitAttr:$ceil_mode);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AvgPool2dOp : Accel_InferredOp<"avg_pool2d", [Accel_Differentiable]> {
  let summary = "2-d average pooling (torch.nn.functional.avg_pool2d)";
  let description = [{
    Averages windows over the last two dimensions of a `[N, C, H, W]` or
    `[C, H, W]` input. Padding is zeros, at most half the kernel size; with
    `count_include_pad` (PyTorch's default) padded zeros count in the divisor.
    Output sizes as for `max_pool2d` with dilation 1.

    ```mlir
    %y = accel.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>,
                              count_include_pad}
        : (tensor<8x64x56x56xf32>) -> tensor<8x64x28x28xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Accel_Pair:$kernel_size, Accel_Pair:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    UnitAttr:$ceil_mode, UnitAttr:$count_include_pad);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AdaptiveAvgPool2dOp : Accel_InferredOp<"adaptive_avg_pool2d", [Accel_Differentiable]> {
  let summary = "2-d adaptive average pooling to a fixed output size";
  let description = [{
    Averages the last two dimensions of a `[N, C, H, W]` or `[C, H, W]` input
    into `output_size` bins; bin `i` of `n` over a dimension of size `L`
    covers `[floor(i L / n), ceil((i + 1) L / n))`, as PyTorch computes it.

    ```mlir
    %y = accel.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>}
        : (tensor<8x512x7x7xf32>) -> tensor<8x512x1x1xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, Accel_Pair:$output_size);
  let results = (outs Accel_FloatTensor:$result);
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

def Accel_ReshapeOp : Accel_Op<"reshape", [Pure, Accel_Differentiable]> {
  let summary = "view a tensor with another static shape (Tensor.view/reshape)";
  let description = [{
    Reinterprets the elements, in row-major order, with the result's shape;
    the element count and type must not change. Reshaping to the operand's
    type folds away, and a reshape of a reshape becomes one reshape.

    ```mlir
    %y = accel.reshape %x : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input);
  let results = (outs Accel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Accel_FlattenOp : Accel_InferredOp<"flatten", [Accel_Differentiable]> {
  let summary = "merge a range of dimensions (torch.flatten)";
  let description = [{
    Merges dimensions `start_dim` to `end_dim` (inclusive, non-negative,
    `start_dim <= end_dim < rank`) into one. A range of one dimension folds to
    the input.

    ```mlir
    %y = accel.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64}
        : (tensor<8x512x1x1xf32>) -> tensor<8x512xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input, I64Attr:$start_dim, I64Attr:$end_dim);
  let results = (outs Accel_AnyTensor:$result);
  let hasFolder = 1;
}

def Accel_TransposeOp : Accel_InferredOp<"transpose", [Accel_Differentiable]> {
  let summary = "swap two dimensions (Tensor.transpose)";
  let description = [{
    Swaps dimensions `dim0` and `dim1` (non-negative, below the rank).
    Swapping a dimension with itself, or undoing a transpose, folds away.

    ```mlir
    %kt = accel.transpose %k {dim0 = 2 : i64, dim1 = 3 : i64}
        : (tensor<2x4x16x8xf32>) -> tensor<2x4x8x16xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input, I64Attr:$dim0, I64Attr:$dim1);
  let results = (outs Accel_AnyTensor:$result);
  let hasFolder = 1;
}

def Accel_PermuteOp : Accel_InferredOp<"permute", [Accel_Differentiable]> {
  let summary = "reorder dimensions (Tensor.permute)";
  let description = [{
    Result dimension `i` is input dimension `permutation[i]`; `permutation`
    is a permutation of `[0, rank)`. The identity folds away and a permute of
    a permute composes into one.

    ```mlir
    %h = accel.permute %x {permutation = array<i64: 0, 2, 1, 3>}
        : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input, DenseI64ArrayAttr:$permutation);
  let results = (outs Accel_AnyTensor:$result);
  let hasFolder = 1;
}

def Accel_SliceOp : Accel_InferredOp<"slice", [Accel_Differentiable]> {
  let summary = "strided slice along one dimension (aten::slice)";
  let description = [{
    Takes indices `start, start + step, ...` below `end` along `dim`, with
    `0 <= start <= end <= size` and `step >= 1` (the importer clamps
    PyTorch's out-of-range bounds). The full slice with step 1 folds away.

    ```mlir
    %q = accel.slice %qkv {dim = 2 : i64, start = 0 : i64, end = 64 : i64, step = 1 : i64}
        : (tensor<2x16x192xf32>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs Accel_AnyTensor:$result);
  let hasFolder = 1;
}

def Accel_ConcatOp : Accel_InferredOp<"concat", [Accel_Differentiable]> {
  let summary = "concatenate along one dimension (torch.cat)";
  let description = [{
    Joins one or more tensors of equal rank and element type along `dim`;
    every other dimension must match. A single operand folds away.

    ```mlir
    %y = accel.concat %a, %b {dim = 1 : i64}
        : (tensor<2x3xf32>, tensor<2x5xf32>) -> tensor<2x8xf32>
    ```
  }];
  let arguments = (ins Variadic<Accel_AnyTensor>:$inputs, I64Attr:$dim);
  let results = (outs Accel_AnyTensor:$result);
  let hasFolder = 1;
}

def Accel_EmbeddingOp : Accel_InferredOp<"embedding", [Accel_Differentiable]> {
  let summary = "row lookup in an embedding table (torch.nn.functional.embedding)";
  let description = [{
    `weight` is `[num_embeddings, dim]`, `indices` are `i64` of any shape; the
    result is `indices.shape + [dim]`. Indices out of range are an error at run
    time, as in PyTorch.

    ```mlir
    %e = accel.embedding %wte, %tokens
        : (tensor<256x64xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$weight, Accel_IndexTensor:$indices);
  let results = (outs Accel_FloatTensor:$result);
}

//===----------------------------------------------------------------------===//
// Reductions, softmax and losses
//===----------------------------------------------------------------------===//

class Accel_ReduceOp<string mnemonic, string what> :
    Accel_InferredOp<mnemonic, [Accel_Differentiable]> {
  let summary = what # " over dimensions";
  let description = [{
    Reduces `input` over `dims` (at least one, distinct, non-negative, below
    the rank) with the }] # what # [{. With `keepdim` the reduced dimensions
    stay with size 1, otherwise they are removed.

    ```mlir
    %s = accel.}] # mnemonic # [{ %x {dims = array<i64: 1>} : (tensor<8x16xf32>) -> tensor<8xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, DenseI64ArrayAttr:$dims,
                       UnitAttr:$keepdim);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_SumOp : Accel_ReduceOp<"sum", "sum (torch.sum)">;
def Accel_MeanOp : Accel_ReduceOp<"mean", "arithmetic mean (torch.mean)">;
def Accel_AmaxOp : Accel_ReduceOp<"amax", "maximum (torch.amax)">;

class Accel_SoftmaxLikeOp<string mnemonic, string what> :
    Accel_InferredOp<mnemonic, [Accel_Differentiable]> {
  let summary = what # " along one dimension";
  let description = [{
    Computes the }] # what # [{ along `dim` (non-negative, below the rank)
    with the maximum subtracted first for stability; the result has the
    input's type.

    ```mlir
    %p = accel.}] # mnemonic # [{ %x {dim = 1 : i64} : (tensor<8x10xf32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, I64Attr:$dim);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_SoftmaxOp : Accel_SoftmaxLikeOp<"softmax", "softmax (torch.softmax)">;
def Accel_LogSoftmaxOp :
    Accel_SoftmaxLikeOp<"log_softmax", "log-softmax (torch.log_softmax)">;

def Accel_CrossEntropyOp : Accel_InferredOp<"cross_entropy", [Accel_Differentiable]> {
  let summary = "cross-entropy of logits and class indices";
  let description = [{
    `torch.nn.functional.cross_entropy(logits, target, ignore_index,
    reduction, label_smoothing)` for `logits` `[N, C]` and `i64` `target`
    `[N]`. Samples whose target equals `ignore_index` contribute nothing and
    `mean` divides by the number of the others, as PyTorch does;
    `label_smoothing` (in `[0, 1]`) mixes the one-hot target with the uniform
    distribution. The result is a scalar for `mean` and `sum`, `[N]` for
    `none`, with the logits' element type.

    ```mlir
    %loss = accel.cross_entropy %logits, %y : (tensor<128x10xf32>, tensor<128xi64>) -> tensor<f32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$logits, Accel_IndexTensor:$target,
    DefaultValuedAttr<Accel_ReductionAttr, "::accel::Reduction::Mean">:$reduction,
    DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
    DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_MseLossOp : Accel_InferredOp<"mse_loss", [Accel_Differentiable]> {
  let summary = "mean squared error (torch.nn.functional.mse_loss)";
  let description = [{
    `(input - target)²` elementwise, reduced by `reduction`; `input` and
    `target` have the same type. The result is a scalar for `mean` and `sum`,
    the input's type for `none`.

    ```mlir
    %loss = accel.mse_loss %pred, %t : (tensor<32x1xf32>, tensor<32x1xf32>) -> tensor<f32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$input, Accel_FloatTensor:$target,
    DefaultValuedAttr<Accel_ReductionAttr, "::accel::Reduction::Mean">:$reduction);
  let results = (outs Accel_FloatTensor:$result);
}

include "dialects/accel/AccelGradOps.td"
include "dialects/accel/AccelFusionOps.td"
include "dialects/accel/AccelPrecisionOps.td"
include "dialects/accel/AccelCollectiveOps.td"
include "dialects/accel/AccelFloat8Ops.td"

#endif // ACCEL_DIALECT_ACCELOPS_TD
