// accel-forward-pipeline checks the forward contract, then simplifies.
// RUN: accel-opt %s -split-input-file --accel-forward-pipeline | FileCheck %s
// RUN: accel-opt %s -split-input-file --pass-pipeline="builtin.module(accel-forward-pipeline{entry=forward})" | FileCheck %s
// The hand-written MLP example goes through unchanged but for value names.
// RUN: accel-opt %S/../../../examples/mlp/forward.mlir --accel-forward-pipeline | FileCheck %s --check-prefix=MLP

// CHECK-LABEL: func.func @forward
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32> {accel.input = "x"})
// CHECK-NEXT: %[[R:.+]] = accel.relu %[[X]]
// CHECK-NEXT: %[[S:.+]] = accel.sum %[[R]] {dims = array<i64: 0, 1, 2>}
// CHECK-NEXT: return %[[S]]
func.func @forward(%x: tensor<2x3x4xf32> {accel.input = "x"}) -> tensor<f32> {
  %0 = accel.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  %1 = accel.transpose %0 {dim0 = 0 : i64, dim1 = 2 : i64} : (tensor<4x3x2xf32>) -> tensor<2x3x4xf32>
  %2 = accel.relu %1 : tensor<2x3x4xf32>
  // CSE merges the duplicate.
  %3 = accel.relu %x : tensor<2x3x4xf32>
  %4 = accel.relu %3 : tensor<2x3x4xf32>
  %5 = accel.sum %4 {dims = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  // Dead code goes away.
  %6 = accel.sum %2 {dims = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<f32>
  return %5 : tensor<f32>
}

// MLP-LABEL: func.func @forward
// MLP-SAME: %{{.+}}: tensor<1024x784xf32> {accel.param = "0.weight"}
// MLP-SAME: %{{.+}}: tensor<10xf32> {accel.param = "4.bias"}
// MLP-SAME: %{{.+}}: tensor<128x1x28x28xf32> {accel.input = "x"}
// MLP-SAME: %{{.+}}: tensor<128xi64> {accel.input = "y"}) -> tensor<f32>
// MLP: accel.flatten
// MLP-COUNT-2: accel.relu
// MLP: accel.cross_entropy {{.*}} -> tensor<f32>
