// Reshapes and flattens are views: no bytes of their own, the offset of the
// value they reshape, which stays live as long as a view of it is read.
// RUN: accel-opt %s --accel-plan-memory=entry=views | FileCheck %s

// %a is read through %v by the add, after %b is produced: %b cannot take
// %a's bytes (without views, %b would reuse them and the add read %b). The reshape of the argument has no offset (it is the
// argument's bytes).
// CHECK-LABEL: func.func @views
// CHECK-SAME: accel.arena_bytes = 192 : i64
// CHECK: accel.relu %arg0 {accel.arena_offsets = array<i64: 0>}
// CHECK: accel.reshape %{{.*}} {accel.arena_offsets = array<i64: 0>, accel.view}
// CHECK: accel.neg %arg0 {accel.arena_offsets = array<i64: 64>}
// CHECK: accel.reshape %arg0 {accel.view}
// CHECK: accel.add %{{.*}}, %{{.*}} {accel.arena_offsets = array<i64: 128>}
func.func @views(%x: tensor<16xf32>) -> (tensor<4x4xf32>, tensor<16xf32>, tensor<4x4xf32>) {
  %a = accel.relu %x : tensor<16xf32>
  %v = accel.reshape %a : tensor<16xf32> -> tensor<4x4xf32>
  %b = accel.neg %x : tensor<16xf32>
  %w = accel.reshape %x : tensor<16xf32> -> tensor<4x4xf32>
  %d = accel.add %v, %w : (tensor<4x4xf32>, tensor<4x4xf32>) -> tensor<4x4xf32>
  return %d, %b, %w : tensor<4x4xf32>, tensor<16xf32>, tensor<4x4xf32>
}
