// accel-autocast: torch.autocast's op lists, decided in the IR.
// RUN: accel-opt %s --accel-autocast | FileCheck %s --check-prefix=CPU
// RUN: accel-opt %s --accel-autocast="policy=cuda" | FileCheck %s --check-prefix=CUDA
// RUN: accel-opt %s --accel-autocast="dtype=fp16" | FileCheck %s --check-prefix=FP16

// A parameter read by two products is cast once, at the top; the product
// runs in bf16; an f32 scalar keeps its precision; a bf16 value meeting an
// f32 one is promoted; softmax stays in its input's type on the CPU policy
// and goes to f32 on the CUDA one; the loss runs in f32.
// CPU-LABEL: func.func @forward
// CPU-SAME: attributes {accel.autocast_policy = "cpu", accel.precision = "bf16"}
// CPU-DAG: %[[W:.*]] = accel.cast %arg0 {accel.autocast = "parameter cast: w"} : tensor<8x8xf32> -> tensor<8x8xbf16>
// CPU-DAG: %[[X:.*]] = accel.cast %arg1 {accel.autocast = "input cast: x"} : tensor<4x8xf32> -> tensor<4x8xbf16>
// CPU-NOT: accel.cast %arg0
// CPU: %[[H:.*]] = accel.linear %[[X]], %[[W]] {accel.autocast = "cpu lower_precision_fp: linear"} : (tensor<4x8xbf16>, tensor<8x8xbf16>) -> tensor<4x8xbf16>
// CPU: %[[S:.*]] = accel.div %[[H]], %{{.*}} {accel.autocast = "inputs: f32 scalar keeps its precision"} : (tensor<4x8xbf16>, tensor<f32>) -> tensor<4x8xbf16>
// CPU: %[[H2:.*]] = accel.linear %[[S]], %[[W]] {{.*}} -> tensor<4x8xbf16>
// CPU: %[[UP:.*]] = accel.cast %[[H2]] {accel.autocast = "operand cast for accel.add"} : tensor<4x8xbf16> -> tensor<4x8xf32>
// CPU: %[[R:.*]] = accel.add %arg1, %[[UP]] {accel.autocast = "inputs: promoted to widest"} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
// CPU: %[[P:.*]] = accel.softmax %[[S]] {dim = 1 : i64} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
// CPU: %[[PL:.*]] = accel.cast %[[P]] {accel.autocast = "operand cast for accel.mse_loss"} : tensor<4x8xbf16> -> tensor<4x8xf32>
// CPU: accel.mse_loss %[[PL]], %[[R]] {accel.autocast = "cpu fp32: mse_loss"}
// CUDA: accel.softmax %{{.*}} {accel.autocast = "cuda fp32: softmax", dim = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
// FP16: attributes {accel.autocast_policy = "cuda", accel.precision = "fp16"}
// FP16: accel.linear {{.*}} -> tensor<4x8xf16>
func.func @forward(%w: tensor<8x8xf32> {accel.param = "w"},
                   %x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %scale = arith.constant dense<2.5> : tensor<f32>
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %s = accel.div %h, %scale : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %h2 = accel.linear %s, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32>
  %r = accel.add %x, %h2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %p = accel.softmax %s {dim = 1 : i64} : (tensor<4x8xf32>) -> tensor<4x8xf32>
  %loss = accel.mse_loss %p, %r : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32>
  return %loss : tensor<f32>
}
