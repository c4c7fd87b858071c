//===- AccelPrecisionOps.td - precision state ops ----------*- tablegen -*-===//
//
// Ops that training with reduced precision adds to a step: dynamic loss
// scaling checks the gradients for overflow and keeps or discards the
// update as a whole. `accel-optimizer` builds them; they have no VJP
// because nothing differentiates through an optimizer step.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELPRECISIONOPS_TD
#define ACCEL_DIALECT_ACCELPRECISIONOPS_TD

/// A rank-0 boolean, buildable so that formats and builders can omit it.
def Accel_FlagTensor : 0DTensorOf<[I1]> {
  let builderCall = "::mlir::RankedTensorType::get({}, $_builder.getI1Type())";
}

def Accel_AllFiniteOp : Accel_Op<"all_finite", [Pure]> {
  let summary = "whether every element of every operand is finite";
  let description = [{
    A rank-0 `i1` that is true when no element of any operand is an
    infinity or a NaN. With one op over all gradients, a training step
    decides once whether to skip (as `torch.amp.GradScaler`'s single
    `found_inf` flag over every gradient does).

    ```mlir
    %ok = accel.all_finite %gw, %gb : tensor<10x784xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<Accel_FloatTensor>:$inputs);
  let results = (outs Accel_FlagTensor:$result);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

def Accel_SelectOp : Accel_Op<"select", [Pure,
    AllTypesMatch<["on_true", "on_false", "result"]>]> {
  let summary = "one of two whole tensors, chosen by a scalar condition";
  let description = [{
    `on_true` when the rank-0 `condition` is true, else `on_false`, bit for
    bit. A step whose gradients overflowed keeps its parameters and
    optimizer state this way: the values are copied, not recomputed, so a
    skipped step leaves them byte-identical.

    ```mlir
    %w2 = accel.select %ok, %updated, %w : tensor<10x784xf32>
    ```
  }];
  let arguments = (ins Accel_FlagTensor:$condition,
                       Accel_AnyTensor:$on_true, Accel_AnyTensor:$on_false);
  let results = (outs Accel_AnyTensor:$result);
  let assemblyFormat = [{
    $condition `,` $on_true `,` $on_false attr-dict `:` type($result)
  }];
  let hasFolder = 1;
}

#endif // ACCEL_DIALECT_ACCELPRECISIONOPS_TD
