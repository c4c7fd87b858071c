// A step whose fused body holds an op the CPU driver has no fused form
// for (a rounding to bf16): accel-run must name it and stop.
func.func @train_step(%p: tensor<8xf32> {accel.param = "p"},
                      %x: tensor<8xf32> {accel.input = "input"},
                      %step: tensor<i64> {accel.step = "step"},
                      %lr: tensor<f32> {accel.lr = "lr"})
    -> (tensor<f32>, tensor<8xf32> {accel.param = "p"}) {
  %new = accel.fused(%p, %x, %lr) : (tensor<8xf32>, tensor<8xf32>, tensor<f32>) -> tensor<8xf32> {
  ^bb0(%pe: tensor<f32>, %xe: tensor<f32>, %lre: tensor<f32>):
    %b = accel.cast %xe : tensor<f32> -> tensor<bf16>
    %c = accel.cast %b : tensor<bf16> -> tensor<f32>
    %d = accel.mul %c, %lre : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %e = accel.sub %pe, %d : (tensor<f32>, tensor<f32>) -> tensor<f32>
    accel.yield %e : tensor<f32>
  }
  %loss = accel.sum %new {dims = array<i64: 0>} : (tensor<8xf32>) -> tensor<f32>
  return %loss, %new : tensor<f32>, tensor<8xf32>
}
