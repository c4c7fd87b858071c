// accel-plan-memory gives every intermediate tensor an arena offset, reusing
// the bytes of dead tensors.
// RUN: accel-opt %s --accel-plan-memory=entry=step -verify-diagnostics | FileCheck %s
// The arena remark is one line, at the function's line: no echo of its
// signature (a training step's is thousands of characters).
// RUN: accel-opt %s --accel-plan-memory=entry=step -o /dev/null 2>&1 \
// RUN:   | FileCheck %s --check-prefix=REMARK --implicit-check-not=func.func
// REMARK: plan-memory.mlir:[[# @LINE + 14]]:0: remark: arena of 8192 bytes{{.*}}once){{$}}

// a (4 KiB) -> b (4 KiB) -> c (4 KiB) -> sum (4 bytes, aligned to 64): c
// reuses a's bytes and the sum b's, so two buffers' worth suffices.
// Constants and arguments take no arena bytes.
// CHECK-LABEL: func.func @step
// CHECK-SAME: accel.arena_bytes = 8192 : i64
// CHECK: arith.constant
// CHECK-NOT: accel.arena_offsets
// CHECK: accel.relu %arg0 {accel.arena_offsets = array<i64: [[A:[0-9]+]]>}
// CHECK: accel.neg %{{.*}} {accel.arena_offsets = array<i64: [[B:[0-9]+]]>}
// CHECK: accel.exp %{{.*}} {accel.arena_offsets = array<i64: [[A]]>}
// CHECK: accel.sum %{{.*}} {accel.arena_offsets = array<i64: [[B]]>
// expected-remark @+1 {{arena of 8192 bytes for 4 buffers (at least 8192 bytes are live at once)}}
func.func @step(%x: tensor<1024xf32>) -> tensor<f32> {
  %c = arith.constant dense<2.0> : tensor<1024xf32>
  %a = accel.relu %x : tensor<1024xf32>
  %b = accel.neg %a : tensor<1024xf32>
  %e = accel.exp %b : tensor<1024xf32>
  %s = accel.sum %e {dims = array<i64: 0>} : (tensor<1024xf32>) -> tensor<f32>
  return %s : tensor<f32>
}
