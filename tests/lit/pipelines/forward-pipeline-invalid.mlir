// The pipeline stops at a broken forward contract, before simplifying.
// RUN: accel-opt %s --accel-forward-pipeline -verify-diagnostics

// expected-error @+1 {{argument #0 is neither a parameter ('accel.param'), a buffer ('accel.buffer'), FP8 state ('accel.fp8_state'), an input ('accel.input') nor the seed ('accel.seed')}}
func.func @forward(%x: tensor<8xf32>) -> tensor<f32> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
