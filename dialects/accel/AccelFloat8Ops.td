//===- AccelFloat8Ops.td - FP8 quantisation and scaled GEMMs -*- tablegen -*-===//
//
// The ops `accel-fp8` rewrites a linear layer into: each operand of a GEMM
// is quantised to an FP8 format with its own scales, and the GEMM multiplies
// the quantised operands. The forward GEMM keeps its high-precision
// operands and states the recipe, so its VJP re-quantises them (and the
// incoming gradient) for the two backward GEMMs as the recipe says.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELFLOAT8OPS_TD
#define ACCEL_DIALECT_ACCELFLOAT8OPS_TD

def Accel_Fp8Scaling : I32EnumAttr<"Fp8Scaling",
    "which elements of an FP8 operand share one scale", [
      I32EnumAttrCase<"Tensorwise", 0, "tensorwise">,
      I32EnumAttrCase<"Rowwise", 1, "rowwise">,
      I32EnumAttrCase<"Mx", 2, "mx">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_Fp8ScalingAttr : EnumAttr<Accel_Dialect, Accel_Fp8Scaling, "fp8_scaling">;

def Accel_Fp8Recipe : I32EnumAttr<"Fp8Recipe",
    "how an FP8 linear quantises its forward and backward GEMMs", [
      I32EnumAttrCase<"Tensorwise", 0, "tensorwise">,
      I32EnumAttrCase<"Rowwise", 1, "rowwise">,
      I32EnumAttrCase<"RowwiseGwHp", 2, "rowwise_gw_hp">,
      I32EnumAttrCase<"Mxfp8", 3, "mxfp8">,
      I32EnumAttrCase<"Delayed", 4, "delayed">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_Fp8RecipeAttr : EnumAttr<Accel_Dialect, Accel_Fp8Recipe, "fp8_recipe">;

def Accel_Fp8AmaxAlgo : I32EnumAttr<"Fp8AmaxAlgo",
    "which amax of its history delayed scaling computes a scale from", [
      I32EnumAttrCase<"Max", 0, "max">,
      I32EnumAttrCase<"MostRecent", 1, "most_recent">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_Fp8AmaxAlgoAttr : EnumAttr<Accel_Dialect, Accel_Fp8AmaxAlgo, "fp8_amax_algo">;

def Accel_Fp8Tensor : StaticShapeTensorOf<[F8E4M3FN, F8E5M2]>;
def Accel_F32Scalar : TensorRankOf<[F32], [0]>;
def Accel_Fp8FormatAttr : TypeAttrOf<AnyTypeOf<[F8E4M3FN, F8E5M2]>>;
def Accel_ScaleTensor : StaticShapeTensorOf<[F32, F8E8M0FNU]>;

def Accel_Fp8QuantizeOp : Accel_Op<"fp8_quantize", [Pure]> {
  let summary = "quantise a matrix to FP8 with dynamic scales";
  let description = [{
    Quantises the rank-2 `input` `[R, C]` to the FP8 format of `data`'s
    element type (`f8E4M3FN` or `f8E5M2`) as torchao's float8 training
    does, with one scale per group of elements:

    ```
    amax  = max |x| over the group (NaN if the group holds one)
    scale = f32(fp8_max * (1 / max(f64(amax), 1e-12)))   fp8_max: 448, 57344
            with round_scale_to_pow2: 2^floor(log2(scale)), log2 in f32
    data  = fp8(clamp(f32(x) * scale, -fp8_max, fp8_max))  nearest even
    ```

    `scaling = tensorwise` makes the whole matrix one group and `scale` a
    `tensor<f32>`; `rowwise` makes each row a group and `scale`
    `tensor<Rx1xf32>`. The quantised value of an element is
    `f32(data) / scale`. A group whose amax is infinite gets scale 0 (and
    dequantises to NaN), as torchao's does.

    `scaling = mx` is OCP Microscaling (v1.0, 6.3): each block of 32
    consecutive elements of a row (C a multiple of 32) shares a power of
    two X, `scale` is `tensor<Rx(C/32)xf8E8M0FNU>`, and

    ```
    X    = 2^clamp(floor(log2(amax)) - emax, -127, 127)   emax: 8 (E4M3FN), 15 (E5M2)
           (amax 0: 2^-127; NaN: NaN; an infinity counts as 2^128)
    data = fp8(clamp(f32(x) / X, -fp8_max, fp8_max))       nearest even
    ```

    and the quantised value is `f32(data) * X`.

    ```mlir
    %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling rowwise>, round_scale_to_pow2}
        : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64x1xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input,
                       Accel_Fp8ScalingAttr:$scaling,
                       UnitAttr:$round_scale_to_pow2);
  let results = (outs Accel_Fp8Tensor:$data, Accel_ScaleTensor:$scale);
  let assemblyFormat = [{
    $input attr-dict `:` type($input) `->` type($data) `,` type($scale)
  }];
  let hasVerifier = 1;
}

def Accel_Fp8QuantizeScaledOp : Accel_Op<"fp8_quantize_scaled", [Pure]> {
  let summary = "quantise a matrix to FP8 with a given scale, and its amax";
  let description = [{
    Delayed scaling's cast (TransformerEngine): `scale` was computed from
    earlier steps' amaxes, and this op records the amax it sees for later
    ones.

    ```
    data = fp8(clamp(f32(x) * scale, -fp8_max, fp8_max))   nearest even
    amax = max |x|   (NaN if x holds one)
    ```

    Saturating before rounding is TransformerEngine's satfinite cast: an
    infinity or an overflow becomes ±fp8_max in both formats, NaN stays NaN.
    The quantised value of an element is `f32(data) · (1 / scale)`.

    ```mlir
    %q, %amax = accel.fp8_quantize_scaled %x, %scale
        : tensor<64x32xf32>, tensor<f32> -> tensor<64x32xf8E4M3FN>, tensor<f32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input, Accel_F32Scalar:$scale);
  let results = (outs Accel_Fp8Tensor:$data, Accel_F32Scalar:$amax);
  let assemblyFormat = [{
    $input `,` $scale attr-dict `:` type($input) `,` type($scale) `->`
    type($data) `,` type($amax)
  }];
  let hasVerifier = 1;
}

def Accel_Fp8ScaleUpdateOp : Accel_Op<"fp8_scale_update", [Pure]> {
  let summary = "delayed scaling's update of an amax history and its scale";
  let description = [{
    TransformerEngine's DelayedScaling update, after the step that recorded
    `amax`. With the history `h` of length H (`h[0]` the slot of the step
    that just ran, zero between steps):

    ```
    h[0]     = amax
    a        = max(h) (amax_algo = max; NaN if h holds one) or amax (most_recent)
    scale'   = (fp8_max / a) / 2^margin   if a is finite and > 0, else scale
               (an infinite scale' becomes the largest f32)
    history' = roll(h, -1) with history'[0] = 0
    ```

    `format` is the FP8 type whose largest value is fp8_max (448 for
    f8E4M3FN, 57344 for f8E5M2). Every value is f32.

    ```mlir
    %h2, %s2 = accel.fp8_scale_update %h, %s, %amax
        {amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, format = f8E4M3FN}
        : tensor<1024xf32>, tensor<f32>, tensor<f32> -> tensor<1024xf32>, tensor<f32>
    ```
  }];
  let arguments = (ins TensorRankOf<[F32], [1]>:$history,
                       Accel_F32Scalar:$scale, Accel_F32Scalar:$amax,
                       Accel_Fp8AmaxAlgoAttr:$amax_algo,
                       ConfinedAttr<I64Attr, [IntNonNegative]>:$margin,
                       Accel_Fp8FormatAttr:$format);
  let results = (outs TensorRankOf<[F32], [1]>:$new_history,
                      Accel_F32Scalar:$new_scale);
  let assemblyFormat = [{
    $history `,` $scale `,` $amax attr-dict `:` type($history) `,`
    type($scale) `,` type($amax) `->` type($new_history) `,` type($new_scale)
  }];
  let hasVerifier = 1;
}

def Accel_ScaledMatmulOp : Accel_Op<"scaled_matmul", [Pure,
    AttrSizedOperandSegments, Accel_Differentiable]> {
  let summary = "product of two FP8 matrices with their scales, lhs · rhsᵀ";
  let description = [{
    `lhs` is `[M, K]`, `rhs` is `[N, K]` (both quantised by
    `accel.fp8_quantize`, with their scales); the result is `[M, N]`:

    ```
    result = f32_mm(f32(lhs) / lhs_scale, (f32(rhs) / rhs_scale)ᵀ)
    ```

    (with MX block scales, `f32(x) * X` per block).

    then rounded to the result's element type. This is the emulation of a
    scaled FP8 GEMM that torchao runs on the CPU: the FP8 products are exact
    in f32 and the sum is the f32 GEMM's (the CPU driver: oneDNN's sgemm).

    With `output_scaled` (delayed scaling; both scales `tensor<f32>`) the
    scales are applied to the product instead, as cuBLASLt applies
    TransformerEngine's inverse scales:

    ```
    result = f32_mm(f32(lhs), f32(rhs)ᵀ) · ((1 / lhs_scale) · (1 / rhs_scale))
    ```

    A forward GEMM also takes the high-precision matrices it quantised
    (`hp lhs, rhs`) and the `recipe`: its VJP quantises the gradient and
    re-quantises those matrices for the backward GEMMs (grad_lhs =
    g · rhs, grad_rhs = gᵀ · lhs) as the recipe says; nothing quantised in
    the forward is reused, as in torchao. The gradients go to the
    high-precision operands only.

    The `delayed` recipe's forward GEMM quantises its operands with
    `accel.fp8_quantize_scaled` and also takes the incoming gradient's
    scaling state (`grad_state history, scale`) with `amax_algo`, `margin`
    and the gradient's FP8 `grad_format`. Its VJP quantises the gradient
    with that scale, re-quantises the operands with their forward scales
    (`lhs_scale`, `rhs_scale`: the same bits as transposing the forward's
    FP8 data, which TransformerEngine reuses), and updates the gradient's
    history and scale with `accel.fp8_scale_update`. The new history and
    scale are what the VJP returns for the `grad_state` operands: state the
    backward pass updates, which accel-autodiff returns with its
    `accel.fp8_state` role rather than as a gradient.

    ```mlir
    %y = accel.scaled_matmul %xq, %xs, %wq, %ws hp %x, %w {recipe = #accel<fp8_recipe tensorwise>}
        : tensor<64x32xf8E4M3FN>, tensor<f32>, tensor<16x32xf8E4M3FN>, tensor<f32>,
          tensor<64x32xf32>, tensor<16x32xf32> -> tensor<64x16xf32>
    ```
  }];
  let arguments = (ins Accel_Fp8Tensor:$lhs, Accel_ScaleTensor:$lhs_scale,
                       Accel_Fp8Tensor:$rhs, Accel_ScaleTensor:$rhs_scale,
                       Optional<Accel_FloatTensor>:$lhs_hp,
                       Optional<Accel_FloatTensor>:$rhs_hp,
                       Optional<TensorRankOf<[F32], [1]>>:$grad_history,
                       Optional<Accel_F32Scalar>:$grad_scale,
                       OptionalAttr<Accel_Fp8RecipeAttr>:$recipe,
                       UnitAttr:$output_scaled,
                       OptionalAttr<Accel_Fp8AmaxAlgoAttr>:$amax_algo,
                       OptionalAttr<ConfinedAttr<I64Attr, [IntNonNegative]>>:$margin,
                       OptionalAttr<Accel_Fp8FormatAttr>:$grad_format);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $lhs_scale `,` $rhs `,` $rhs_scale
    (`hp` $lhs_hp^ `,` $rhs_hp)?
    (`grad_state` $grad_history^ `,` $grad_scale)? attr-dict `:`
    type($lhs) `,` type($lhs_scale) `,` type($rhs) `,` type($rhs_scale)
    (`,` type($lhs_hp)^ `,` type($rhs_hp))?
    (`,` type($grad_history)^ `,` type($grad_scale))? `->` type($result)
  }];
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The VJP of a delayed-scaling forward GEMM (see the description).
    ::mlir::LogicalResult buildDelayedVjp(::mlir::OpBuilder &b, ::mlir::Value g,
        ::llvm::SmallVectorImpl<::mlir::Value> &grads);
  }];
}

#endif // ACCEL_DIALECT_ACCELFLOAT8OPS_TD
