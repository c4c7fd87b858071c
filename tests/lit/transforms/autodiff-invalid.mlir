// The preconditions of accel-autodiff.
// RUN: accel-opt %s -split-input-file --accel-autodiff -verify-diagnostics

// expected-error @+1 {{parameter "steps" has type 'tensor<i64>'; only floating-point parameters take gradients (mark it 'accel.buffer' if it is not trained)}}
func.func @forward(%w: tensor<4xf32> {accel.param = "w"}, %n: tensor<i64> {accel.param = "steps"}) -> tensor<f32> {
  %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

// expected-error @+1 {{result #0 must be the loss, a rank-0 floating-point tensor, got 'tensor<4xf32>'}}
func.func @forward(%w: tensor<4xf32> {accel.param = "w"}) -> tensor<4xf32> {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{no function named '@forward' to train}}
module {
}

// -----

// expected-error @+1 {{'@forward_grad' already exists}}
module {
  func.func @forward(%w: tensor<4xf32> {accel.param = "w"}) -> tensor<f32> {
    %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
  func.func @forward_grad() {
    return
  }
}

// -----

func.func @forward(%w: tensor<4xf32> {accel.param = "w"}) -> tensor<f32> {
  // expected-error @+1 {{'arith.mulf' op is on the path from the parameters to the loss but has no vector-Jacobian product}}
  %0 = arith.mulf %w, %w : tensor<4xf32>
  %1 = accel.sum %0 {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %1 : tensor<f32>
}
