// accel-autodiff appends the backward pass and returns the loss, one
// gradient per parameter, then the buffer updates.
// RUN: accel-opt %s -split-input-file --accel-autodiff | FileCheck %s

// The forward is kept; @forward_grad recomputes it and adds the VJPs.
// CHECK-LABEL: func.func @forward(
// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[W:[^:]+]]: tensor<10x4xf32> {accel.param = "fc.weight"}
// CHECK-SAME: %[[B:[^:]+]]: tensor<10xf32> {accel.param = "fc.bias"}
// CHECK-SAME: %[[X:[^:]+]]: tensor<8x4xf32> {accel.input = "x"}
// CHECK-SAME: %[[Y:[^:]+]]: tensor<8xi64> {accel.input = "y"}
// CHECK-SAME: -> (tensor<f32>, tensor<10x4xf32> {accel.grad = "fc.weight"}, tensor<10xf32> {accel.grad = "fc.bias"})
// CHECK: %[[LOGITS:.+]] = accel.linear %[[X]], %[[W]], %[[B]]
// CHECK: %[[LOSS:.+]] = accel.cross_entropy %[[LOGITS]], %[[Y]]
// CHECK: %[[ONE:.+]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[DLOGITS:.+]] = accel.cross_entropy_grad %[[ONE]], %[[LOGITS]], %[[Y]]
// The input's gradient is not needed, so it is not computed.
// CHECK-NOT: accel.matmul %[[DLOGITS]], %[[W]]
// CHECK: %[[DT:.+]] = accel.transpose %[[DLOGITS]] {dim0 = 0 : i64, dim1 = 1 : i64}
// CHECK: %[[DW:.+]] = accel.matmul %[[DT]], %[[X]]
// CHECK: %[[DB:.+]] = accel.sum %[[DLOGITS]] {dims = array<i64: 0>}
// CHECK: return %[[LOSS]], %[[DW]], %[[DB]]
func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                   %b: tensor<10xf32> {accel.param = "fc.bias"},
                   %x: tensor<8x4xf32> {accel.input = "x"},
                   %y: tensor<8xi64> {accel.input = "y"}) -> tensor<f32> {
  %logits = accel.linear %x, %w, %b : (tensor<8x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<8x10xf32>
  %loss = accel.cross_entropy %logits, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// Fan-out: a value used twice gets the sum of both gradients. A broadcast
// operand's gradient is summed back to its shape.
// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[P:[^:]+]]: tensor<4x3xf32> {accel.param = "p"}
// CHECK-SAME: %[[Q:[^:]+]]: tensor<3xf32> {accel.param = "q"}
// CHECK: %[[S:.+]] = accel.add %[[P]], %[[Q]] : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
// CHECK: %[[M:.+]] = accel.mul %[[S]], %[[S]]
// CHECK: %[[G:.+]] = accel.broadcast_to %{{.+}} : tensor<1x1xf32> -> tensor<4x3xf32>
// CHECK: %[[G1:.+]] = accel.mul %[[G]], %[[S]]
// CHECK: %[[G2:.+]] = accel.mul %[[G]], %[[S]]
// CHECK: %[[DS:.+]] = accel.add %[[G1]], %[[G2]]
// CHECK: %[[DQ:.+]] = accel.sum %[[DS]] {dims = array<i64: 0>, keepdim} : (tensor<4x3xf32>) -> tensor<1x3xf32>
// CHECK: %[[DQR:.+]] = accel.reshape %[[DQ]] : tensor<1x3xf32> -> tensor<3xf32>
// CHECK: return %{{.+}}, %[[DS]], %[[DQR]]
func.func @forward(%p: tensor<4x3xf32> {accel.param = "p"},
                   %q: tensor<3xf32> {accel.param = "q"}) -> tensor<f32> {
  %s = accel.add %p, %q : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x3xf32>
  %m = accel.mul %s, %s : (tensor<4x3xf32>, tensor<4x3xf32>) -> tensor<4x3xf32>
  %l = accel.sum %m {dims = array<i64: 0, 1>} : (tensor<4x3xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// A parameter the loss does not use gets a zero gradient; buffers and
// their updates pass through; BatchNorm's statistics take no gradient.
// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: -> (tensor<f32>, tensor<3xf32> {accel.grad = "bn.weight"}, tensor<3xf32> {accel.grad = "bn.bias"}, tensor<5xf32> {accel.grad = "unused"}, tensor<3xf32> {accel.buffer = "bn.running_mean"}, tensor<3xf32> {accel.buffer = "bn.running_var"})
// CHECK: %[[Y:[^,]+]], %[[NM:[^,]+]], %[[NV:[^ ]+]] = accel.batch_norm
// CHECK: %[[DX:[^,]+]], %[[DW:[^,]+]], %[[DB:[^ ]+]] = accel.batch_norm_grad {{.*}} {training}
// CHECK: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : tensor<5xf32>
// CHECK: return %{{.+}}, %[[DW]], %[[DB]], %[[ZERO]], %[[NM]], %[[NV]]
func.func @forward(%x: tensor<4x3xf32> {accel.input = "x"},
                   %w: tensor<3xf32> {accel.param = "bn.weight"},
                   %b: tensor<3xf32> {accel.param = "bn.bias"},
                   %u: tensor<5xf32> {accel.param = "unused"},
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

// -----

// Dropout's backward applies the forward's mask: same seed, p and stream.
// CHECK-LABEL: func.func @forward_grad(
// CHECK-SAME: %[[SEED:[^:]+]]: tensor<i64> {accel.seed = "seed"}
// CHECK: accel.dropout %{{.+}}, %[[SEED]] {p = 5.000000e-01 : f64, stream = 3 : i64}
// CHECK: accel.dropout %{{.+}}, %[[SEED]] {p = 5.000000e-01 : f64, stream = 3 : i64}
func.func @forward(%w: tensor<8xf32> {accel.param = "w"},
                   %seed: tensor<i64> {accel.seed = "seed"}) -> tensor<f32> {
  %d = accel.dropout %w, %seed {p = 0.5 : f64, stream = 3 : i64} : (tensor<8xf32>, tensor<i64>) -> tensor<8xf32>
  %l = accel.sum %d {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
