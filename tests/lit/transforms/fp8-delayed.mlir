// accel-fp8 recipe=delayed: scaling state as arguments and results of the
// forward function, the training step and the gradient function.
// RUN: accel-opt %s --accel-fp8="recipe=delayed keep-first-last=false amax-history=16 margin=1" | FileCheck %s --check-prefix=FWD
// RUN: accel-opt %s --accel-fp8="recipe=delayed keep-first-last=false amax-algo=most_recent format=e4m3" --accel-autodiff | FileCheck %s --check-prefix=GRAD
// RUN: accel-opt %s --accel-train-pipeline="kind=adam grad-accum=2 fp8=delayed fp8-keep-first-last=false fp8-amax-history=4" --accel-verify-step | FileCheck %s --check-prefix=STEP
// RUN: accel-opt %s --accel-fp8="recipe=delayed keep-first-last=false" --accel-precision-report -o %t.discard.mlir | FileCheck %s --check-prefix=REPORT

func.func @forward(%w: tensor<32x16xf32> {accel.param = "fc.weight"},
                   %x: tensor<4x16xf32> {accel.input = "x"}) -> tensor<f32> {
  %y = accel.linear %x, %w : (tensor<4x16xf32>, tensor<32x16xf32>) -> tensor<4x32xf32>
  %l = accel.sum %y {dims = array<i64: 0, 1>} : (tensor<4x32xf32>) -> tensor<f32>
  return %l : tensor<f32>
}

// Three operands' histories and scales; the scales start at 1.
// FWD-LABEL: func.func @forward
// FWD-SAME: %[[W:[a-z0-9]+]]: tensor<32x16xf32> {accel.param = "fc.weight"}
// FWD-SAME: %[[X:[a-z0-9]+]]: tensor<4x16xf32> {accel.input = "x"}
// FWD-SAME: %[[XH:[a-z0-9]+]]: tensor<16xf32> {accel.fp8_state = "fc.fp8.input.amax_history"}
// FWD-SAME: %[[XS:[a-z0-9]+]]: tensor<f32> {accel.fp8_state = "fc.fp8.input.scale", accel.init = 1.000000e+00 : f32}
// FWD-SAME: %[[WH:[a-z0-9]+]]: tensor<16xf32> {accel.fp8_state = "fc.fp8.weight.amax_history"}
// FWD-SAME: %[[WS:[a-z0-9]+]]: tensor<f32> {accel.fp8_state = "fc.fp8.weight.scale", accel.init = 1.000000e+00 : f32}
// FWD-SAME: %[[GH:[a-z0-9]+]]: tensor<16xf32> {accel.fp8_state = "fc.fp8.grad_output.amax_history"}
// FWD-SAME: %[[GS:[a-z0-9]+]]: tensor<f32> {accel.fp8_state = "fc.fp8.grad_output.scale", accel.init = 1.000000e+00 : f32}
// FWD-SAME: -> (tensor<f32>, tensor<16xf32> {accel.fp8_state = "fc.fp8.input.amax_history"}, tensor<f32> {accel.fp8_state = "fc.fp8.input.scale"}, tensor<16xf32> {accel.fp8_state = "fc.fp8.weight.amax_history"}, tensor<f32> {accel.fp8_state = "fc.fp8.weight.scale"})
// FWD: %[[XQ:.*]], %[[XA:.*]] = accel.fp8_quantize_scaled %[[X]], %[[XS]] : tensor<4x16xf32>, tensor<f32> -> tensor<4x16xf8E4M3FN>, tensor<f32>
// FWD: %[[XH2:.*]], %[[XS2:.*]] = accel.fp8_scale_update %[[XH]], %[[XS]], %[[XA]] {amax_algo = #accel<fp8_amax_algo max>, format = f8E4M3FN, margin = 1 : i64}
// FWD: %[[WQ:.*]], %[[WA:.*]] = accel.fp8_quantize_scaled %[[W]], %[[WS]]
// FWD: %[[WH2:.*]], %[[WS2:.*]] = accel.fp8_scale_update %[[WH]], %[[WS]], %[[WA]]
// FWD: %[[Y:.*]] = accel.scaled_matmul %[[XQ]], %[[XS]], %[[WQ]], %[[WS]] hp %[[X]], %[[W]] grad_state %[[GH]], %[[GS]] {accel.fp8 = "fp8 delayed", accel.fp8_layer = "fc", amax_algo = #accel<fp8_amax_algo max>, grad_format = f8E5M2, margin = 1 : i64, output_scaled, recipe = #accel<fp8_recipe delayed>}
// FWD: return %{{.*}}, %[[XH2]], %[[XS2]], %[[WH2]], %[[WS2]]

// The backward pass quantises g with its scale (E4M3 with format=e4m3),
// re-quantises x and W with their forward scales, and returns the
// gradient's updated state with its role.
// GRAD-LABEL: func.func @forward_grad
// GRAD-SAME: %[[W:[a-z0-9]+]]: tensor<32x16xf32> {accel.param = "fc.weight"}
// GRAD-SAME: %[[X:[a-z0-9]+]]: tensor<4x16xf32> {accel.input = "x"}
// GRAD-SAME: %[[XH:[a-z0-9]+]]: tensor<1024xf32>
// GRAD-SAME: %[[XS:[a-z0-9]+]]: tensor<f32>
// GRAD-SAME: %[[WH:[a-z0-9]+]]: tensor<1024xf32>
// GRAD-SAME: %[[WS:[a-z0-9]+]]: tensor<f32>
// GRAD-SAME: %[[GH:[a-z0-9]+]]: tensor<1024xf32>
// GRAD-SAME: %[[GS:[a-z0-9]+]]: tensor<f32>
// GRAD-SAME: -> (tensor<f32>, tensor<32x16xf32> {accel.grad = "fc.weight"}, tensor<1024xf32> {accel.fp8_state = "fc.fp8.grad_output.amax_history"}, tensor<f32> {accel.fp8_state = "fc.fp8.grad_output.scale"}, tensor<1024xf32> {accel.fp8_state = "fc.fp8.input.amax_history"}
// GRAD: %[[GQ:.*]], %[[GA:.*]] = accel.fp8_quantize_scaled %{{.*}}, %[[GS]] : tensor<4x32xf32>, tensor<f32> -> tensor<4x32xf8E4M3FN>, tensor<f32>
// GRAD: %[[XT:.*]] = accel.transpose %[[X]]
// GRAD: %[[XTQ:.*]], %{{.*}} = accel.fp8_quantize_scaled %[[XT]], %[[XS]] : tensor<16x4xf32>
// GRAD: %[[GT:.*]] = accel.transpose
// GRAD: %[[GTQ:.*]], %{{.*}} = accel.fp8_quantize_scaled %[[GT]], %[[GS]] : tensor<32x4xf32>
// GRAD: %[[DW:.*]] = accel.scaled_matmul %[[GTQ]], %[[GS]], %[[XTQ]], %[[XS]] {output_scaled} : tensor<32x4xf8E4M3FN>, tensor<f32>, tensor<16x4xf8E4M3FN>, tensor<f32> -> tensor<32x16xf32>
// GRAD: %[[GH2:.*]], %[[GS2:.*]] = accel.fp8_scale_update %[[GH]], %[[GS]], %[[GA]] {amax_algo = #accel<fp8_amax_algo most_recent>, format = f8E4M3FN, margin = 0 : i64}
// GRAD: return %{{.*}}, %[[DW]], %[[GH2]], %[[GS2]]

// The training step carries the state through both micro-batches: the
// second call takes the first one's updates.
// STEP-LABEL: func.func @train_step
// STEP-SAME: {accel.fp8_state = "fc.fp8.input.amax_history"}
// STEP-SAME: {accel.fp8_state = "fc.fp8.grad_output.scale", accel.init = 1.000000e+00 : f32}
// STEP: %[[FIRST:.*]]:8 = call @forward_grad(
// STEP: %[[SECOND:.*]]:8 = call @forward_grad(%{{.*}}, %{{.*}}, %[[FIRST]]#4, %[[FIRST]]#5, %[[FIRST]]#6, %[[FIRST]]#7, %[[FIRST]]#2, %[[FIRST]]#3)
// STEP: return
// STEP-SAME: %[[SECOND]]#2, %[[SECOND]]#3, %[[SECOND]]#4, %[[SECOND]]#5, %[[SECOND]]#6, %[[SECOND]]#7

// REPORT: fp8: recipe delayed, 1 of 1 linear layers converted
// REPORT: fc [delayed (amax history 1024, max, margin 0)] output: e4m3fn delayed x e4m3fn delayed
// REPORT-NEXT: grad_input: e5m2 delayed x e4m3fn delayed
// REPORT-NEXT: grad_weight: e5m2 delayed x e4m3fn delayed
