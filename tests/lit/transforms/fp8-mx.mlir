// accel-fp8 with the mxfp8 recipe: every operand of every GEMM in E4M3FN
// blocks of 32 along the reduction dimension with E8M0 scales; a layer with
// a dimension that is not a multiple of 32 stays in high precision.
// RUN: accel-opt %s --accel-fp8="recipe=mxfp8 keep-first-last=false" --accel-autodiff | FileCheck %s
// RUN: accel-opt %s --accel-fp8="recipe=mxfp8 keep-first-last=false" --accel-precision-report -o %t.discard.mlir | FileCheck %s --check-prefix=REPORT

func.func @forward(%w0: tensor<64x64xf32> {accel.param = "fc1.weight"},
                   %w1: tensor<48x64xf32> {accel.param = "fc2.weight"},
                   %x: tensor<32x64xf32> {accel.input = "x"},
                   %y: tensor<32x48xf32> {accel.input = "y"}) -> tensor<f32> {
  %h = accel.linear %x, %w0 : (tensor<32x64xf32>, tensor<64x64xf32>) -> tensor<32x64xf32>
  %h2 = accel.linear %h, %w1 : (tensor<32x64xf32>, tensor<48x64xf32>) -> tensor<32x48xf32>
  %loss = accel.mse_loss %h2, %y : (tensor<32x48xf32>, tensor<32x48xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// CHECK-LABEL: func.func @forward
// CHECK: accel.fp8_quantize %arg2 {scaling = #accel<fp8_scaling mx>} : tensor<32x64xf32> -> tensor<32x64xf8E4M3FN>, tensor<32x2xf8E8M0FNU>
// CHECK: accel.fp8_quantize %arg0 {scaling = #accel<fp8_scaling mx>} : tensor<64x64xf32> -> tensor<64x64xf8E4M3FN>, tensor<64x2xf8E8M0FNU>
// CHECK: accel.scaled_matmul {{.*}} recipe = #accel<fp8_recipe mxfp8>
// CHECK: accel.linear {{.*}} {accel.fp8 = "kept: 32 rows, 64 in, 48 out features; MX blocks need multiples of 32", accel.fp8_layer = "fc2"}
// The weight gradient: gᵀ [64, 32] and xᵀ [64, 32] in blocks along the 32
// tokens.
// CHECK-LABEL: func.func @forward_grad
// CHECK: accel.fp8_quantize %{{.*}} {scaling = #accel<fp8_scaling mx>} : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64x1xf8E8M0FNU>
// CHECK: accel.fp8_quantize %{{.*}} {scaling = #accel<fp8_scaling mx>} : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64x1xf8E8M0FNU>
// CHECK: accel.scaled_matmul {{.*}} -> tensor<64x64xf32>

// REPORT: fp8: recipe mxfp8, 1 of 2 linear layers converted
// REPORT: fc1 [mxfp8] output: e4m3fn mx x e4m3fn mx
// REPORT: grad_weight: e4m3fn mx x e4m3fn mx
// REPORT: fc2 kept: 32 rows, 64 in, 48 out features; MX blocks need multiples of 32
