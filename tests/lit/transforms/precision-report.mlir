// accel-precision-report: every op with its source, types and the rule
// that chose them, then totals.
// RUN: accel-opt %s --accel-train-pipeline="precision=fp16" --accel-precision-report -o %t.discard.mlir | FileCheck %s
// RUN: accel-opt %s --accel-train-pipeline="precision=bf16" --accel-precision-report="format=json" -o %t.discard.mlir | FileCheck %s --check-prefix=JSON
// RUN: accel-opt %s --accel-precision-report="output=%t.txt" -o %t.discard.mlir
// RUN: FileCheck %s --check-prefix=FP32 < %t.txt
// RUN: not accel-opt %s --accel-precision-report="format=xml" -o %t.discard.mlir 2>&1 | FileCheck %s --check-prefix=FORMAT

// CHECK: precision report for @forward: fp16 (autocast policy cuda)
// CHECK-NEXT: source op results rule; operands
// CHECK: accel.cast tensor<8x8xf16> parameter cast: w; tensor<8x8xf32>
// CHECK: model.py:12:5 accel.linear tensor<4x8xf16> cuda lower_precision_fp: linear; tensor<4x8xf16>, tensor<8x8xf16>
// CHECK: model.py:13:9 accel.mse_loss tensor<f32> cuda fp32: mse_loss; tensor<4x8xf32>, tensor<4x8xf32>
// CHECK: ops by result type: f16 3, f32 2
// CHECK: casts inserted: 3 (1 parameter, 2 operand, 0 result)
// CHECK: activation bytes by type: f16 256 B, f32 132 B
// CHECK: loss scaling: dynamic, initial scale 6.553600e+04

// JSON: "function": "forward"
// JSON: "loss_scaling": "none"
// JSON: "op": "accel.linear"
// JSON-NEXT: "operands": "tensor<4x8xbf16>, tensor<8x8xbf16>"
// JSON-NEXT: "results": "tensor<4x8xbf16>"
// JSON-NEXT: "rule": "cpu lower_precision_fp: linear"
// JSON-NEXT: "source": "model.py:12:5"

// FP32: precision report for @forward: fp32 (autocast policy -)
// FP32: accel.linear tensor<4x8xf32> fp32 (no autocast)
// FP32: loss scaling: no training step

// FORMAT: error: unknown report format 'xml' (table or json)
func.func @forward(%w: tensor<8x8xf32> {accel.param = "w"},
                   %x: tensor<4x8xf32> {accel.input = "x"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<4x8xf32>, tensor<8x8xf32>) -> tensor<4x8xf32> loc("model.py":12:5)
  %loss = accel.mse_loss %h, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<f32> loc("model.py":13:9)
  return %loss : tensor<f32>
}
