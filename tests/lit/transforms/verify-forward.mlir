// accel-verify-forward accepts well-formed forward functions and leaves them
// unchanged.
// RUN: accel-opt %s -split-input-file -accel-verify-forward | FileCheck %s
// RUN: accel-opt %s -split-input-file -accel-verify-forward=entry=loss_fn | FileCheck %s --check-prefix=ENTRY

// CHECK-LABEL: func.func @forward
// CHECK-SAME: {accel.param = "fc.weight"}
// CHECK-SAME: {accel.input = "x"}
// CHECK-SAME: {accel.seed = "seed"}
// CHECK: accel.cross_entropy
func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                   %x: tensor<8x4xf32> {accel.input = "x"},
                   %y: tensor<8xi64> {accel.input = "y"},
                   %seed: tensor<i64> {accel.seed = "seed"}) -> tensor<f32> {
  %dx = accel.dropout %x, %seed {p = 0.5 : f64, stream = 1 : i64} : (tensor<8x4xf32>, tensor<i64>) -> tensor<8x4xf32>
  %logits = accel.linear %dx, %w : (tensor<8x4xf32>, tensor<10x4xf32>) -> tensor<8x10xf32>
  %loss = accel.cross_entropy %logits, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// ENTRY-LABEL: func.func @loss_fn
func.func @loss_fn(%x: tensor<8xf32> {accel.input = "x"}) -> tensor<f32> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// Buffers (BatchNorm running statistics) come back as named extra results.
// CHECK-LABEL: func.func @forward
// CHECK-SAME: -> (tensor<f32>, tensor<3xf32> {accel.buffer = "bn.running_mean"}, tensor<3xf32> {accel.buffer = "bn.running_var"})
func.func @forward(%x: tensor<4x3xf32> {accel.input = "x"},
                   %w: tensor<3xf32> {accel.param = "bn.weight"},
                   %b: tensor<3xf32> {accel.param = "bn.bias"},
                   %rm: tensor<3xf32> {accel.buffer = "bn.running_mean"},
                   %rv: tensor<3xf32> {accel.buffer = "bn.running_var"})
    -> (tensor<f32>, tensor<3xf32> {accel.buffer = "bn.running_mean"},
        tensor<3xf32> {accel.buffer = "bn.running_var"}) {
  %y, %m, %v = accel.batch_norm %x, %w, %b, %rm, %rv {training}
      : (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>, tensor<3xf32>)
      -> (tensor<4x3xf32>, tensor<3xf32>, tensor<3xf32>)
  %loss = accel.mean %y {dims = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
  return %loss, %m, %v : tensor<f32>, tensor<3xf32>, tensor<3xf32>
}
// ENTRY-LABEL: func.func @loss_fn
func.func @loss_fn(%x: tensor<8xbf16> {accel.input = "x"}) -> tensor<bf16> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xbf16>) -> tensor<bf16>
  return %0 : tensor<bf16>
}
