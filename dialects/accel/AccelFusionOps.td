//===- AccelFusionOps.td - fused elementwise kernels -------*- tablegen -*-===//
//
// Ops that lowering introduces: a fused elementwise region and its
// terminator. Autodiff and the optimizer never see them; they are built by
// accel-fuse-elementwise right before memory planning.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELFUSIONOPS_TD
#define ACCEL_DIALECT_ACCELFUSIONOPS_TD

def Accel_FusedOp : Accel_Op<"fused", [Pure, IsolatedFromAbove, SingleBlock]> {
  let summary = "a chain of elementwise ops computed in one pass over memory";
  let description = [{
    All results have one static shape, the iteration shape. Each input has
    that shape or holds a single element (a scalar broadcast to every
    position, such as a learning rate). The body computes one element: its
    block arguments are rank-0 tensors standing for the inputs' elements at
    a position (or the scalar), its ops are ordinary accel ops on rank-0
    tensors, and `accel.yield` gives each result's element. Evaluating the
    body on the whole inputs instead, with broadcasting, gives the same
    values: fusion changes how memory is traversed, not what is computed,
    and each op still rounds its own result.

    ```mlir
    %p2, %m2 = accel.fused(%p, %g, %m, %lr)
        : (tensor<1024x784xf32>, tensor<1024x784xf32>, tensor<1024x784xf32>, tensor<f32>)
        -> (tensor<1024x784xf32>, tensor<1024x784xf32>) {
    ^bb0(%pe: tensor<f32>, %ge: tensor<f32>, %me: tensor<f32>, %lre: tensor<f32>):
      %m1 = accel.add %me, %ge : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %step = accel.mul %m1, %lre : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %p1 = accel.sub %pe, %step : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %p1, %m1 : tensor<f32>, tensor<f32>
    }
    ```
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$inputs);
  let results = (outs Variadic<AnyRankedTensor>:$results);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `(` $inputs `)` attr-dict `:` functional-type($inputs, results) $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Accel_YieldOp : Accel_Op<"yield", [Pure, Terminator,
                                       HasParent<"FusedOp">]> {
  let summary = "the elements an accel.fused body computes";
  let description = [{
    Ends an `accel.fused` body with one rank-0 value per result of the
    fused op, of the result's element type.
  }];
  let arguments = (ins Variadic<AnyRankedTensor>:$values);
  let assemblyFormat = "($values^ `:` type($values))? attr-dict";
}

#endif // ACCEL_DIALECT_ACCELFUSIONOPS_TD
