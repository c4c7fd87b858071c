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

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

def AutoDiffPass : Pass<"accel-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode autodiff: the gradient of the loss for every parameter";
  let description = [{
    Adds `@<entry>_grad`, which computes what `@<entry>` computes and also
    the gradient of the loss with respect to every trainable parameter
    (`accel.param`). It takes the same arguments and returns the loss, one
    gradient per parameter in argument order (each marked
    `accel.grad = "<parameter name>"`, zeros for a parameter the loss does
    not use), then the forward's buffer updates. The forward function is
    kept.

    The backward pass walks the forward ops in reverse and asks each for its
    vector-Jacobian product through `DifferentiableOpInterface`; there is no
    per-model code. Gradients of a value used several times are summed;
    gradients of broadcast operands are summed back to the operand's shape;
    integer inputs, masks, seeds and BatchNorm's running statistics take no
    gradient; dropout reuses its forward mask. Only forward values that the
    backward ops read stay alive past their last forward use.

    The forward must satisfy the contract of `accel-verify-forward`, and
    every parameter must be floating point.

    ```mlir
    // Before:
    func.func @forward(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                       %x: tensor<8x4xf32> {accel.input = "x"},
                       %y: tensor<8xi64> {accel.input = "y"}) -> tensor<f32> {
      %logits = accel.linear %x, %w : (tensor<8x4xf32>, tensor<10x4xf32>) -> tensor<8x10xf32>
      %loss = accel.cross_entropy %logits, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
      return %loss : tensor<f32>
    }
    // After (with @forward unchanged):
    func.func @forward_grad(%w: tensor<10x4xf32> {accel.param = "fc.weight"},
                            %x: tensor<8x4xf32> {accel.input = "x"},
                            %y: tensor<8xi64> {accel.input = "y"})
        -> (tensor<f32>, tensor<10x4xf32> {accel.grad = "fc.weight"}) {
      %logits = accel.linear %x, %w : ...
      %loss = accel.cross_entropy %logits, %y : ...
      %one = arith.constant dense<1.0> : tensor<f32>
      %dlogits = accel.cross_entropy_grad %one, %logits, %y : ...
      %dw = accel.matmul %dlogits_t, %x : ...   // Gᵀ x
      return %loss, %dw : tensor<f32>, tensor<10x4xf32>
    }
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function">,
  ];
}

#endif // ACCEL_COMPILER_TRANSFORMS_PASSES_TD
