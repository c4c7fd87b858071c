// Folders and canonicalisation patterns of the accel ops.
// RUN: accel-opt %s -canonicalize -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @relu_idempotent
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[R:.+]] = accel.relu %[[X]]
// CHECK-NEXT: return %[[R]], %[[R]]
func.func @relu_idempotent(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = accel.relu %x : tensor<4xf32>
  %1 = accel.relu %0 : tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @neg_neg
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @neg_neg(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = accel.neg %x : tensor<4xf32>
  %1 = accel.neg %0 : tensor<4xf32>
  return %1 : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @cast_same_type
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>)
// CHECK-NEXT: return %[[X]]
func.func @cast_same_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = accel.cast %x : tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Widening to a type that holds every value exactly and back is the identity.
// CHECK-LABEL: func.func @cast_exact_round_trip
// CHECK-SAME: (%[[H:.+]]: tensor<4xbf16>, %[[E:.+]]: tensor<4xf8E4M3FN>, %[[F:.+]]: tensor<4xf8E5M2>)
// CHECK-NEXT: return %[[H]], %[[E]], %[[F]]
func.func @cast_exact_round_trip(%h: tensor<4xbf16>, %e: tensor<4xf8E4M3FN>, %f: tensor<4xf8E5M2>)
    -> (tensor<4xbf16>, tensor<4xf8E4M3FN>, tensor<4xf8E5M2>) {
  %0 = accel.cast %h : tensor<4xbf16> -> tensor<4xf32>
  %1 = accel.cast %0 : tensor<4xf32> -> tensor<4xbf16>
  %2 = accel.cast %e : tensor<4xf8E4M3FN> -> tensor<4xf16>
  %3 = accel.cast %2 : tensor<4xf16> -> tensor<4xf8E4M3FN>
  %4 = accel.cast %f : tensor<4xf8E5M2> -> tensor<4xbf16>
  %5 = accel.cast %4 : tensor<4xbf16> -> tensor<4xf8E5M2>
  return %1, %3, %5 : tensor<4xbf16>, tensor<4xf8E4M3FN>, tensor<4xf8E5M2>
}

// -----

// Narrowing and back rounds: both casts stay. f16 and bf16 do not hold each
// other's values either way.
// CHECK-LABEL: func.func @cast_lossy_round_trip
// CHECK-COUNT-4: accel.cast
func.func @cast_lossy_round_trip(%x: tensor<4xf32>, %h: tensor<4xf16>) -> (tensor<4xf32>, tensor<4xf16>) {
  %0 = accel.cast %x : tensor<4xf32> -> tensor<4xbf16>
  %1 = accel.cast %0 : tensor<4xbf16> -> tensor<4xf32>
  %2 = accel.cast %h : tensor<4xf16> -> tensor<4xbf16>
  %3 = accel.cast %2 : tensor<4xbf16> -> tensor<4xf16>
  return %1, %3 : tensor<4xf32>, tensor<4xf16>
}

// -----

// CHECK-LABEL: func.func @dropout_zero
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %{{.+}}: tensor<i64>)
// CHECK-NEXT: %[[D:.+]] = accel.dropout %[[X]]
// CHECK-NEXT: return %[[X]], %[[D]]
func.func @dropout_zero(%x: tensor<4xf32>, %seed: tensor<i64>) -> (tensor<4xf32>, tensor<4xf32>) {
  %0 = accel.dropout %x, %seed {p = 0.0 : f64} : (tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
  %1 = accel.dropout %x, %seed {p = 0.5 : f64} : (tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
  return %0, %1 : tensor<4xf32>, tensor<4xf32>
}

// -----

// In inference mode the running statistics are returned unchanged.
// CHECK-LABEL: func.func @batch_norm_eval
// CHECK-SAME: (%[[X:.+]]: tensor<2x4xf32>, %[[W:.+]]: tensor<4xf32>, %[[B:.+]]: tensor<4xf32>, %[[M:.+]]: tensor<4xf32>, %[[V:.+]]: tensor<4xf32>)
// CHECK-NEXT: %[[Y:[^,]+]], %{{.+}}, %{{.+}} = accel.batch_norm %[[X]], %[[W]], %[[B]], %[[M]], %[[V]] :
// CHECK-NEXT: return %[[Y]], %[[M]], %[[V]]
func.func @batch_norm_eval(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y, %nm, %nv = accel.batch_norm %x, %w, %b, %m, %v
      : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y, %nm, %nv : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @batch_norm_training
// CHECK-NEXT: %[[Y:[^,]+]], %[[M:[^,]+]], %[[V:[^ ]+]] = accel.batch_norm
// CHECK-NEXT: return %[[Y]], %[[M]], %[[V]]
func.func @batch_norm_training(%x: tensor<2x4xf32>, %w: tensor<4xf32>, %b: tensor<4xf32>, %m: tensor<4xf32>, %v: tensor<4xf32>)
    -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %y, %nm, %nv = accel.batch_norm %x, %w, %b, %m, %v {training}
      : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y, %nm, %nv : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_chain
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[R:.+]] = accel.reshape %[[X]] : tensor<2x8xf32> -> tensor<4x4xf32>
// CHECK-NEXT: return %[[R]], %[[X]]
func.func @reshape_chain(%x: tensor<2x8xf32>) -> (tensor<4x4xf32>, tensor<2x8xf32>) {
  %0 = accel.reshape %x : tensor<2x8xf32> -> tensor<16xf32>
  %1 = accel.reshape %0 : tensor<16xf32> -> tensor<4x4xf32>
  %2 = accel.reshape %1 : tensor<4x4xf32> -> tensor<2x8xf32>
  return %1, %2 : tensor<4x4xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @flatten_one_dim
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @flatten_one_dim(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = accel.flatten %x {start_dim = 1 : i64, end_dim = 1 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @transpose_twice
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[T:.+]] = accel.transpose %[[X]] {dim0 = 0 : i64, dim1 = 2 : i64}
// CHECK-NEXT: return %[[X]], %[[X]], %[[T]]
func.func @transpose_twice(%x: tensor<2x3x4xf32>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4x3x2xf32>) {
  %0 = accel.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : (tensor<2x3x4xf32>) -> tensor<4x3x2xf32>
  %1 = accel.transpose %0 {dim0 = 2 : i64, dim1 = 0 : i64} : (tensor<4x3x2xf32>) -> tensor<2x3x4xf32>
  %2 = accel.transpose %x {dim0 = 1 : i64, dim1 = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1, %2, %0 : tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4x3x2xf32>
}

// -----

// Two transposes of different pairs are a rotation, not the identity.
// CHECK-LABEL: func.func @transpose_rotation
// CHECK-COUNT-2: accel.transpose
func.func @transpose_rotation(%x: tensor<2x3x4xf32>) -> tensor<3x4x2xf32> {
  %0 = accel.transpose %x {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x3x4xf32>) -> tensor<3x2x4xf32>
  %1 = accel.transpose %0 {dim0 = 1 : i64, dim1 = 2 : i64} : (tensor<3x2x4xf32>) -> tensor<3x4x2xf32>
  return %1 : tensor<3x4x2xf32>
}

// -----

// CHECK-LABEL: func.func @permute_compose
// CHECK-SAME: (%[[X:.+]]: tensor<2x3x4xf32>)
// CHECK-NEXT: %[[P:.+]] = accel.permute %[[X]] {permutation = array<i64: 2, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<4x2x3xf32>
// CHECK-NEXT: return %[[P]], %[[X]], %[[X]]
func.func @permute_compose(%x: tensor<2x3x4xf32>) -> (tensor<4x2x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>) {
  // [2, 3, 4] -> [3, 4, 2] -> [4, 2, 3] is one rotation.
  %0 = accel.permute %x {permutation = array<i64: 1, 2, 0>} : (tensor<2x3x4xf32>) -> tensor<3x4x2xf32>
  %1 = accel.permute %0 {permutation = array<i64: 1, 2, 0>} : (tensor<3x4x2xf32>) -> tensor<4x2x3xf32>
  // ... and a third rotation is the identity.
  %2 = accel.permute %1 {permutation = array<i64: 1, 2, 0>} : (tensor<4x2x3xf32>) -> tensor<2x3x4xf32>
  %3 = accel.permute %x {permutation = array<i64: 0, 1, 2>} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  return %1, %2, %3 : tensor<4x2x3xf32>, tensor<2x3x4xf32>, tensor<2x3x4xf32>
}

// -----

// CHECK-LABEL: func.func @slice_full
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-NEXT: %[[S:.+]] = accel.slice %[[X]] {dim = 1 : i64, end = 8 : i64, start = 0 : i64, step = 2 : i64}
// CHECK-NEXT: return %[[X]], %[[S]]
func.func @slice_full(%x: tensor<2x8xf32>) -> (tensor<2x8xf32>, tensor<2x4xf32>) {
  %0 = accel.slice %x {dim = 1 : i64, start = 0 : i64, end = 8 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  %1 = accel.slice %x {dim = 1 : i64, start = 0 : i64, end = 8 : i64, step = 2 : i64} : (tensor<2x8xf32>) -> tensor<2x4xf32>
  return %0, %1 : tensor<2x8xf32>, tensor<2x4xf32>
}

// -----

// CHECK-LABEL: func.func @concat_single
// CHECK-SAME: (%[[X:.+]]: tensor<2x8xf32>)
// CHECK-NEXT: return %[[X]]
func.func @concat_single(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  %0 = accel.concat %x {dim = 0 : i64} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

// x * 1 folds unless the 1 broadcasts x to a larger shape.
// CHECK-LABEL: func.func @mul_one
// CHECK-SAME: (%[[X:.+]]: tensor<4xf32>, %[[S:.+]]: tensor<f32>)
// CHECK: %[[B:.+]] = accel.mul %[[S]], %{{.+}} : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
// CHECK: return %[[X]], %[[X]], %[[B]]
func.func @mul_one(%x: tensor<4xf32>, %s: tensor<f32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %one = arith.constant dense<1.0> : tensor<f32>
  %ones = arith.constant dense<1.0> : tensor<4xf32>
  %0 = accel.mul %x, %one : (tensor<4xf32>, tensor<f32>) -> tensor<4xf32>
  %1 = accel.mul %one, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = accel.mul %s, %ones : (tensor<f32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}
