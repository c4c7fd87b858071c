// accel-fp8's options, and the models it refuses.
// RUN: not accel-opt %s -split-input-file --accel-fp8="recipe=delayed-ish" 2>&1 | FileCheck %s --check-prefix=RECIPE
// RUN: not accel-opt %s -split-input-file --accel-fp8="entry=model" 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not accel-opt %s -split-input-file --accel-fp8 --accel-fp8 2>&1 | FileCheck %s --check-prefix=TWICE
// RUN: not accel-opt %s -split-input-file --accel-fp8="keep-first-last=false exclude=[" 2>&1 | FileCheck %s --check-prefix=GLOB
// RUN: not accel-opt %s -split-input-file --accel-fp8="override=fc*" 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// RUN: not accel-opt %s -split-input-file --accel-fp8="override=fc*=fast" 2>&1 | FileCheck %s --check-prefix=OVERRIDE
// RUN: not accel-opt %s -split-input-file --accel-fp8="override=[=rowwise" 2>&1 | FileCheck %s --check-prefix=OVERRIDE-GLOB
// RUN: not accel-opt %s -split-input-file --accel-fp8="recipe=delayed amax-algo=mean" 2>&1 | FileCheck %s --check-prefix=ALGO
// RUN: not accel-opt %s -split-input-file --accel-fp8="recipe=delayed format=e5m2" 2>&1 | FileCheck %s --check-prefix=FORMAT
// RUN: not accel-opt %s -split-input-file --accel-fp8="recipe=delayed amax-history=0" 2>&1 | FileCheck %s --check-prefix=HISTORY
// RUN: accel-opt %s --accel-fp8="keep-first-last=false" -verify-diagnostics -split-input-file -o %t.discard.mlir
// RECIPE: error: unknown FP8 recipe 'delayed-ish' (tensorwise, rowwise, rowwise-gw-hp, mxfp8 or delayed)
// ENTRY: error: no function '@model' to convert to FP8
// TWICE: error: is already converted to FP8 ("tensorwise")
// GLOB: error: bad exclude glob '['
// OVERRIDE-GLOB: error: bad override glob '['
// ALGO: error: unknown amax-algo 'mean' (max or most_recent)
// FORMAT: error: unknown FP8 format 'e5m2' (hybrid or e4m3)
// HISTORY: error: delayed scaling needs amax-history >= 1 and margin >= 0, got 0 and 0
// OVERRIDE: error: bad override '{{.*}}': expected GLOB=RECIPE with RECIPE one of tensorwise, rowwise, rowwise-gw-hp, mxfp8 or delayed

func.func @forward(%w: tensor<16x16xf32> {accel.param = "fc.weight"},
                   %w2: tensor<16x16xf32> {accel.param = "fc2.weight"},
                   %w3: tensor<16x16xf32> {accel.param = "fc3.weight"},
                   %x: tensor<4x16xf32> {accel.input = "x"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %h2 = accel.linear %h, %w2 : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %h3 = accel.linear %h2, %w3 : (tensor<4x16xf32>, tensor<16x16xf32>) -> tensor<4x16xf32>
  %loss = accel.mse_loss %h3, %x : (tensor<4x16xf32>, tensor<4x16xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @below {{no linear layer is eligible for FP8 (recipe tensorwise)}}
func.func @forward(%w: tensor<10x8xf32> {accel.param = "fc.weight"},
                   %x: tensor<4x8xf32> {accel.input = "x"},
                   %y: tensor<4xi64> {accel.input = "y"}) -> tensor<f32> {
  // expected-note @below {{fc: kept: 8 in, 10 out features; FP8 GEMMs need multiples of 16}}
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<10x8xf32>) -> tensor<4x10xf32>
  %loss = accel.cross_entropy %h, %y : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// -----

// expected-error @below {{no linear layer is eligible for FP8 (recipe tensorwise): the function has no linear layer or 2-d matmul}}
func.func @forward(%x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %loss = accel.mse_loss %x, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
