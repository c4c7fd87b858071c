// Every violation of the training-step contract accel-verify-step reports.
// RUN: accel-opt %s -split-input-file --accel-verify-step -verify-diagnostics

// expected-error @+1 {{argument #0 (accel.param "w") has no result carrying its new value (a result with accel.param = "w"); it would never change}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}) -> (tensor<f32>, tensor<4xf32>) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w : tensor<f32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{argument #1 (accel.opt_state "w.exp_avg") has no result carrying its new value}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}, %m: tensor<4xf32> {accel.opt_state = "w.exp_avg"}) -> (tensor<f32>, tensor<4xf32> {accel.param = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w : tensor<f32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{result #1 updates accel.param "v", which no argument holds}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}) -> (tensor<f32>, tensor<4xf32> {accel.param = "v"}, tensor<4xf32> {accel.param = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w, %w : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{result #1 of type 'tensor<4xbf16>' updates "w" (argument #0) of type 'tensor<4xf32>'}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}) -> (tensor<f32>, tensor<4xbf16> {accel.param = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  %1 = accel.cast %w : tensor<4xf32> -> tensor<4xbf16>
  return %0, %1 : tensor<f32>, tensor<4xbf16>
}

// -----

// expected-error @+1 {{"w" (argument #0) is updated by more than one result}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}) -> (tensor<f32>, tensor<4xf32> {accel.param = "w"}, tensor<4xf32> {accel.param = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w, %w : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{argument #1 is named "__metadata__", which safetensors reserves; rename the accel.opt_state}}
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}, %m: tensor<4xf32> {accel.opt_state = "__metadata__"}) -> (tensor<f32>, tensor<4xf32> {accel.param = "w"}, tensor<4xf32> {accel.opt_state = "__metadata__"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w, %m : tensor<f32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A buffer nothing updates keeps its value: not an error.
func.func @train_step(%w: tensor<4xf32> {accel.param = "w"}, %mask: tensor<4xf32> {accel.buffer = "mask"}) -> (tensor<f32>, tensor<4xf32> {accel.param = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0, %w : tensor<f32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{no function '@train_step' to verify}}
module {
}
