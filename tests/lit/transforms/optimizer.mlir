// accel-optimizer builds @train_step on @forward_grad.
// RUN: accel-opt %s -split-input-file --accel-optimizer="kind=sgd momentum=0.9 nesterov=true weight-decay=0.01" | FileCheck %s --check-prefix=SGD
// RUN: accel-opt %s -split-input-file --accel-optimizer="kind=adam lr=0.01" | FileCheck %s --check-prefix=ADAM
// RUN: accel-opt %s -split-input-file --accel-optimizer="kind=adamw clip-norm=1.0 grad-accum=2" | FileCheck %s --check-prefix=ADAMW

// With SGD, one momentum buffer per parameter, started at the first gradient.
// SGD-LABEL: func.func @train_step(
// SGD-SAME: %[[W:[^:]+]]: tensor<3xf32> {accel.param = "w"}
// SGD-SAME: %[[BUF:[^:]+]]: tensor<3xf32> {accel.opt_state = "w.momentum_buffer"}
// SGD-SAME: %[[X:[^:]+]]: tensor<3xf32> {accel.input = "x"}
// SGD-SAME: %[[STEP:[^:]+]]: tensor<i64> {accel.step = "step"}
// SGD-SAME: %[[LR:[^:]+]]: tensor<f32> {accel.lr = "lr"}
// SGD-SAME: -> (tensor<f32>, tensor<3xf32> {accel.param = "w"}, tensor<3xf32> {accel.opt_state = "w.momentum_buffer"})
// SGD-SAME: accel.default_lr = 1.000000e-03 : f64
// SGD: %[[G:.+]]:2 = call @forward_grad(%[[W]], %[[X]])
// SGD: arith.cmpi eq, %[[STEP]]
// SGD: accel.cast {{.*}} : tensor<i1> -> tensor<f32>
// SGD: return %[[G]]#0
func.func @forward_grad(%w: tensor<3xf32> {accel.param = "w"}, %x: tensor<3xf32> {accel.input = "x"})
    -> (tensor<f32>, tensor<3xf32> {accel.grad = "w"}) {
  %0 = accel.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = accel.sum %0 {dims = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  return %1, %x : tensor<f32>, tensor<3xf32>
}

// Adam: two moments per parameter, bias corrections from the step number;
// buffers pass through and are returned.
// ADAM-LABEL: func.func @forward_grad({{.*}}{accel.buffer = "b"}
// ADAM-LABEL: func.func @train_step(
// ADAM-SAME: {accel.buffer = "b"}
// ADAM-SAME: {accel.opt_state = "w.exp_avg"}
// ADAM-SAME: {accel.opt_state = "w.exp_avg_sq"}
// ADAM-SAME: {accel.input = "x"}
// ADAM-SAME: -> (tensor<f32>, tensor<3xf32> {accel.param = "w"}, tensor<3xf32> {accel.buffer = "b"}, tensor<3xf32> {accel.opt_state = "w.exp_avg"}, tensor<3xf32> {accel.opt_state = "w.exp_avg_sq"})
// ADAM-SAME: accel.default_lr = 1.000000e-02
// ADAM: accel.cast %{{.+}} : tensor<i64> -> tensor<f32>
// ADAM: accel.exp
// ADAM: accel.sqrt
// ADAM-NOT: arith.cmpi

// -----

func.func @forward_grad(%w: tensor<3xf32> {accel.param = "w"}, %b: tensor<3xf32> {accel.buffer = "b"},
                        %x: tensor<3xf32> {accel.input = "x"}, %s: tensor<i64> {accel.seed = "seed"})
    -> (tensor<f32>, tensor<3xf32> {accel.grad = "w"}, tensor<3xf32> {accel.buffer = "b"}) {
  %0 = accel.mul %w, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = accel.sum %0 {dims = array<i64: 0>} : (tensor<3xf32>) -> tensor<f32>
  %2 = accel.add %b, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %1, %x, %2 : tensor<f32>, tensor<3xf32>, tensor<3xf32>
}

// AdamW with accumulation over 2 micro-batches: inputs gain a leading
// dimension, micro-batch k uses seed 2 * seed + k, buffers carry from one
// micro-batch to the next, and the gradients are clipped.
// ADAMW-LABEL: func.func @forward_grad({{.*}}{accel.buffer = "b"}
// ADAMW-LABEL: func.func @train_step(
// ADAMW-SAME: %[[W:[^:]+]]: tensor<3xf32> {accel.param = "w"}
// ADAMW-SAME: %[[B:[^:]+]]: tensor<3xf32> {accel.buffer = "b"}
// ADAMW-SAME: %[[X:[^:]+]]: tensor<2x3xf32> {accel.input = "x"}
// ADAMW-SAME: %[[SEED:[^:]+]]: tensor<i64> {accel.seed = "seed"}
// ADAMW: %[[X0:.+]] = accel.slice %[[X]] {dim = 0 : i64, end = 1 : i64, start = 0 : i64}
// ADAMW: %[[X0R:.+]] = accel.reshape %[[X0]] : tensor<1x3xf32> -> tensor<3xf32>
// ADAMW: %[[S0:.+]] = arith.muli %[[SEED]]
// ADAMW: %[[S0A:.+]] = arith.addi %[[S0]]
// ADAMW: %[[C0:.+]]:3 = call @forward_grad(%[[W]], %[[B]], %[[X0R]], %[[S0A]])
// ADAMW: accel.slice %[[X]] {dim = 0 : i64, end = 2 : i64, start = 1 : i64}
// ADAMW: %[[C1:.+]]:3 = call @forward_grad(%[[W]], %[[C0]]#2,
// ADAMW: accel.sqrt
// ADAMW: accel.relu
// ADAMW: return {{.*}}%[[C1]]#2
