// accel-comm-report: every collective of the step, the bytes per step and
// each rank's memory in the ZeRO paper's terms (fp32 AdamW under DDP:
// 4Ψ parameters + 4Ψ gradients + 8Ψ optimizer state = 16Ψ).
// RUN: accel-opt %s --accel-train-pipeline="shard=ddp ranks=4 first-bucket-mb=0.00001" --inline --accel-plan-memory --accel-comm-report -o %t.mlir | FileCheck %s
// RUN: accel-opt %s --accel-train-pipeline="shard=ddp ranks=4" --accel-comm-report="format=json" -o %t.mlir | FileCheck %s --check-prefix=JSON
// RUN: accel-opt %s --accel-train-pipeline --accel-comm-report -o %t.mlir | FileCheck %s --check-prefix=ONE
// RUN: accel-opt %s --accel-train-pipeline="shard=zero1 ranks=4" --accel-comm-report -o %t.mlir | FileCheck %s --check-prefix=ZERO1
// RUN: accel-opt %s --accel-train-pipeline="shard=zero2 ranks=4" --accel-comm-report -o %t.mlir | FileCheck %s --check-prefix=ZERO2
// RUN: not accel-opt %s --accel-comm-report -o %t.mlir 2>&1 | FileCheck %s --check-prefix=NOSTEP
// RUN: not accel-opt %s --accel-comm-report="format=xml" -o %t.mlir 2>&1 | FileCheck %s --check-prefix=FORMAT

// 50 parameters: the weight (40 values) and the bias (10).
// CHECK: communication report for @train_step: ddp, 4 ranks, global batch 8 (2 per rank)
// CHECK-NEXT: collective reduction bucket dtype bytes tensors source
// CHECK-NEXT: all_reduce mean 0 f32 40 fc.bias model.py:3:1
// CHECK-NEXT: all_reduce mean 1 f32 160 fc.weight model.py:3:1
// CHECK-NEXT: all_reduce mean 2 f32 4 loss model.py:3:1
// CHECK-NEXT: per step: 3 collectives, 204 B of whole tensors; 306 B sent per rank as rings ((N-1)/N of each reduce-scatter's and all-gather's tensors, 2(N-1)/N of each all-reduce's)
// CHECK-NEXT: per rank: 50 parameters (Ψ); parameters 200 B (4Ψ), gradients 200 B (4Ψ), optimizer state 400 B (8Ψ), total 800 B (16Ψ); buffers 0 B
// CHECK-NEXT: arena per rank: {{[0-9]+}} B

// JSON: "arena_bytes": null,
// JSON-NEXT: "collectives": [
// JSON: "bucket": 0,
// JSON-NEXT: "bytes": 200,
// JSON-NEXT: "dtype": "f32",
// JSON-NEXT: "kind": "all_reduce",
// JSON-NEXT: "reduction": "mean",
// JSON-NEXT: "source": "model.py:3:1",
// JSON-NEXT: "tensors": [
// JSON-NEXT: "fc.bias",
// JSON-NEXT: "fc.weight"
// JSON: "bucket": 1,
// JSON-NEXT: "bytes": 4,
// JSON: "tensors": [
// JSON-NEXT: "loss"
// JSON: "optimizer_state": 400,
// JSON: "ring_bytes_per_rank": 306

// ZeRO's terms, with the zeros that pad 40 and 10 values to shards of 10
// and 3 over 4 ranks (4 · 13 - 50 = 2 values per slot). zero1 keeps DDP's
// all-reduce and gathers the parameters: 2 · 204 + 200 = 608 B over rings,
// times 3/4. zero2 reduce-scatters instead: (200 + 2 · 4 + 200) · 3/4.
// ZERO1: communication report for @train_step: zero1, 4 ranks, global batch 8 (2 per rank)
// ZERO1-NEXT: collective reduction bucket dtype bytes tensors source
// ZERO1-NEXT: all_reduce mean 0 f32 200 fc.bias,fc.weight model.py:3:1
// ZERO1-NEXT: all_reduce mean 1 f32 4 loss model.py:3:1
// ZERO1-NEXT: all_gather - 2 f32 200 fc.bias,fc.weight model.py:3:1
// ZERO1-NEXT: per step: 3 collectives, 404 B of whole tensors; 456 B sent per rank as rings
// ZERO1-NEXT: per rank: 50 parameters (Ψ); parameters 200 B (4Ψ), gradients 200 B (4Ψ), optimizer state 104 B (8Ψ/N, shards padded by 16 B over 4 ranks), total 504 B (8Ψ + 8Ψ/N, shards padded by 16 B over 4 ranks); buffers 0 B
// ZERO2: communication report for @train_step: zero2, 4 ranks, global batch 8 (2 per rank)
// ZERO2-NEXT: collective reduction bucket dtype bytes tensors source
// ZERO2-NEXT: reduce_scatter mean 0 f32 200 fc.bias,fc.weight model.py:3:1
// ZERO2-NEXT: all_reduce mean 1 f32 4 loss model.py:3:1
// ZERO2-NEXT: all_gather - 2 f32 200 fc.bias,fc.weight model.py:3:1
// ZERO2-NEXT: per step: 3 collectives, 404 B of whole tensors; 306 B sent per rank as rings
// ZERO2-NEXT: per rank: 50 parameters (Ψ); parameters 200 B (4Ψ), gradients 52 B (4Ψ/N, shards padded by 8 B over 4 ranks), optimizer state 104 B (8Ψ/N, shards padded by 16 B over 4 ranks), total 356 B (4Ψ + 12Ψ/N, shards padded by 24 B over 4 ranks); buffers 0 B

// ONE: communication report for @train_step: one rank, no data parallelism
// ONE: per step: 0 collectives, 0 B of whole tensors; 0 B sent per rank

// NOSTEP: error: no function '@train_step' to report on (build it with --accel-train-pipeline)
// FORMAT: error: unknown report format 'xml' (table or json)
func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                   %b: tensor<10xf32> {accel.param = "fc.bias"},
                   %x: tensor<8x4xf32> {accel.input = "x"},
                   %y: tensor<8xi64> {accel.input = "y"}) -> tensor<f32> {
  %logits = accel.linear %x, %w, %b : (tensor<8x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<8x10xf32> loc("model.py":3:1)
  %loss = accel.cross_entropy %logits, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32> loc("model.py":4:1)
  return %loss : tensor<f32>
} loc("model.py":3:1)
