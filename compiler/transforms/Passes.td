//===- Passes.td - accel passes ----------------------------*- tablegen -*-===//

#ifndef ACCEL_COMPILER_TRANSFORMS_PASSES_TD
#define ACCEL_COMPILER_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

//===----------------------------------------------------------------------===//
// Contract checks
//===----------------------------------------------------------------------===//

def VerifyForwardPass : Pass<"accel-verify-forward", "::mlir::ModuleOp"> {
  let summary = "Check that a module holds a forward function accel can train";
  let description = [{
    The training passes start from one function, `@forward` by default, and
    rely on its signature: every argument is a trainable parameter
    (`accel.param`), a non-trainable buffer (`accel.buffer`), a batch input
    (`accel.input`) or the step's random seed (`accel.seed`); result #0 is the scalar loss, a rank-0 floating-point
    tensor; any further result is the new value of a buffer (for example a
    BatchNorm running mean), marked with the `accel.buffer` name of the buffer
    argument it replaces and of the same type. This pass checks exactly that
    and reports each violation at the function, so an import mistake is
    caught before autodiff runs. It changes nothing.

    ```mlir
    func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                       %x: tensor<8x4xf32> {accel.input = "x"},
                       %y: tensor<8xi64> {accel.input = "y"}) -> tensor<f32> {
      %logits = accel.linear %x, %w : (tensor<8x4xf32>, tensor<10x4xf32>) -> tensor<8x10xf32>
      %loss = accel.cross_entropy %logits, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
      return %loss : tensor<f32>
    }
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function to check">,
  ];
}

#endif // ACCEL_COMPILER_TRANSFORMS_PASSES_TD
