// accel-fp8: which linears it converts, the ops it writes for each recipe,
// and the backward GEMMs autodiff builds from them.
// RUN: accel-opt %s --accel-fp8="keep-first-last=false" | FileCheck %s --check-prefix=TENSOR
// RUN: accel-opt %s --accel-fp8="recipe=rowwise" | FileCheck %s --check-prefix=ROW
// RUN: accel-opt %s --accel-fp8="recipe=rowwise-gw-hp keep-first-last=false" --accel-autodiff | FileCheck %s --check-prefix=GWHP
// RUN: accel-opt %s --accel-fp8="keep-first-last=false" --accel-autodiff | FileCheck %s --check-prefix=GRAD
// RUN: accel-opt %s --accel-fp8="keep-first-last=false exclude=fc2,nomatch*" 2>&1 | FileCheck %s --check-prefix=EXCLUDE
// RUN: accel-opt %s --accel-train-pipeline="kind=sgd precision=bf16 fp8=tensorwise fp8-keep-first-last=false" | FileCheck %s --check-prefix=BF16

func.func @forward(%w0: tensor<32x16xf32> {accel.param = "fc1.weight"},
                   %b0: tensor<32xf32> {accel.param = "fc1.bias"},
                   %w1: tensor<16x32xf32> {accel.param = "fc2.weight"},
                   %w2: tensor<10x16xf32> {accel.param = "head.weight"},
                   %x: tensor<4x8x16xf32> {accel.input = "x"},
                   %y: tensor<32xi64> {accel.input = "y"}) -> tensor<f32> {
  %h = accel.linear %x, %w0, %b0 : (tensor<4x8x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<4x8x32xf32>
  %r = accel.relu %h : tensor<4x8x32xf32>
  %f = accel.reshape %r : tensor<4x8x32xf32> -> tensor<32x32xf32>
  %h2 = accel.linear %f, %w1 : (tensor<32x32xf32>, tensor<16x32xf32>) -> tensor<32x16xf32>
  %l = accel.linear %h2, %w2 : (tensor<32x16xf32>, tensor<10x16xf32>) -> tensor<32x10xf32>
  %loss = accel.cross_entropy %l, %y : (tensor<32x10xf32>, tensor<32xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// Tensorwise: a rank-3 input is flattened around the GEMM, the bias added
// after it; the head (10 out features) stays in high precision.
// TENSOR-LABEL: func.func @forward
// TENSOR-SAME: accel.fp8_recipe = "tensorwise"
// TENSOR: %[[X:.*]] = accel.reshape %arg4 : tensor<4x8x16xf32> -> tensor<32x16xf32>
// TENSOR: %[[XQ:.*]], %[[XS:.*]] = accel.fp8_quantize %[[X]] {scaling = #accel<fp8_scaling tensorwise>} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>, tensor<f32>
// TENSOR: %[[WQ:.*]], %[[WS:.*]] = accel.fp8_quantize %arg0 {scaling = #accel<fp8_scaling tensorwise>} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>, tensor<f32>
// TENSOR: %[[MM:.*]] = accel.scaled_matmul %[[XQ]], %[[XS]], %[[WQ]], %[[WS]] hp %[[X]], %arg0 {accel.fp8 = "fp8 tensorwise", accel.fp8_layer = "fc1", recipe = #accel<fp8_recipe tensorwise>}
// TENSOR-SAME: -> tensor<32x32xf32>
// TENSOR: %[[B:.*]] = accel.add %[[MM]], %arg1
// TENSOR: accel.reshape %[[B]] : tensor<32x32xf32> -> tensor<4x8x32xf32>
// TENSOR: accel.scaled_matmul {{.*}} accel.fp8_layer = "fc2"
// TENSOR: accel.linear {{.*}} {accel.fp8 = "kept: 16 in, 10 out features; FP8 GEMMs need multiples of 16", accel.fp8_layer = "head"}

// Rowwise: one power-of-two scale per row; the first and last linear stay.
// ROW: accel.linear %arg4, %arg0, %arg1 {accel.fp8 = "kept: first linear layer", accel.fp8_layer = "fc1"}
// ROW: accel.fp8_quantize %{{.*}} {round_scale_to_pow2, scaling = #accel<fp8_scaling rowwise>} : tensor<32x32xf32> -> tensor<32x32xf8E4M3FN>, tensor<32x1xf32>
// ROW: accel.fp8_quantize %arg2 {round_scale_to_pow2, scaling = #accel<fp8_scaling rowwise>} : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16x1xf32>
// ROW: accel.scaled_matmul {{.*}} recipe = #accel<fp8_recipe rowwise>
// ROW: accel.linear {{.*}} {accel.fp8 = "kept: last linear layer", accel.fp8_layer = "head"}

// The backward of a tensorwise layer: grad_input quantises the gradient in
// E5M2 and the transposed weight in E4M3; grad_weight the transposed
// gradient and input. The first layer's grad_input is dead (x takes none).
// GRAD-LABEL: func.func @forward_grad
// GRAD: accel.cross_entropy_grad
// GRAD: %[[WT:.*]] = accel.transpose %arg2 {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<16x32xf32>) -> tensor<32x16xf32>
// GRAD: %[[GQ:.*]], %[[GS:.*]] = accel.fp8_quantize %{{.*}} {scaling = #accel<fp8_scaling tensorwise>} : tensor<32x16xf32> -> tensor<32x16xf8E5M2>, tensor<f32>
// GRAD: %[[WQ:.*]], %[[WS:.*]] = accel.fp8_quantize %[[WT]] {scaling = #accel<fp8_scaling tensorwise>} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>, tensor<f32>
// GRAD: accel.scaled_matmul %[[GQ]], %[[GS]], %[[WQ]], %[[WS]] : {{.*}} -> tensor<32x32xf32>
// GRAD: accel.fp8_quantize %{{.*}} : tensor<16x32xf32> -> tensor<16x32xf8E5M2>, tensor<f32>
// GRAD: accel.fp8_quantize %{{.*}} : tensor<32x32xf32> -> tensor<32x32xf8E4M3FN>, tensor<f32>
// GRAD: accel.scaled_matmul {{.*}} -> tensor<16x32xf32>
// GRAD: return

// rowwise-gw-hp: grad_input takes the weight with one scale; grad_weight is
// a plain matmul.
// GWHP-LABEL: func.func @forward_grad
// GWHP: accel.fp8_quantize %{{.*}} {round_scale_to_pow2, scaling = #accel<fp8_scaling rowwise>} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>, tensor<32x1xf32>
// GWHP: accel.fp8_quantize %{{.*}} {round_scale_to_pow2, scaling = #accel<fp8_scaling tensorwise>} : tensor<32x16xf32> -> tensor<32x16xf8E4M3FN>, tensor<f32>
// GWHP: accel.scaled_matmul
// GWHP: accel.matmul %{{.*}}, %{{.*}} : (tensor<16x32xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>

// EXCLUDE: warning: exclude glob 'nomatch*' matches no linear layer
// EXCLUDE: accel.linear {{.*}} {accel.fp8 = "kept: excluded by 'fc2'", accel.fp8_layer = "fc2"}

// Under bf16 autocast the FP8 GEMM reads the bf16 activations and the
// bf16 copy of the master weight, and returns bf16.
// BF16-LABEL: func.func @forward_grad
// BF16: accel.fp8_quantize %{{.*}} : tensor<32x16xbf16> -> tensor<32x16xf8E4M3FN>, tensor<f32>
// BF16: accel.scaled_matmul {{.*}} -> tensor<32x32xbf16>

// A per-layer recipe: fc2 rowwise inside a tensorwise model.
// RUN: accel-opt %s --accel-fp8="keep-first-last=false override=fc2=rowwise,nothing*=mxfp8" 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// OVERRIDE: warning: override 'nothing*=mxfp8' matches no linear layer
// OVERRIDE: accel.scaled_matmul {{.*}} {accel.fp8 = "fp8 tensorwise", accel.fp8_layer = "fc1", recipe = #accel<fp8_recipe tensorwise>}
// OVERRIDE: accel.scaled_matmul {{.*}} {accel.fp8 = "fp8 rowwise", accel.fp8_layer = "fc2", recipe = #accel<fp8_recipe rowwise>}
