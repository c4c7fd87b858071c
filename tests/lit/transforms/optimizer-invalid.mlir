// The preconditions of accel-optimizer.
// RUN: accel-opt %s -split-input-file --accel-optimizer -verify-diagnostics
// RUN: not accel-opt %s -split-input-file --accel-optimizer=kind=lamb 2>&1 | FileCheck %s --check-prefix=KIND
// RUN: not accel-opt %s --accel-optimizer=grad-accum=0 2>&1 | FileCheck %s --check-prefix=ACCUM

// expected-error @+1 {{no '@forward_grad' to build the training step on; run accel-autodiff first}}
module {
  func.func @forward(%w: tensor<4xf32> {accel.param = "w"}) -> tensor<f32> {
    %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %0 : tensor<f32>
  }
}

// -----

// expected-error @+1 {{'@train_step' already exists}}
module {
  func.func @forward_grad(%w: tensor<4xf32> {accel.param = "w"}) -> (tensor<f32>, tensor<4xf32> {accel.grad = "w"}) {
    %0 = accel.sum %w {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
    return %0, %w : tensor<f32>, tensor<4xf32>
  }
  func.func @train_step() {
    return
  }
}

// KIND: error: unknown optimizer kind 'lamb' (sgd, adam or adamw)
// ACCUM: error: grad-accum must be at least 1, got 0
