// accel-opt is mlir-opt with accel's dialects, passes and pipelines.
// RUN: accel-opt --help | FileCheck %s --check-prefix=HELP
// RUN: accel-opt --show-dialects | FileCheck %s --check-prefix=DIALECTS
// Reading stdin and printing after every pass, as mlir-opt does.
// RUN: cat %s | accel-opt --accel-forward-pipeline --mlir-print-ir-after-all 2>&1 | FileCheck %s --check-prefix=AFTER
// A failing pipeline leaves a crash reproducer that replays the failure.
// RUN: rm -f %t.repro.mlir
// RUN: not accel-opt %s --accel-forward-pipeline=entry=missing --mlir-pass-pipeline-crash-reproducer=%t.repro.mlir 2> %t.stderr
// RUN: FileCheck %s --check-prefix=REPRO < %t.repro.mlir
// RUN: not accel-opt %t.repro.mlir --run-reproducer 2>&1 | FileCheck %s --check-prefix=REPLAY

// HELP: Available Dialects: {{.*}}accel{{.*}}shard{{.*}}tensor
// HELP: Passes:
// HELP: --accel-verify-forward
// HELP: --canonicalize
// HELP: Pass Pipelines:
// HELP: --accel-forward-pipeline

// DIALECTS: accel
// DIALECTS: mpi
// DIALECTS: shard

// AFTER: IR Dump After VerifyForwardPass (accel-verify-forward)
// AFTER: IR Dump After Canonicalizer (canonicalize)
// AFTER: IR Dump After CSE (cse)

// REPRO: pipeline: "builtin.module(accel-verify-forward{entry=missing}
// REPLAY: error: no function named '@missing' to train

func.func @forward(%x: tensor<4xf32> {accel.input = "x"}) -> tensor<f32> {
  %0 = accel.sum %x {dims = array<i64: 0>} : (tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}
