// The preconditions of accel-plan-memory.
// RUN: accel-opt %s -split-input-file --accel-plan-memory -verify-diagnostics
// RUN: not accel-opt %s --accel-plan-memory=alignment=48 2>&1 | FileCheck %s --check-prefix=ALIGN
// ALIGN: error: alignment must be a power of two, got 48

// expected-error @+1 {{no function '@train_step' to plan}}
module {
}

// -----

func.func private @grad(%x: tensor<4xf32>) -> tensor<4xf32>
func.func @train_step(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'func.call' op must be inlined before memory planning (run --inline first)}}
  %0 = func.call @grad(%x) : (tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
