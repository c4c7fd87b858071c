// print-plan reports each buffer at the op that produces it; positions
// count the ops of the body from 0.
// RUN: accel-opt %s --accel-plan-memory="entry=plan print-plan=true" -verify-diagnostics -o %t.discard.mlir
// expected-remark @+1 {{arena of 128 bytes for 2 buffers (at least 128 bytes are live at once)}}
func.func @plan(%x: tensor<16xf32>) -> tensor<16xf32> {
  // expected-remark @+1 {{result #0: 64 bytes at offset 0, live over ops [0, 1]}}
  %a = accel.relu %x : tensor<16xf32>
  // expected-remark @+1 {{result #0: 64 bytes at offset 64, live over ops [1, 2]}}
  %b = accel.neg %a : tensor<16xf32>
  return %b : tensor<16xf32>
}
