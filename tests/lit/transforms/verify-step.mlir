// A training step built by the pipeline keeps the state contract (with
// dynamic loss scaling's extra state too).
// RUN: accel-opt %s --accel-train-pipeline="kind=adam" --accel-verify-step | FileCheck %s
// RUN: accel-opt %s --accel-train-pipeline="kind=sgd momentum=0.9 precision=fp16" --accel-verify-step | FileCheck %s
// CHECK: func.func @train_step
func.func @forward(%w: tensor<8x8xf32> {accel.param = "w"},
                   %x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %loss = accel.mse_loss %h, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
