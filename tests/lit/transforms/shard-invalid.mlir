// What accel-shard refuses: anything that would make N ranks compute
// something other than one rank, reported at the op.
// RUN: accel-opt %s -split-input-file --accel-shard="ranks=2" -verify-diagnostics
// RUN: not accel-opt %s -split-input-file --accel-shard="ranks=4" 2>&1 | FileCheck %s --check-prefix=UNEVEN
// RUN: not accel-opt %s -split-input-file --accel-shard="strategy=ddp ranks=2 units=blocks.*" 2>&1 | FileCheck %s --check-prefix=UNITS
// RUN: not accel-opt %s -split-input-file --accel-shard="strategy=fsdp ranks=2 units=[" 2>&1 | FileCheck %s --check-prefix=GLOB
// RUN: not accel-opt %s -split-input-file --accel-shard="strategy=tp ranks=2" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not accel-opt %s -split-input-file --accel-shard="ranks=0" 2>&1 | FileCheck %s --check-prefix=RANKS
// RUN: not accel-opt %s -split-input-file --accel-autodiff --accel-shard="ranks=2" 2>&1 | FileCheck %s --check-prefix=ORDER
// RUN: not accel-opt %S/Inputs/shard-eval-exists.mlir --accel-shard="ranks=2" 2>&1 | FileCheck %s --check-prefix=EVAL

// UNEVEN: error: the batch of 6 samples (input 'x') does not divide evenly over 4 ranks
// UNITS: error: accel-shard units= groups parameters for strategy fsdp, not ddp
// GLOB: error: accel-shard units: '[' is not a glob: {{.+}}
// UNKNOWN: error: accel-shard strategy 'tp' is unknown (strategies: ddp, zero1, zero2, fsdp)
// RANKS: error: accel-shard needs ranks >= 1, got 0
// ORDER: error: accel-shard splits the forward's batch and runs before accel-autodiff; @forward_grad already exists
// EVAL: error: accel-shard keeps the unsplit forward as @forward_eval, which already exists

func.func @forward(%x: tensor<6x4xf32> {accel.input = "x"}) -> tensor<f32> {
  // expected-error @+1 {{'accel.softmax' op cannot be split over 2 data-parallel ranks: it normalises over the batch dimension}}
  %s = accel.softmax %x {dim = 0 : i64} : (tensor<6x4xf32>) -> tensor<6x4xf32>
  %l = accel.sum %s {dims = array<i64: 0, 1>} : (tensor<6x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"}) -> tensor<f32> {
  %l = accel.mean %x {dims = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
  // expected-error @+1 {{'accel.exp' op cannot be split over 2 data-parallel ranks: it transforms the batch-reduced loss non-linearly}}
  %e = accel.exp %l : tensor<f32>
  return %e : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"}) -> tensor<f32> {
  %s = accel.sum %x {dims = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
  %c = arith.constant dense<1.0> : tensor<f32>
  // expected-error @+1 {{'accel.add' op cannot be split over 2 data-parallel ranks: it adds terms that do not combine over the ranks as the whole batch's loss}}
  %l = accel.add %s, %c : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"}) -> tensor<f32> {
  // expected-error @+1 {{'accel.amax' op cannot be split over 2 data-parallel ranks: a maximum over the batch is not a sum or a mean of the ranks' maxima}}
  %m = accel.amax %x {dims = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
  return %m : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"}) -> tensor<f32> {
  %c = arith.constant dense<1.0> : tensor<8x4xf32>
  // expected-error @+1 {{'accel.mul' op cannot be split over 2 data-parallel ranks: operand 'tensor<8x4xf32>' spans the batch dimension without being split with it}}
  %y = accel.mul %x, %c : (tensor<8x4xf32>, tensor<8x4xf32>) -> tensor<8x4xf32>
  %l = accel.mean %y {dims = array<i64: 0, 1>} : (tensor<8x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x3xf32> {accel.input = "x"}) -> tensor<f32> {
  // expected-error @+1 {{'accel.reshape' op cannot be split over 2 data-parallel ranks: the reshape to 'tensor<3x8xf32>' splits the batch (of 8 samples) across dimensions}}
  %r = accel.reshape %x : tensor<8x3xf32> -> tensor<3x8xf32>
  %l = accel.mean %r {dims = array<i64: 0, 1>} : (tensor<3x8xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

// expected-error @+1 {{the loss (result #0) is not a sum or mean over the batch, so the ranks' losses do not combine into the whole batch's}}
func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"},
                   %w: tensor<4xf32> {accel.param = "w"}) -> tensor<f32> {
  %l = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x4xf32> {accel.input = "x"}) -> tensor<f32> {
  // expected-error @+1 {{'accel.slice' op cannot be split over 2 data-parallel ranks: it slices the batch dimension}}
  %s = accel.slice %x {dim = 0 : i64, start = 0 : i64, end = 4 : i64} : (tensor<8x4xf32>) -> tensor<4x4xf32>
  %l = accel.mean %s {dims = array<i64: 0, 1>} : (tensor<4x4xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// -----

func.func @forward(%x: tensor<8x3x4xf32> {accel.input = "x"},
                   %w: tensor<8x4x5xf32> {accel.param = "w"}) -> tensor<f32> {
  // expected-error @+1 {{'accel.matmul' op cannot be split over 2 data-parallel ranks: operand 'tensor<8x4x5xf32>' spans the batch dimension without being split with it}}
  %y = accel.matmul %x, %w : (tensor<8x3x4xf32>, tensor<8x4x5xf32>) -> tensor<8x3x5xf32>
  %l = accel.mean %y {dims = array<i64: 0, 1, 2>} : (tensor<8x3x5xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
