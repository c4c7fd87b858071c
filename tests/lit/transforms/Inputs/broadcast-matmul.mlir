// Ops that broadcast an operand without the batch along it: a shared
// weight matrix in a batched product, a target expanded over features.
func.func @forward(%x: tensor<8x3x4xf32> {accel.input = "x"},
                   %t: tensor<8x1xf32> {accel.input = "t"},
                   %w: tensor<4x5xf32> {accel.param = "w"}) -> tensor<f32> {
  %y = accel.matmul %x, %w : (tensor<8x3x4xf32>, tensor<4x5xf32>) -> tensor<8x3x5xf32>
  %f = accel.reshape %y : tensor<8x3x5xf32> -> tensor<8x15xf32>
  %e = accel.broadcast_to %t : tensor<8x1xf32> -> tensor<8x15xf32>
  %l = accel.mse_loss %f, %e : (tensor<8x15xf32>, tensor<8x15xf32>) -> tensor<f32>
  return %l : tensor<f32>
}
