//===- AccelGradOps.td - accel gradient ops ----------------*- tablegen -*-===//
//
// Ops that vector-Jacobian products use where a composition of forward ops
// would be slow or awkward; each mirrors an aten backward op (named in its
// summary), so libraries' backward kernels implement them directly.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELGRADOPS_TD
#define ACCEL_DIALECT_ACCELGRADOPS_TD

def Accel_BroadcastToOp : Accel_Op<"broadcast_to", [Pure,
    Accel_Differentiable]> {
  let summary = "broadcast to a larger shape (Tensor.expand)";
  let description = [{
    Repeats `input` along the dimensions where the result is larger, under
    PyTorch's broadcasting rules: the result's shape is what `input`
    broadcasts to, with the same element type. The VJPs of reductions use
    it, and the importer for `expand` and `broadcast_tensors`; its own VJP
    sums the gradient back over the repeated dimensions.

    ```mlir
    %g = accel.broadcast_to %s : tensor<8x1xf32> -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Accel_AnyTensor:$input);
  let results = (outs Accel_AnyTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
  let hasFolder = 1;
}

def Accel_ReluGradOp : Accel_InferredOp<"relu_grad"> {
  let summary = "gradient of relu (aten::threshold_backward)";
  let description = [{
    `grad` where `input > 0`, zero elsewhere. `grad` and `input` have one type.

    ```mlir
    %dx = accel.relu_grad %g, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_FloatTensor:$input);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_GeluGradOp : Accel_InferredOp<"gelu_grad"> {
  let summary = "gradient of gelu (aten::gelu_backward)";
  let description = [{
    `grad * gelu'(input)` for the same `approximate` formula as the forward.

    ```mlir
    %dx = accel.gelu_grad %g, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
    DefaultValuedAttr<Accel_GeluApproximationAttr,
                      "::accel::GeluApproximation::None">:$approximate);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_ClampGradOp : Accel_InferredOp<"clamp_grad"> {
  let summary = "gradient of clamp (aten::hardtanh_backward)";
  let description = [{
    `grad` where `min < input < max`, zero elsewhere, so a NaN input gets
    no gradient, as in ATen's vectorised loop (its scalar loop, which only
    a tensor's last few elements take, passes it).

    ```mlir
    %dx = accel.clamp_grad %g, %x {min = 0.0 : f64, max = 6.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
                       F64Attr:$min, F64Attr:$max);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_Conv2dGradInputOp : Accel_Op<"conv2d_grad_input", [Pure]> {
  let summary = "gradient of conv2d's input (aten::convolution_backward)";
  let description = [{
    The transposed convolution of `grad` (`[N, O, Ho, Wo]`) with `weight`.
    The result type is the forward input's, which its size alone does not
    determine (the forward output size rounds down), so it is explicit; the
    verifier checks that conv2d of that input type gives `grad`'s type.

    ```mlir
    %dx = accel.conv2d_grad_input %g, %w {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>}
        : (tensor<8x64x112x112xf32>, tensor<64x3x7x7xf32>) -> tensor<8x3x224x224xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$weight,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$dilation,
    DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Accel_Conv2dGradWeightOp : Accel_Op<"conv2d_grad_weight", [Pure]> {
  let summary = "gradient of conv2d's weight (aten::convolution_backward)";
  let description = [{
    The correlation of the forward `input` with `grad`; the result has the
    forward weight's type (explicit), and conv2d of `input` with that weight
    type must give `grad`'s type.

    ```mlir
    %dw = accel.conv2d_grad_weight %g, %x {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>}
        : (tensor<8x64x112x112xf32>, tensor<8x3x224x224xf32>) -> tensor<64x3x7x7xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$dilation,
    DefaultValuedAttr<I64Attr, "1">:$groups);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

def Accel_BatchNormGradOp : Accel_InferredOp<"batch_norm_grad"> {
  let summary = "gradient of batch_norm (aten::native_batch_norm_backward)";
  let description = [{
    Gradients of the normalised output with respect to `input`, `weight`
    and `bias`. With `training` the batch statistics are recomputed from
    `input` (and the input gradient includes their dependence on it);
    without, the running statistics are constants.

    ```mlir
    %dx, %dw, %db = accel.batch_norm_grad %g, %x, %w, %rm, %rv {training}
        : (tensor<8x64x56x56xf32>, tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
        -> (tensor<8x64x56x56xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input, Accel_FloatTensor:$weight,
    Accel_FloatTensor:$running_mean, Accel_FloatTensor:$running_var,
    DefaultValuedAttr<F64Attr, "1e-5">:$eps, UnitAttr:$training);
  let results = (outs Accel_FloatTensor:$grad_input,
                      Accel_FloatTensor:$grad_weight,
                      Accel_FloatTensor:$grad_bias);
}

def Accel_LayerNormGradOp : Accel_InferredOp<"layer_norm_grad",
                                             [AttrSizedOperandSegments]> {
  let summary = "gradient of layer_norm (aten::native_layer_norm_backward)";
  let description = [{
    Gradients with respect to `input`, `weight` and `bias`, the latter two
    of shape `normalized_shape` (computed but unused when the forward had
    no weight or bias).

    ```mlir
    %dx, %dw, %db = accel.layer_norm_grad %g, %x weight(%w) {normalized_shape = array<i64: 64>}
        : (tensor<2x16x64xf32>, tensor<2x16x64xf32>, tensor<64xf32>)
        -> (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>)
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
    Optional<Accel_FloatTensor>:$weight, Optional<Accel_FloatTensor>:$bias,
    DenseI64ArrayAttr:$normalized_shape, DefaultValuedAttr<F64Attr, "1e-5">:$eps);
  let results = (outs Accel_FloatTensor:$grad_input,
                      Accel_FloatTensor:$grad_weight,
                      Accel_FloatTensor:$grad_bias);
  let assemblyFormat = [{
    $grad `,` $input (`weight` `(` $weight^ `)`)? (`bias` `(` $bias^ `)`)?
    attr-dict `:` functional-type(operands, results)
  }];
}

def Accel_MaxPool2dGradOp : Accel_InferredOp<"max_pool2d_grad"> {
  let summary = "gradient of max_pool2d (aten::max_pool2d_with_indices_backward)";
  let description = [{
    Routes each window's gradient to the position of its maximum in the
    forward `input` (the first one on ties, as PyTorch's kernels do);
    `grad` has max_pool2d's result type for `input` and these attributes.

    ```mlir
    %dx = accel.max_pool2d_grad %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
        : (tensor<8x64x28x28xf32>, tensor<8x64x56x56xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
    Accel_Pair:$kernel_size, Accel_Pair:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    DefaultValuedAttr<Accel_Pair, "{1, 1}">:$dilation, UnitAttr:$ceil_mode);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AvgPool2dGradOp : Accel_InferredOp<"avg_pool2d_grad"> {
  let summary = "gradient of avg_pool2d (aten::avg_pool2d_backward)";
  let description = [{
    Spreads each window's gradient evenly over the positions it averaged;
    `input` gives the forward input's type.

    ```mlir
    %dx = accel.avg_pool2d_grad %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
        : (tensor<8x64x28x28xf32>, tensor<8x64x56x56xf32>) -> tensor<8x64x56x56xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
    Accel_Pair:$kernel_size, Accel_Pair:$stride,
    DefaultValuedAttr<Accel_Pair, "{0, 0}">:$padding,
    UnitAttr:$ceil_mode, UnitAttr:$count_include_pad);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AdaptiveAvgPool2dGradOp : Accel_InferredOp<"adaptive_avg_pool2d_grad"> {
  let summary = "gradient of adaptive_avg_pool2d (aten::_adaptive_avg_pool2d_backward)";
  let description = [{
    Spreads each bin's gradient evenly over the input positions it covers.

    ```mlir
    %dx = accel.adaptive_avg_pool2d_grad %g, %x
        : (tensor<8x512x1x1xf32>, tensor<8x512x7x7xf32>) -> tensor<8x512x7x7xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_FloatTensor:$input);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_EmbeddingGradOp : Accel_InferredOp<"embedding_grad"> {
  let summary = "gradient of embedding (aten::embedding_dense_backward)";
  let description = [{
    Sums the rows of `grad` (`indices.shape + [dim]`) into a zero table of
    `num_embeddings` rows at their indices.

    ```mlir
    %dw = accel.embedding_grad %g, %tokens {num_embeddings = 256 : i64}
        : (tensor<2x16x64xf32>, tensor<2x16xi64>) -> tensor<256x64xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_IndexTensor:$indices,
                       I64Attr:$num_embeddings);
  let results = (outs Accel_FloatTensor:$result);
}

class Accel_SoftmaxGradLikeOp<string mnemonic, string aten> :
    Accel_InferredOp<mnemonic> {
  let summary = "gradient of " # !subst("_grad", "", mnemonic) # " (" # aten # ")";
  let description = [{
    Takes the forward's `output` (not its input) and `dim`; `grad`, `output`
    and the result have one type.

    ```mlir
    %dx = accel.}] # mnemonic # [{ %g, %y {dim = 1 : i64} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<8x10xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_FloatTensor:$output,
                       I64Attr:$dim);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_SoftmaxGradOp :
    Accel_SoftmaxGradLikeOp<"softmax_grad", "aten::_softmax_backward_data">;
def Accel_LogSoftmaxGradOp :
    Accel_SoftmaxGradLikeOp<"log_softmax_grad", "aten::_log_softmax_backward_data">;

def Accel_CrossEntropyGradOp : Accel_InferredOp<"cross_entropy_grad"> {
  let summary = "gradient of cross_entropy with respect to the logits";
  let description = [{
    For the same `reduction`, `ignore_index` and `label_smoothing` as the
    forward: `grad` (the loss's gradient, a scalar or `[N]`) times
    `softmax(logits) - smoothed one-hot(target)`, divided by the number of
    counted samples for `mean`; ignored samples get zero.

    ```mlir
    %dl = accel.cross_entropy_grad %g, %logits, %y
        : (tensor<f32>, tensor<128x10xf32>, tensor<128xi64>) -> tensor<128x10xf32>
    ```
  }];
  let arguments = (ins
    Accel_FloatTensor:$grad, Accel_FloatTensor:$logits, Accel_IndexTensor:$target,
    DefaultValuedAttr<Accel_ReductionAttr, "::accel::Reduction::Mean">:$reduction,
    DefaultValuedAttr<I64Attr, "-100">:$ignore_index,
    DefaultValuedAttr<F64Attr, "0.0">:$label_smoothing);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_AmaxGradOp : Accel_InferredOp<"amax_grad"> {
  let summary = "gradient of amax";
  let description = [{
    Shares each reduced gradient evenly among the positions of `input` that
    equal the maximum, as PyTorch's amax backward does.

    ```mlir
    %dx = accel.amax_grad %g, %x {dims = array<i64: 1>} : (tensor<8xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, Accel_FloatTensor:$input,
                       DenseI64ArrayAttr:$dims, UnitAttr:$keepdim);
  let results = (outs Accel_FloatTensor:$result);
}

def Accel_SliceGradOp : Accel_Op<"slice_grad", [Pure]> {
  let summary = "gradient of slice (aten::slice_backward)";
  let description = [{
    Places `grad` at the sliced positions of a zero tensor of the forward
    input's type (the explicit result type); slicing the result with the
    same attributes must give `grad`'s type.

    ```mlir
    %dx = accel.slice_grad %g {dim = 2 : i64, start = 0 : i64, end = 64 : i64, step = 1 : i64}
        : (tensor<2x16x64xf32>) -> tensor<2x16x192xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$grad, I64Attr:$dim, I64Attr:$start,
                       I64Attr:$end, DefaultValuedAttr<I64Attr, "1">:$step);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "operands attr-dict `:` functional-type(operands, results)";
  let hasVerifier = 1;
}

#endif // ACCEL_DIALECT_ACCELGRADOPS_TD
