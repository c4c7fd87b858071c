// accel-shard splits the forward's batch over data-parallel ranks; the
// train pipeline then all-reduces the gradients in DDP's buckets.
// RUN: accel-opt %s --accel-shard="ranks=2" | FileCheck %s
// RUN: accel-opt %s --accel-train-pipeline="shard=ddp ranks=4 first-bucket-mb=0.00001" | FileCheck %s --check-prefix=STEP
// RUN: accel-opt %s --accel-shard="ranks=1" | FileCheck %s --check-prefix=ONE
// RUN: accel-opt %s --accel-train-pipeline="shard=zero1 ranks=4 kind=sgd momentum=0.9" | FileCheck %s --check-prefix=ZERO1
// RUN: accel-opt %s --accel-train-pipeline="shard=zero2 ranks=4 first-bucket-mb=0.00001 clip-norm=1.0" | FileCheck %s --check-prefix=ZERO2
// RUN: accel-opt %s --accel-train-pipeline="shard=fsdp ranks=4" | FileCheck %s --check-prefix=FSDP
// RUN: accel-opt %s --accel-train-pipeline="shard=fsdp ranks=4 reshard-after-forward=false" | FileCheck %s --check-prefix=KEEP
// RUN: accel-opt %S/Inputs/batch-norm.mlir --accel-shard="ranks=2" | FileCheck %s --check-prefix=SYNCBN
// RUN: accel-opt %S/Inputs/broadcast-matmul.mlir --accel-shard="ranks=4" | FileCheck %s --check-prefix=BCAST
// RUN: accel-opt %S/Inputs/batch-norm.mlir --accel-shard="ranks=2" --accel-autodiff | FileCheck %s --check-prefix=SYNCBN-GRAD

// Inputs lose half their batch; the batch is followed through dropout
// (whose mask is the global one from element 48 · rank on), the linear,
// two transposes that move it and move it back, and reshapes that merge it
// with the sequence dimension.
// CHECK-LABEL: func.func @forward(
// CHECK-SAME: tensor<10x4xf32> {accel.param = "fc.weight"}
// CHECK-SAME: %[[X:[^:]+]]: tensor<4x3x4xf32> {accel.input = "x"}
// CHECK-SAME: %[[Y:[^:]+]]: tensor<4x3xi64> {accel.input = "y"}
// CHECK-SAME: -> tensor<f32>
// CHECK-SAME: accel.data_parallel = {bucket_bytes = 26214400 : i64, first_bucket_bytes = 1048576 : i64, global_batch = 8 : i64, loss = "mean", ranks = 2 : i64, strategy = "ddp"}
// CHECK: accel.dropout %[[X]], %{{.+}} {p = 1.000000e-01 : f64, rank_stride = 48 : i64} : (tensor<4x3x4xf32>, tensor<i64>) -> tensor<4x3x4xf32>
// CHECK: accel.linear {{.+}} -> tensor<4x3x10xf32>
// CHECK: accel.transpose {{.+}} -> tensor<3x4x10xf32>
// CHECK: accel.transpose {{.+}} -> tensor<4x3x10xf32>
// CHECK: accel.reshape {{.+}} : tensor<4x3x10xf32> -> tensor<12x10xf32>
// CHECK: accel.reshape %[[Y]] : tensor<4x3xi64> -> tensor<12xi64>
// CHECK: accel.cross_entropy {{.+}} : (tensor<12x10xf32>, tensor<12xi64>) -> tensor<f32>

// Buckets take parameters in reverse order; the first closes at its own
// (here tiny) cap, the rest at 25 MiB; the loss is averaged last. Every
// rank then clips and updates with the same gradients.
// STEP-LABEL: func.func @train_step(
// STEP-SAME: tensor<2x3x4xf32> {accel.input = "x"}
// STEP-SAME: accel.ranks = 4 : i64
// STEP: %[[G:.+]]:3 = call @forward_grad(
// STEP-NEXT: %[[B:.+]] = accel.all_reduce mean %[[G]]#2 {names = ["fc.bias"], ranks = 4 : i64} : tensor<10xf32>
// STEP-NEXT: %[[W:.+]] = accel.all_reduce mean %[[G]]#1 {bucket = 1 : i64, names = ["fc.weight"], ranks = 4 : i64} : tensor<10x4xf32>
// STEP-NEXT: %[[L:.+]] = accel.all_reduce mean %[[G]]#0 {bucket = 2 : i64, names = ["loss"], ranks = 4 : i64} : tensor<f32>
// STEP-NOT: accel.all_reduce
// STEP: return %[[L]]

// zero1: optimizer state as shards of ceil(n / 4) elements (40 -> 10,
// 10 -> 3); gradients all-reduced as under ddp; each rank updates its
// shard of every parameter, and the shards are gathered in the gradients'
// buckets.
// ZERO1-LABEL: func.func @train_step(
// ZERO1-SAME: tensor<10xf32> {accel.opt_state = "fc.weight.momentum_buffer", accel.shard_of = array<i64: 10, 4>}
// ZERO1-SAME: tensor<3xf32> {accel.opt_state = "fc.bias.momentum_buffer", accel.shard_of = array<i64: 10>}
// ZERO1: %[[G:.+]]:2 = accel.all_reduce mean %{{.+}}#2, %{{.+}}#1 {names = ["fc.bias", "fc.weight"], ranks = 4 : i64} : tensor<10xf32>, tensor<10x4xf32>
// ZERO1: accel.local_shard %arg0 {ranks = 4 : i64} : tensor<10x4xf32> -> tensor<10xf32>
// ZERO1: accel.local_shard %[[G]]#1 {ranks = 4 : i64} : tensor<10x4xf32> -> tensor<10xf32>
// ZERO1: %[[P:.+]]:2 = accel.all_gather %{{.+}}, %{{.+}} {bucket = 2 : i64, names = ["fc.bias", "fc.weight"], ranks = 4 : i64} : tensor<3xf32>, tensor<10xf32> -> tensor<10xf32>, tensor<10x4xf32>
// ZERO1: return %{{.+}}, %[[P]]#1, %[[P]]#0

// zero2: gradients reduce-scattered (each rank keeps its shard); the
// clipping norm adds the ranks' sums of squares.
// ZERO2-LABEL: func.func @train_step(
// ZERO2: accel.reduce_scatter mean %{{.+}}#2 {names = ["fc.bias"], ranks = 4 : i64} : tensor<10xf32> -> tensor<3xf32>
// ZERO2-NEXT: accel.reduce_scatter mean %{{.+}}#1 {bucket = 1 : i64, names = ["fc.weight"], ranks = 4 : i64} : tensor<10x4xf32> -> tensor<10xf32>
// ZERO2-NEXT: accel.all_reduce mean %{{.+}}#0 {bucket = 2 : i64, names = ["loss"], ranks = 4 : i64} : tensor<f32>
// ZERO2: accel.all_reduce sum %{{.+}} {bucket = 3 : i64, names = ["grad_norm_squared"], ranks = 4 : i64} : tensor<f32>
// ZERO2: accel.all_gather %{{.+}} {bucket = 4 : i64, names = ["fc.bias"], ranks = 4 : i64} : tensor<3xf32> -> tensor<10xf32>
// ZERO2: accel.all_gather %{{.+}} {bucket = 5 : i64, names = ["fc.weight"], ranks = 4 : i64} : tensor<10xf32> -> tensor<10x4xf32>

// fsdp: the forward takes shards and gathers its one unit ("fc") before
// the linear; the gather's VJP reduce-scatters the gradients. The backward
// pass would gather again (reshard-after-forward) to read the weight, but
// only the input's gradient reads it, and nothing needs that one: the
// second gather is dropped with it (run/fsdp.test shows one kept). The
// step updates shards and gathers nothing after the update.
// FSDP-LABEL: func.func @forward(
// FSDP-SAME: tensor<10xf32> {accel.param = "fc.weight", accel.shard_of = array<i64: 10, 4>}
// FSDP-SAME: tensor<3xf32> {accel.param = "fc.bias", accel.shard_of = array<i64: 10>}
// FSDP: accel.dropout
// FSDP-NEXT: %[[W:.+]]:2 = accel.all_gather %arg0, %arg1 backward mean {names = ["fc.weight", "fc.bias"], ranks = 4 : i64, reshard} : tensor<10xf32>, tensor<3xf32> -> tensor<10x4xf32>, tensor<10xf32>
// FSDP-NEXT: accel.linear %{{.+}}, %[[W]]#0, %[[W]]#1
// FSDP-LABEL: func.func @forward_grad(
// FSDP: %[[F:.+]]:2 = accel.all_gather %arg0, %arg1 backward mean
// FSDP: accel.linear %{{.+}}, %[[F]]#0, %[[F]]#1
// FSDP-NOT: accel.all_gather
// FSDP: accel.reduce_scatter mean %{{.+}}, %{{.+}} {names = ["fc.weight", "fc.bias"], ranks = 4 : i64} : tensor<10x4xf32>, tensor<10xf32> -> tensor<10xf32>, tensor<3xf32>
// FSDP-LABEL: func.func @train_step(
// FSDP-SAME: tensor<10xf32> {accel.opt_state = "fc.weight.exp_avg", accel.shard_of = array<i64: 10, 4>}
// FSDP-SAME: -> (tensor<f32>, tensor<10xf32> {accel.param = "fc.weight"}, tensor<3xf32> {accel.param = "fc.bias"}
// FSDP-NOT: accel.reduce_scatter
// FSDP: accel.all_reduce mean %{{.+}}#0 {names = ["loss"], ranks = 4 : i64} : tensor<f32>
// FSDP-NOT: accel.all_gather
// FSDP: return
// Without resharding nothing is gathered again either.
// KEEP-LABEL: func.func @forward_grad(
// KEEP: accel.all_gather %arg0, %arg1 backward mean {names = ["fc.weight", "fc.bias"], ranks = 4 : i64} :
// KEEP-NOT: accel.all_gather
// KEEP: accel.reduce_scatter

// Batch norm in training mode becomes SyncBatchNorm's formula: statistics
// over the whole batch (8 samples · 3 · 3 = 72 values per channel) from
// all-reduced per-channel sums, two passes; running statistics as torch
// updates them (momentum 0.1, unbiased variance 1/71).
// SYNCBN-LABEL: func.func @forward(
// SYNCBN-SAME: %[[X:[^:]+]]: tensor<4x2x3x3xf32> {accel.input = "x"}
// SYNCBN: %[[S1:.+]] = accel.sum %[[X]] {dims = array<i64: 0, 2, 3>, keepdim}
// SYNCBN: %[[T1:.+]] = accel.all_reduce sum %[[S1]] {bucket = -1 : i64, names = ["bn.weight:sum"], ranks = 2 : i64} : tensor<1x2x1x1xf32>
// SYNCBN: %[[INV:.+]] = arith.constant dense<0.01388{{[0-9]*}}> : tensor<f32>
// SYNCBN: %[[MEAN:.+]] = accel.mul %[[T1]], %[[INV]] : (tensor<1x2x1x1xf32>, tensor<f32>)
// SYNCBN: %[[C:.+]] = accel.sub %[[X]], %[[MEAN]]
// SYNCBN: %[[SQ:.+]] = accel.mul %[[C]], %[[C]]
// SYNCBN: %[[S2:.+]] = accel.sum %[[SQ]] {dims = array<i64: 0, 2, 3>, keepdim}
// SYNCBN: accel.all_reduce sum %[[S2]] {bucket = -1 : i64, names = ["bn.weight:sum_sq"], ranks = 2 : i64}
// SYNCBN: accel.rsqrt
// SYNCBN-NOT: accel.batch_norm
// SYNCBN: dense<0.01408{{[0-9]*}}> : tensor<f32>
// The backward pass all-reduces the statistics' gradients the same way.
// SYNCBN-GRAD-LABEL: func.func @forward_grad(
// SYNCBN-GRAD-COUNT-4: accel.all_reduce sum

// A weight matrix broadcasts over the batch of a product; an expanded
// target keeps the batch in its first dimension.
// BCAST: accel.matmul {{.+}} : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x3x5xf32>
// BCAST: accel.reshape {{.+}} : tensor<2x3x5xf32> -> tensor<2x15xf32>
// BCAST: accel.broadcast_to {{.+}} : tensor<2x1xf32> -> tensor<2x15xf32>
// BCAST: accel.mse_loss {{.+}} : (tensor<2x15xf32>, tensor<2x15xf32>) -> tensor<f32>

// One rank: the forward keeps its shapes.
// ONE: tensor<8x3x4xf32> {accel.input = "x"}
// ONE-SAME: global_batch = 8 : i64
// ONE-SAME: ranks = 1 : i64
func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                   %b: tensor<10xf32> {accel.param = "fc.bias"},
                   %x: tensor<8x3x4xf32> {accel.input = "x"},
                   %y: tensor<8x3xi64> {accel.input = "y"},
                   %seed: tensor<i64> {accel.seed = "seed"}) -> tensor<f32> {
  %d = accel.dropout %x, %seed {p = 1.000000e-01 : f64} : (tensor<8x3x4xf32>, tensor<i64>) -> tensor<8x3x4xf32>
  %h = accel.linear %d, %w, %b : (tensor<8x3x4xf32>, tensor<10x4xf32>, tensor<10xf32>) -> tensor<8x3x10xf32>
  %t = accel.transpose %h {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<8x3x10xf32>) -> tensor<3x8x10xf32>
  %u = accel.transpose %t {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<3x8x10xf32>) -> tensor<8x3x10xf32>
  %logits = accel.reshape %u : tensor<8x3x10xf32> -> tensor<24x10xf32>
  %yy = accel.reshape %y : tensor<8x3xi64> -> tensor<24xi64>
  %loss = accel.cross_entropy %logits, %yy : (tensor<24x10xf32>, tensor<24xi64>) -> tensor<f32>
  %two = arith.constant dense<2.0> : tensor<f32>
  %scaled = accel.mul %loss, %two : (tensor<f32>, tensor<f32>) -> tensor<f32>
  return %scaled : tensor<f32>
}
