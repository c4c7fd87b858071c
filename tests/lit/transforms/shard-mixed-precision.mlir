// Data parallelism under mixed precision. fsdp gathers a parameter that
// autocast only ever reads in bf16 as bf16 (its casts fold into the
// gather), and one that an op reads in f32 (the norm's weight) as f32; the
// gradients reduce in f32 unless reduce-dtype says otherwise. Under ddp,
// reduce-dtype casts each bucket for its all-reduce and back.
// RUN: accel-opt %s --accel-train-pipeline="precision=bf16 shard=fsdp ranks=2" | FileCheck %s --check-prefix=FSDP
// RUN: accel-opt %s --accel-train-pipeline="precision=bf16 shard=fsdp ranks=2 reduce-dtype=bf16" | FileCheck %s --check-prefix=FSDP-BF16
// RUN: accel-opt %s --accel-train-pipeline="precision=fp16 shard=fsdp ranks=2" | FileCheck %s --check-prefix=FSDP-FP16
// RUN: accel-opt %s --accel-train-pipeline="precision=bf16 shard=ddp ranks=2 reduce-dtype=bf16" | FileCheck %s --check-prefix=DDP
// RUN: accel-opt %s --accel-train-pipeline="shard=zero2 ranks=2 reduce-dtype=fp16" | FileCheck %s --check-prefix=ZERO2
// RUN: not accel-opt %s --accel-shard="ranks=2 reduce-dtype=f8" 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: accel-opt %S/Inputs/batch-norm-bf16.mlir --accel-shard="ranks=2" | FileCheck %s --check-prefix=SYNCBN

func.func @forward(%w: tensor<6x4xf32> {accel.param = "fc.weight"},
                   %g: tensor<6xf32> {accel.param = "norm.weight"},
                   %x: tensor<8x4xf32> {accel.input = "x"},
                   %y: tensor<8xi64> {accel.input = "y"}) -> tensor<f32> {
  %h = accel.linear %x, %w : (tensor<8x4xf32>, tensor<6x4xf32>) -> tensor<8x6xf32>
  %n = accel.layer_norm %h weight(%g) {normalized_shape = array<i64: 6>} : (tensor<8x6xf32>, tensor<6xf32>) -> tensor<8x6xf32>
  %loss = accel.cross_entropy %n, %y : (tensor<8x6xf32>, tensor<8xi64>) -> tensor<f32>
  return %loss : tensor<f32>
}

// The linear's weight arrives in bf16 (no cast of it is left); the norm's
// weight in f32. Backward: the bf16 gradient is widened before the f32
// reduce-scatter; the norm weight's is f32 already.
// FSDP-LABEL: func.func @forward(
// FSDP-SAME: tensor<12xf32> {accel.param = "fc.weight", accel.shard_of = array<i64: 6, 4>}
// FSDP-SAME: tensor<3xf32> {accel.param = "norm.weight", accel.shard_of = array<i64: 6>}
// FSDP: %[[W:.+]] = accel.all_gather %arg0 backward mean {names = ["fc.weight"], ranks = 2 : i64, reshard} : tensor<12xf32> -> tensor<6x4xbf16>
// FSDP-NOT: accel.cast %[[W]]
// FSDP: accel.linear %{{.+}}, %[[W]] {{.*}}: (tensor<4x4xbf16>, tensor<6x4xbf16>) -> tensor<4x6xbf16>
// FSDP: %[[G:.+]] = accel.all_gather %arg1 backward mean {bucket = 1 : i64, names = ["norm.weight"], ranks = 2 : i64, reshard} : tensor<3xf32> -> tensor<6xf32>
// FSDP: accel.layer_norm %{{.+}} weight(%[[G]])
// FSDP-LABEL: func.func @forward_grad(
// FSDP: accel.reduce_scatter mean %{{.+}} {bucket = 1 : i64, names = ["norm.weight"], ranks = 2 : i64} : tensor<6xf32> -> tensor<3xf32>
// FSDP: %[[WIDE:.+]] = accel.cast %{{.+}} : tensor<6x4xbf16> -> tensor<6x4xf32>
// FSDP: accel.reduce_scatter mean %[[WIDE]] {names = ["fc.weight"], ranks = 2 : i64} : tensor<6x4xf32> -> tensor<12xf32>

// reduce-dtype=bf16: the norm weight's f32 gradient is rounded for its
// reduction and widened after; the linear's is reduced as it is.
// FSDP-BF16-LABEL: func.func @forward(
// FSDP-BF16-SAME: accel.data_parallel = {{{.*}}reduce_dtype = bf16
// FSDP-BF16: accel.all_gather %arg0 backward mean {names = ["fc.weight"], ranks = 2 : i64, reduce_type = bf16, reshard} : tensor<12xf32> -> tensor<6x4xbf16>
// FSDP-BF16-LABEL: func.func @forward_grad(
// FSDP-BF16: %[[N:.+]] = accel.cast %{{.+}} : tensor<6xf32> -> tensor<6xbf16>
// FSDP-BF16: %[[NS:.+]] = accel.reduce_scatter mean %[[N]] {bucket = 1 : i64, names = ["norm.weight"], ranks = 2 : i64} : tensor<6xbf16> -> tensor<3xbf16>
// FSDP-BF16: accel.cast %[[NS]] : tensor<3xbf16> -> tensor<3xf32>
// FSDP-BF16: %[[WS:.+]] = accel.reduce_scatter mean %{{.+}} {names = ["fc.weight"], ranks = 2 : i64} : tensor<6x4xbf16> -> tensor<12xbf16>
// FSDP-BF16: accel.cast %[[WS]] : tensor<12xbf16> -> tensor<12xf32>

// FSDP-FP16-LABEL: func.func @forward(
// FSDP-FP16: accel.all_gather %arg0 backward mean {{.+}} : tensor<12xf32> -> tensor<6x4xf16>

// DDP-LABEL: func.func @train_step(
// DDP: %[[C:.+]] = accel.cast %{{.+}} : tensor<6xf32> -> tensor<6xbf16>
// DDP-NEXT: %[[C2:.+]] = accel.cast %{{.+}} : tensor<6x4xf32> -> tensor<6x4xbf16>
// DDP-NEXT: %[[R:.+]]:2 = accel.all_reduce mean %[[C]], %[[C2]] {names = ["norm.weight", "fc.weight"], ranks = 2 : i64} : tensor<6xbf16>, tensor<6x4xbf16>
// DDP-NEXT: accel.cast %[[R]]#0 : tensor<6xbf16> -> tensor<6xf32>
// DDP-NEXT: accel.cast %[[R]]#1 : tensor<6x4xbf16> -> tensor<6x4xf32>
// The loss is combined in f32.
// DDP: accel.all_reduce mean %{{.+}} {bucket = 1 : i64, names = ["loss"], ranks = 2 : i64} : tensor<f32>

// ZERO2: accel.reduce_scatter mean %{{.+}}, %{{.+}} {names = ["norm.weight", "fc.weight"], ranks = 2 : i64} : tensor<6xf16>, tensor<6x4xf16> -> tensor<3xf16>, tensor<12xf16>
// ZERO2: accel.all_gather %{{.+}}, %{{.+}} {bucket = 2 : i64, names = ["norm.weight", "fc.weight"], ranks = 2 : i64} : tensor<3xf32>, tensor<12xf32> -> tensor<6xf32>, tensor<6x4xf32>

// UNKNOWN: error: accel-shard reduce-dtype 'f8' is unknown (choices: fp32, bf16, fp16)

// Synchronised batch norm on bf16 activations: widened for the statistics
// and the normalisation (f32 all-reduces), the result rounded once.
// SYNCBN-LABEL: func.func @forward(
// SYNCBN: %[[H:.+]] = accel.cast %arg0 : tensor<4x2x3x3xf32> -> tensor<4x2x3x3xbf16>
// SYNCBN-NEXT: %[[X:.+]] = accel.cast %[[H]] : tensor<4x2x3x3xbf16> -> tensor<4x2x3x3xf32>
// SYNCBN-NEXT: %[[S:.+]] = accel.sum %[[X]] {dims = array<i64: 0, 2, 3>, keepdim}
// SYNCBN-NEXT: accel.all_reduce sum %[[S]] {bucket = -1 : i64, names = ["bn.weight:sum"], ranks = 2 : i64} : tensor<1x2x1x1xf32>
// SYNCBN: %[[Y:.+]] = accel.add %{{.+}}, %{{.+}} : (tensor<4x2x3x3xf32>, tensor<1x2x1x1xf32>) -> tensor<4x2x3x3xf32>
// SYNCBN-NEXT: %[[R:.+]] = accel.cast %[[Y]] : tensor<4x2x3x3xf32> -> tensor<4x2x3x3xbf16>
// SYNCBN: accel.cast %[[R]] : tensor<4x2x3x3xbf16> -> tensor<4x2x3x3xf32>
