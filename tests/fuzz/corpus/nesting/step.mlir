func.func @f(%x: tensor<4xf32> {accel.input = "x"}) -> tensor<f32> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32> // [
  return %0 : tensor<f32>
}
