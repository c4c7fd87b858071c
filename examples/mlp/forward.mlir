// The forward function of torch.nn.Sequential(Linear(784, 1024), ReLU(),
// Linear(1024, 1024), ReLU(), Linear(1024, 10)) with a cross-entropy loss on a
// batch of 128 Fashion-MNIST images, written by hand in the form the importer
// produces. Parameter names are the module's named_parameters().
//
//   accel-opt examples/mlp/forward.mlir --accel-forward-pipeline
func.func @forward(%w0: tensor<1024x784xf32> {accel.param = "0.weight"},
                   %b0: tensor<1024xf32> {accel.param = "0.bias"},
                   %w2: tensor<1024x1024xf32> {accel.param = "2.weight"},
                   %b2: tensor<1024xf32> {accel.param = "2.bias"},
                   %w4: tensor<10x1024xf32> {accel.param = "4.weight"},
                   %b4: tensor<10xf32> {accel.param = "4.bias"},
                   %x: tensor<128x1x28x28xf32> {accel.input = "x"},
                   %y: tensor<128xi64> {accel.input = "y"}) -> tensor<f32> {
  %flat = accel.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64}
      : (tensor<128x1x28x28xf32>) -> tensor<128x784xf32>
  %h0 = accel.linear %flat, %w0, %b0
      : (tensor<128x784xf32>, tensor<1024x784xf32>, tensor<1024xf32>) -> tensor<128x1024xf32>
  %a0 = accel.relu %h0 : tensor<128x1024xf32>
  %h2 = accel.linear %a0, %w2, %b2
      : (tensor<128x1024xf32>, tensor<1024x1024xf32>, tensor<1024xf32>) -> tensor<128x1024xf32>
  %a2 = accel.relu %h2 : tensor<128x1024xf32>
  %logits = accel.linear %a2, %w4, %b4
      : (tensor<128x1024xf32>, tensor<10x1024xf32>, tensor<10xf32>) -> tensor<128x10xf32>
  %loss = accel.cross_entropy %logits, %y
      : (tensor<128x10xf32>, tensor<128xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}
