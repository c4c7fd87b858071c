// accel-overlap-collectives: each collective starts where its operands
// exist and is waited for where its results are first read.
// RUN: accel-opt %s -split-input-file --accel-overlap-collectives | FileCheck %s
// RUN: accel-opt %s -split-input-file --accel-overlap-collectives="max-in-flight=1" | FileCheck %s --check-prefix=ONE
// RUN: not accel-opt %s -split-input-file --accel-overlap-collectives="max-in-flight=0" 2>&1 | FileCheck %s --check-prefix=ZERO

// ZERO: error: max-in-flight must be at least 1, got 0

// DDP's buckets: each all-reduce moves up to its last gradient, inside the
// backward pass; its wait goes before the update that reads it.
// CHECK-LABEL: func.func @buckets
// CHECK:      %[[G2:.*]] = accel.relu %arg2
// CHECK-NEXT: %[[R0:.*]] = accel.all_reduce mean %[[G2]] {ranks = 2 : i64}
// CHECK-NEXT: %[[H:.*]] = accel.tanh %arg2
// CHECK-NEXT: %[[G1:.*]] = accel.sigmoid %[[H]]
// CHECK-NEXT: %[[R1:.*]] = accel.all_reduce mean %[[G1]] {bucket = 1 : i64, ranks = 2 : i64}
// CHECK-NEXT: %[[W0:.*]] = accel.wait %[[R0]] : tensor<8x8xf32>
// CHECK-NEXT: %[[U2:.*]] = accel.sub %arg1, %[[W0]]
// CHECK-NEXT: %[[W1:.*]] = accel.wait %[[R1]] : tensor<8x8xf32>
// CHECK-NEXT: %[[U1:.*]] = accel.sub %arg0, %[[W1]]
// CHECK-NEXT: return %[[U1]], %[[U2]]
// One in flight: bucket 0 is waited for before bucket 1 starts.
// ONE-LABEL: func.func @buckets
// ONE:      accel.all_reduce mean {{.*}} {ranks = 2 : i64}
// ONE-NEXT: accel.tanh
// ONE-NEXT: accel.sigmoid
// ONE-NEXT: accel.wait
// ONE-NEXT: accel.all_reduce mean {{.*}} {bucket = 1 : i64
// ONE-NEXT: accel.sub
// ONE-NEXT: accel.wait
func.func @buckets(%w1: tensor<8x8xf32>, %w2: tensor<8x8xf32>, %x: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %g2 = accel.relu %x : tensor<8x8xf32>
  %h = accel.tanh %x : tensor<8x8xf32>
  %g1 = accel.sigmoid %h : tensor<8x8xf32>
  %r0 = accel.all_reduce mean %g2 {bucket = 0 : i64, ranks = 2 : i64} : tensor<8x8xf32>
  %r1 = accel.all_reduce mean %g1 {bucket = 1 : i64, ranks = 2 : i64} : tensor<8x8xf32>
  %u2 = accel.sub %w2, %r0 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  %u1 = accel.sub %w1, %r1 : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %u1, %u2 : tensor<8x8xf32>, tensor<8x8xf32>
}

// -----

// FSDP: the first unit's gather stays where it is; each next one starts
// when the unit before it starts computing (one unit ahead); the backward
// pass's gather of unit 0 again starts once the forward's copy is dead.
// CHECK-LABEL: func.func @units
// CHECK:      %[[P0:.*]] = accel.all_gather %arg0
// CHECK-NEXT: %[[P1:.*]] = accel.all_gather %arg1
// CHECK-NEXT: %[[Q0:.*]] = accel.wait %[[P0]]
// CHECK-NEXT: %[[A:.*]] = accel.mul %arg3, %[[Q0]]
// CHECK-NEXT: %[[A2:.*]] = accel.tanh %[[A]]
// CHECK-NEXT: %[[P2:.*]] = accel.all_gather %arg2
// CHECK-NEXT: %[[Q1:.*]] = accel.wait %[[P1]]
// CHECK-NEXT: %[[B:.*]] = accel.mul %[[A2]], %[[Q1]]
// CHECK-NEXT: %[[B2:.*]] = accel.tanh %[[B]]
// CHECK-NEXT: %[[AGAIN:.*]] = accel.all_gather %arg0
// CHECK-NEXT: %[[Q2:.*]] = accel.wait %[[P2]]
// CHECK-NEXT: %[[C:.*]] = accel.mul %[[B2]], %[[Q2]]
// CHECK-NEXT: %[[R:.*]] = accel.wait %[[AGAIN]]
// CHECK-NEXT: accel.mul %[[C]], %[[R]]
func.func @units(%s0: tensor<4xf32>, %s1: tensor<4xf32>, %s2: tensor<4xf32>, %x: tensor<8xf32>) -> tensor<8xf32> {
  %p0 = accel.all_gather %s0 backward mean {ranks = 2 : i64, reshard} : tensor<4xf32> -> tensor<8xf32>
  %a = accel.mul %x, %p0 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %a2 = accel.tanh %a : tensor<8xf32>
  %p1 = accel.all_gather %s1 backward mean {ranks = 2 : i64, reshard} : tensor<4xf32> -> tensor<8xf32>
  %b = accel.mul %a2, %p1 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %b2 = accel.tanh %b : tensor<8xf32>
  %p2 = accel.all_gather %s2 backward mean {ranks = 2 : i64, reshard} : tensor<4xf32> -> tensor<8xf32>
  %c = accel.mul %b2, %p2 : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  %again = accel.all_gather %s0 backward mean {ranks = 2 : i64, reshard} : tensor<4xf32> -> tensor<8xf32>
  %d = accel.mul %c, %again : (tensor<8xf32>, tensor<8xf32>) -> tensor<8xf32>
  return %d : tensor<8xf32>
}

// -----

// Left where they are, run at once: a forward pass's batch statistics
// (bucket -1) and a collective already split.
// CHECK-LABEL: func.func @stay
// CHECK:      accel.relu
// CHECK-NEXT: accel.all_reduce sum {{.*}} {bucket = -1 : i64
// CHECK-NEXT: %[[S:.*]] = accel.all_reduce mean %arg0 {bucket = 2 : i64
// CHECK-NEXT: accel.tanh
// CHECK-NEXT: accel.wait %[[S]]
// CHECK-NOT:  accel.wait
func.func @stay(%g: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %x = accel.relu %g : tensor<4xf32>
  %s = accel.all_reduce sum %x {bucket = -1 : i64, ranks = 2 : i64} : tensor<4xf32>
  %r = accel.all_reduce mean %g {bucket = 2 : i64, ranks = 2 : i64} : tensor<4xf32>
  %t = accel.tanh %g : tensor<4xf32>
  %w = accel.wait %r : tensor<4xf32>
  return %s, %w, %t : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// 16-bit collectives overlap like f32 ones (mixed precision's gathers in
// the compute type and reduce-dtype=bf16 reductions).
// CHECK-LABEL: func.func @sixteen_bit
// CHECK-NEXT: %[[B:.*]] = accel.all_reduce mean %arg0 {ranks = 2 : i64} : tensor<4xbf16>
// CHECK-NEXT: %[[G:.*]] = accel.all_gather %arg1 {bucket = 1 : i64, ranks = 2 : i64} : tensor<2xf32> -> tensor<4xbf16>
// CHECK-NEXT: accel.tanh
// CHECK-NEXT: accel.wait %[[B]]
// CHECK-NEXT: accel.wait %[[G]]
func.func @sixteen_bit(%h: tensor<4xbf16>, %s: tensor<2xf32>, %g: tensor<4xf32>) -> (tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>) {
  %b = accel.all_reduce mean %h {ranks = 2 : i64} : tensor<4xbf16>
  %w = accel.all_gather %s {bucket = 1 : i64, ranks = 2 : i64} : tensor<2xf32> -> tensor<4xbf16>
  %t = accel.tanh %g : tensor<4xf32>
  return %b, %w, %t : tensor<4xbf16>, tensor<4xbf16>, tensor<4xf32>
}
