// accel-autodiff's entry option names the forward function. Integer inputs
// and masks take no gradient.
// RUN: accel-opt %s --accel-autodiff=entry=loss | FileCheck %s

// CHECK-LABEL: func.func @loss_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<16x4xf32> {accel.grad = "emb"})
// CHECK: accel.embedding_grad {{.*}}num_embeddings = 16 : i64
func.func @loss(%e: tensor<16x4xf32> {accel.param = "emb"},
                %i: tensor<2x3xi64> {accel.input = "idx"},
                %m: tensor<3x4xi1> {accel.input = "mask"}) -> tensor<f32> {
  %x = accel.embedding %e, %i : (tensor<16x4xf32>, tensor<2x3xi64>) -> tensor<2x3x4xf32>
  %f = accel.masked_fill %x, %m {value = 0.0 : f64} : (tensor<2x3x4xf32>, tensor<3x4xi1>) -> tensor<2x3x4xf32>
  %l = accel.sum %f {dims = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
