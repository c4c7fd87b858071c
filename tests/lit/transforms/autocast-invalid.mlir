// accel-autocast's options and preconditions.
// RUN: not accel-opt %s --accel-autocast="dtype=f8" 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not accel-opt %s --accel-autocast="policy=xla" 2>&1 | FileCheck %s --check-prefix=POLICY
// RUN: not accel-opt %s --accel-autocast="entry=model" 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not accel-opt %s --accel-autocast --accel-autocast 2>&1 | FileCheck %s --check-prefix=TWICE
// DTYPE: error: unknown precision 'f8' (autocast takes bf16 or fp16; fp32 needs none)
// POLICY: error: unknown autocast policy 'xla' (cpu or cuda)
// ENTRY: error: no function '@model' to autocast
// TWICE: error: is already autocast to "bf16"
func.func @forward(%w: tensor<8x8xf32> {accel.param = "w"},
                   %x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %loss = accel.mse_loss %h, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
