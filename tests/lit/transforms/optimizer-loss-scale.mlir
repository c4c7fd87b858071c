// Dynamic loss scaling in accel-optimizer (torch.amp.GradScaler): the
// gradient function is seeded with the scale, gradients are checked once
// and unscaled, every piece of state is kept by select on overflow, and
// the scale and tracker update as GradScaler.update does.
// RUN: accel-opt %s --accel-autocast="dtype=fp16" --accel-autodiff="loss-scale=true" --accel-optimizer="kind=adam growth-interval=7" | FileCheck %s
// RUN: not accel-opt %s --accel-autocast="dtype=fp16" --accel-autodiff --accel-optimizer 2>&1 | FileCheck %s --check-prefix=SEED
// RUN: not accel-opt %s --accel-autodiff="loss-scale=true" --accel-optimizer="loss-scale=none" 2>&1 | FileCheck %s --check-prefix=UNUSED
// RUN: not accel-opt %s --accel-autocast="dtype=fp16" --accel-autodiff="loss-scale=true" --accel-optimizer="backoff-factor=2" 2>&1 | FileCheck %s --check-prefix=FACTORS
// RUN: accel-opt %s --accel-autodiff="loss-scale=true" --accel-optimizer="loss-scale=1024" 2>&1 | FileCheck %s --check-prefix=CONSTANT

// CHECK-LABEL: func.func @forward_grad
// CHECK-SAME: %arg2: tensor<f32> {accel.loss_scale = "loss_scale"}
// CHECK-SAME: accel.initial_loss_scale = 6.553600e+04 : f64
// CHECK-LABEL: func.func @train_step
// CHECK-SAME: {accel.opt_state = "loss_scale"}
// CHECK-SAME: {accel.opt_state = "loss_scale.growth_tracker"}
// CHECK-SAME: {accel.opt_state = "optimizer.step"}
// CHECK-SAME: tensor<i1> {accel.metric = "skipped"}
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %{{.*}}, %{{.*}} : tensor<i64>
// CHECK: %[[SCALE:.*]] = accel.select %[[FIRST]], %{{.*}}, %{{.*}} : tensor<f32>
// CHECK: %[[CALL:.*]]:2 = call @forward_grad(%{{.*}}, %{{.*}}, %[[SCALE]])
// CHECK: %[[OK:.*]] = accel.all_finite %[[CALL]]#1 : tensor<8x8xf32>
// CHECK: %[[INV:.*]] = accel.div %{{.*}}, %[[SCALE]]
// CHECK: accel.mul %[[CALL]]#1, %[[INV]]
// CHECK: %[[W:.*]] = accel.select %[[OK]], %{{.*}}, %arg0 : tensor<8x8xf32>
// CHECK: accel.select %[[OK]], %{{.*}}, %arg1 : tensor<8x8xf32>
// CHECK: accel.select %[[OK]], %{{.*}}, %arg2 : tensor<8x8xf32>
// CHECK: arith.constant dense<7> : tensor<i64>
// CHECK: return
// SEED: error: loss scaling needs '@forward_grad' to take the loss scale; run accel-autodiff with loss-scale=true
// UNUSED: error: '@forward_grad' takes a loss scale but loss-scale is none
// FACTORS: error: dynamic loss scaling needs init-scale > 0, growth-factor > 1, 0 < backoff-factor < 1 and growth-interval >= 1
// CONSTANT: warning: loss scaling a fp32 step
// CONSTANT: accel.initial_loss_scale = 1.024000e+03
// CONSTANT-NOT: "loss_scale.growth_tracker"
// CONSTANT: {accel.opt_state = "optimizer.step"}
func.func @forward(%w: tensor<8x8xf32> {accel.param = "w"},
                   %x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %loss = accel.mse_loss %h, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
