// A batch norm in training mode on bf16 activations (mixed precision: the
// parameters and running statistics stay f32).
func.func @forward(%x: tensor<8x2x3x3xf32> {accel.input = "x"},
                   %w: tensor<2xf32> {accel.param = "bn.weight"},
                   %b: tensor<2xf32> {accel.param = "bn.bias"},
                   %m: tensor<2xf32> {accel.buffer = "bn.running_mean"},
                   %v: tensor<2xf32> {accel.buffer = "bn.running_var"})
    -> (tensor<f32>, tensor<2xf32> {accel.buffer = "bn.running_mean"},
        tensor<2xf32> {accel.buffer = "bn.running_var"}) {
  %h = accel.cast %x : tensor<8x2x3x3xf32> -> tensor<8x2x3x3xbf16>
  %y, %nm, %nv = accel.batch_norm %h, %w, %b, %m, %v {training} : (tensor<8x2x3x3xbf16>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> (tensor<8x2x3x3xbf16>, tensor<2xf32>, tensor<2xf32>)
  %f = accel.cast %y : tensor<8x2x3x3xbf16> -> tensor<8x2x3x3xf32>
  %l = accel.mean %f {dims = array<i64: 0, 1, 2, 3>} : (tensor<8x2x3x3xf32>) -> tensor<f32>
  return %l, %nm, %nv : tensor<f32>, tensor<2xf32>, tensor<2xf32>
}
