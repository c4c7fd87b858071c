// A two-layer MLP for the delayed-scaling test whose first linear's input
// the data can make zero, infinite or NaN although the data is finite (as
// accel-run requires): h = x + exp(a) - exp(b) is x where a = b = 0, inf
// where a = 100 and b = 0, NaN where a = b = 100.
func.func @forward(%x: tensor<64x16xf32> {accel.input = "x"},
                   %a: tensor<64x16xf32> {accel.input = "a"},
                   %b: tensor<64x16xf32> {accel.input = "b"},
                   %y: tensor<64xi64> {accel.input = "y"},
                   %w1: tensor<32x16xf32> {accel.param = "fc1.weight"},
                   %b1: tensor<32xf32> {accel.param = "fc1.bias"},
                   %w2: tensor<16x32xf32> {accel.param = "fc2.weight"}) -> tensor<f32> {
  %ea = accel.exp %a : tensor<64x16xf32>
  %eb = accel.exp %b : tensor<64x16xf32>
  %s = accel.add %x, %ea : (tensor<64x16xf32>, tensor<64x16xf32>) -> tensor<64x16xf32>
  %h = accel.sub %s, %eb : (tensor<64x16xf32>, tensor<64x16xf32>) -> tensor<64x16xf32>
  %z = accel.linear %h, %w1, %b1 : (tensor<64x16xf32>, tensor<32x16xf32>, tensor<32xf32>) -> tensor<64x32xf32>
  %r = accel.relu %z : tensor<64x32xf32>
  %o = accel.linear %r, %w2 : (tensor<64x32xf32>, tensor<16x32xf32>) -> tensor<64x16xf32>
  %loss = accel.cross_entropy %o, %y : (tensor<64x16xf32>, tensor<64xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
