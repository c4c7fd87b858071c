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
      I32EnumAttrCase<"Mxfp8", 3, "mxfp8">
    ]> {
  let cppNamespace = "::accel";
  let genSpecializedAttr = 0;
}
def Accel_Fp8RecipeAttr : EnumAttr<Accel_Dialect, Accel_Fp8Recipe, "fp8_recipe">;

def Accel_Fp8Tensor : StaticShapeTensorOf<[F8E4M3FN, F8E5M2]>;
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
    in f32 and the sum is the f32 GEMM's (the CPU driver: OpenBLAS sgemm).

    A forward GEMM also takes the high-precision matrices it quantised
    (`hp lhs, rhs`) and the `recipe`: its VJP quantises the gradient and
    re-quantises those matrices for the backward GEMMs (grad_lhs =
    g · rhs, grad_rhs = gᵀ · lhs) as the recipe says; nothing quantised in
    the forward is reused, as in torchao. The gradients go to the
    high-precision operands only.

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
                       OptionalAttr<Accel_Fp8RecipeAttr>:$recipe);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = [{
    $lhs `,` $lhs_scale `,` $rhs `,` $rhs_scale
    (`hp` $lhs_hp^ `,` $rhs_hp)? attr-dict `:`
    type($lhs) `,` type($lhs_scale) `,` type($rhs) `,` type($rhs_scale)
    (`,` type($lhs_hp)^ `,` type($rhs_hp))? `->` type($result)
  }];
  let hasVerifier = 1;
}

#endif // ACCEL_DIALECT_ACCELFLOAT8OPS_TD
