// accel-fuse-elementwise puts chains of same-shape elementwise ops into
// accel.fused, with one-element operands broadcast.
// RUN: accel-opt %s --split-input-file --accel-fuse-elementwise | FileCheck %s
// RUN: accel-opt %s --split-input-file --accel-fuse-elementwise="max-values=4" | FileCheck %s --check-prefix=SMALL

// An SGD-with-momentum update: one fused op with the new parameter and
// momentum as results; the scalar learning rate is an input.
// CHECK-LABEL: func.func @sgd
// CHECK-NEXT: %[[F:.*]]:2 = accel.fused(%arg2, %arg3, %arg1, %arg4, %arg0) : (tensor<64x32xf32>, tensor<f32>, tensor<64x32xf32>, tensor<f32>, tensor<64x32xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>) {
// CHECK-NEXT: ^bb0(%[[M:.*]]: tensor<f32>, %[[MU:.*]]: tensor<f32>, %[[G:.*]]: tensor<f32>, %[[LR:.*]]: tensor<f32>, %[[P:.*]]: tensor<f32>):
// CHECK-NEXT:   %[[A:.*]] = accel.mul %[[M]], %[[MU]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:   %[[B:.*]] = accel.add %[[A]], %[[G]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:   %[[C:.*]] = accel.mul %[[B]], %[[LR]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:   %[[D:.*]] = accel.sub %[[P]], %[[C]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:   accel.yield %[[B]], %[[D]] : tensor<f32>, tensor<f32>
// CHECK-NEXT: }
// CHECK-NEXT: return %[[F]]#1, %[[F]]#0
// With at most 4 inputs and ops per fused op, no two of these ops fit
// together (each pair reads at least 3 values), so nothing fuses.
// SMALL-LABEL: func.func @sgd
// SMALL-NOT: accel.fused
// SMALL: return
func.func @sgd(%p: tensor<64x32xf32>, %g: tensor<64x32xf32>, %m: tensor<64x32xf32>,
               %mu: tensor<f32>, %lr: tensor<f32>) -> (tensor<64x32xf32>, tensor<64x32xf32>) {
  %a = accel.mul %m, %mu : (tensor<64x32xf32>, tensor<f32>) -> tensor<64x32xf32>
  %b = accel.add %a, %g : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  %c = accel.mul %b, %lr : (tensor<64x32xf32>, tensor<f32>) -> tensor<64x32xf32>
  %d = accel.sub %p, %c : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  return %d, %b : tensor<64x32xf32>, tensor<64x32xf32>
}

// -----

// A use outside the chain closes it: the fused op must come before its
// users. The matmul reads %r, so relu and neg fuse, and exp and log (after
// the matmul) form a second group. The broadcasting bias add is not fusible
// (its operand is neither the result's shape nor one element).
// CHECK-LABEL: func.func @closed
// CHECK: %[[F:.*]]:2 = accel.fused(%arg0)
// CHECK: accel.relu
// CHECK: accel.neg
// CHECK: accel.yield
// CHECK: accel.matmul %[[F]]#0
// CHECK: accel.add %{{.*}}, %arg1 : (tensor<8x8xf32>, tensor<8xf32>)
// CHECK: accel.fused(%[[F]]#1, %{{.*}})
// CHECK: accel.exp
// CHECK: accel.mul
// CHECK: accel.yield
func.func @closed(%x: tensor<8x8xf32>, %bias: tensor<8xf32>) -> tensor<8x8xf32> {
  %r = accel.relu %x : tensor<8x8xf32>
  %n = accel.neg %r : tensor<8x8xf32>
  %mm = accel.matmul %r, %r : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %ab = accel.add %mm, %bias : (tensor<8x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  %e = accel.exp %n : tensor<8x8xf32>
  %y = accel.mul %e, %ab : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %y : tensor<8x8xf32>
}

// -----

// Chains of different shapes and scalar-only chains stay apart; a single
// fusible op is left as it is.
// CHECK-LABEL: func.func @apart
// CHECK-NOT: accel.fused
// CHECK: accel.exp %arg2 : tensor<f32>
// CHECK: accel.sqrt
// CHECK: accel.add
// CHECK: return
func.func @apart(%a: tensor<4xf32>, %b: tensor<5xf32>, %s: tensor<f32>)
    -> (tensor<4xf32>, tensor<5xf32>, tensor<f32>) {
  %e = accel.exp %s : tensor<f32>
  %f = accel.sqrt %e : tensor<f32>
  %x = accel.neg %a : tensor<4xf32>
  %y = accel.add %b, %b : (tensor<5xf32>, tensor<5xf32>) -> tensor<5xf32>
  return %x, %y, %f : tensor<4xf32>, tensor<5xf32>, tensor<f32>
}
