// Every violation of the forward contract that accel-verify-forward reports.
// RUN: accel-opt %s -split-input-file -accel-verify-forward -verify-diagnostics

// expected-error @+1 {{no function named '@forward' to train}}
module {
  func.func @train(%x: tensor<8xf32> {accel.input = "x"}) -> tensor<f32> {
    %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// expected-error @+1 {{forward function has no body}}
func.func private @forward(%x: tensor<8xf32> {accel.input = "x"}) -> tensor<f32>

// -----

// expected-error @+1 {{argument #1 is neither a parameter ('accel.param'), a buffer ('accel.buffer'), FP8 state ('accel.fp8_state'), an input ('accel.input') nor the seed ('accel.seed')}}
func.func @forward(%x: tensor<8xf32> {accel.input = "x"}, %s: tensor<8xf32>) -> tensor<f32> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// expected-error @+1 {{result #0 must be the loss, a rank-0 floating-point tensor, got 'tensor<8xf32>'}}
func.func @forward(%x: tensor<8xf32> {accel.input = "x"}) -> tensor<8xf32> {
  return %x : tensor<8xf32>
}

// -----

// expected-error @+1 {{result #0 must be the loss, a rank-0 floating-point tensor, got no result}}
func.func @forward(%x: tensor<8xf32> {accel.input = "x"}) {
  return
}

// -----

// expected-error @+1 {{result #0 is the loss and cannot carry 'accel.buffer'}}
func.func @forward(%x: tensor<8xf32> {accel.input = "x"}) -> (tensor<f32> {accel.buffer = "x"}) {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// expected-error @+1 {{result #1 must name the buffer it updates with 'accel.buffer' (or the FP8 state, 'accel.fp8_state')}}
func.func @forward(%x: tensor<8xf32> {accel.input = "x"}) -> (tensor<f32>, tensor<8xf32>) {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0, %x : tensor<f32>, tensor<8xf32>
}

// -----

// expected-error @+1 {{result #1 updates "w", which is not a buffer argument}}
func.func @forward(%w: tensor<8xf32> {accel.param = "w"})
    -> (tensor<f32>, tensor<8xf32> {accel.buffer = "w"}) {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0, %w : tensor<f32>, tensor<8xf32>
}

// -----

// expected-error @+1 {{result #1 of type 'tensor<4xf32>' updates buffer "bn.running_mean" of type 'tensor<8xf32>'}}
func.func @forward(%m: tensor<8xf32> {accel.buffer = "bn.running_mean"}, %x: tensor<4xf32> {accel.input = "x"})
    -> (tensor<f32>, tensor<4xf32> {accel.buffer = "bn.running_mean"}) {
  %0 = accel.sum %m {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0, %x : tensor<f32>, tensor<4xf32>
}

// -----

// expected-error @+1 {{"bn.running_mean" is updated by more than one result}}
func.func @forward(%m: tensor<8xf32> {accel.buffer = "bn.running_mean"})
    -> (tensor<f32>, tensor<8xf32> {accel.buffer = "bn.running_mean"}, tensor<8xf32> {accel.buffer = "bn.running_mean"}) {
  %0 = accel.sum %m {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0, %m, %m : tensor<f32>, tensor<8xf32>, tensor<8xf32>
}

// -----

// expected-error @+1 {{result #1 updates "bn.running_mean", which is not an FP8 state argument}}
func.func @forward(%m: tensor<8xf32> {accel.buffer = "bn.running_mean"})
    -> (tensor<f32>, tensor<8xf32> {accel.fp8_state = "bn.running_mean"}) {
  %0 = accel.sum %m {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0, %m : tensor<f32>, tensor<8xf32>
}
