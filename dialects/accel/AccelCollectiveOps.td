//===- AccelCollectiveOps.td - collectives between ranks ---*- tablegen -*-===//
//
// Communication that data-parallel training adds to a step: the ranks of
// a job run the same program on their slices of the batch and combine
// their gradients with these ops. `accel-optimizer` places them for a
// forward that `accel-shard` split; accel-run lowers them to its
// collectives backend. They have no VJP (nothing differentiates through an
// optimizer step) and are not Pure: every rank must reach every
// collective, so none may be merged, moved past another or dropped.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCELCOLLECTIVEOPS_TD
#define ACCEL_DIALECT_ACCELCOLLECTIVEOPS_TD

// A plain integer enum attribute: it prints as a bare keyword (`sum`,
// `mean`) in the custom form, as arith.cmpi's predicate does.
def Accel_ReduceKind : I32EnumAttr<"ReduceKind",
    "how an all-reduce combines the ranks' values", [
      I32EnumAttrCase<"Sum", 0, "sum">,
      I32EnumAttrCase<"Mean", 1, "mean">]> {
  let cppNamespace = "::accel";
}

def Accel_AllReduceOp : Accel_Op<"all_reduce", [
    AllTypesMatch<["inputs", "results"]>, Accel_Differentiable]> {
  let summary = "element-wise sum or mean of every rank's tensors (one bucket)";
  let description = [{
    Each result is the element-wise combination of the matching operand
    over all `ranks` ranks: their `sum`, or their `mean` (the sum times
    `1 / ranks`, as gradient accumulation over `ranks` micro-batches
    scales). Every rank receives the same bits: the runtime adds the
    ranks' values in rank order, so the result does not depend on which
    rank arrives first.

    One op is one bucket: its operands travel together, as PyTorch DDP's
    gradient buckets do; `bucket` numbers it within the step (-1: a
    collective of the forward pass, such as synchronised batch-norm
    statistics) and `names` (optional) says what each operand is — the
    parameter a gradient belongs to, `loss`, a statistic — for reports.

    In a forward pass each rank's operand is its part of a whole-batch
    quantity; the VJP is the same all-reduce of the result gradients, as
    every rank's loss depends on every rank's operand.

    ```mlir
    %gw, %gb = accel.all_reduce mean %w_grad, %b_grad {bucket = 0 : i64, ranks = 2 : i64}
        : tensor<10x784xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Accel_ReduceKind:$kind,
                       Variadic<Accel_FloatTensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$ranks,
                       DefaultValuedAttr<I64Attr, "0">:$bucket,
                       OptionalAttr<StrArrayAttr>:$names);
  let results = (outs Variadic<Accel_FloatTensor>:$results);
  let assemblyFormat = "$kind $inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

def Accel_ReduceScatterOp : Accel_Op<"reduce_scatter"> {
  let summary = "this rank's shard of every rank's tensors combined (one bucket)";
  let description = [{
    What `all_reduce` computes (the ranks' values added in rank order, times
    `1 / ranks` for `mean`), but each rank receives only its shard of each
    combined tensor: with `n` elements and `N = ranks`, the shard holds
    `ceil(n / N)` elements, rank `r`'s starting at element `r * ceil(n / N)`
    of the row-major tensor; the last ranks' shards are padded with zeros
    where the tensor ends. ZeRO-2 reduces gradients this way: each rank
    keeps and updates only its shard.

    ```mlir
    %gw, %gb = accel.reduce_scatter mean %w_grad, %b_grad {bucket = 0 : i64, ranks = 4 : i64}
        : tensor<10x784xf32>, tensor<10xf32> -> tensor<1960xf32>, tensor<3xf32>
    ```
  }];
  let arguments = (ins Accel_ReduceKind:$kind,
                       Variadic<Accel_FloatTensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$ranks,
                       DefaultValuedAttr<I64Attr, "0">:$bucket,
                       OptionalAttr<StrArrayAttr>:$names);
  let results = (outs Variadic<Accel_FloatTensor>:$results);
  let assemblyFormat =
      "$kind $inputs attr-dict `:` type($inputs) `->` type($results)";
  let hasVerifier = 1;
}

def Accel_AllGatherOp : Accel_Op<"all_gather", [Accel_Differentiable]> {
  let summary = "whole tensors from every rank's shard of them (one bucket)";
  let description = [{
    The inverse of the sharding `reduce_scatter` and `local_shard` use:
    each operand is this rank's 1-D shard of the matching result (rank `r`
    holds elements `r * s` to `(r + 1) * s - 1` of the row-major tensor, `s
    = ceil(n / ranks)`); every rank receives the ranks' shards side by side
    in rank order, without the padding past the tensor's `n` elements.
    ZeRO-1 and ZeRO-2 gather the updated parameters this way; FSDP gathers
    each unit's parameters before the forward pass uses them.

    In a forward pass (FSDP) the op is differentiable when `backward` says
    how the ranks' losses combine (`mean` or `sum`, the loss's): every
    rank's loss depends on every rank's shard, so the VJP is a
    `reduce_scatter` of that kind of the result gradients. `reshard` asks
    `accel-autodiff` to gather again for the backward pass instead of
    keeping the gathered tensors alive from the forward pass
    (`reshard_after_forward` of PyTorch's FSDP).

    Under mixed precision a result may be in a 16-bit compute type (`bf16`
    or `f16`) while its f32 shard stays the master copy: each rank rounds
    its shard to nearest even and the ranks exchange 16-bit values, so the
    gather moves half the bytes and gives exactly the bits of gathering in
    f32 and casting after (FSDP2's `param_dtype`). The backward
    reduce-scatter then combines the gradients in `reduce_type` (default:
    the shard's type, f32): the result gradients are cast to it before the
    reduction and the reduced shards cast to the shard's type after
    (FSDP2's `reduce_dtype`).

    ```mlir
    %w, %b = accel.all_gather %w_shard, %b_shard {bucket = 0 : i64, ranks = 4 : i64}
        : tensor<1960xf32>, tensor<3xf32> -> tensor<10x784xf32>, tensor<10xf32>
    %g = accel.all_gather %w_shard backward mean {ranks = 4 : i64, reshard}
        : tensor<1960xf32> -> tensor<10x784xf32>
    %h = accel.all_gather %w_shard backward mean {ranks = 4 : i64, reduce_type = bf16}
        : tensor<1960xf32> -> tensor<10x784xbf16>
    ```
  }];
  let arguments = (ins Variadic<Accel_FloatTensor>:$inputs,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$ranks,
                       DefaultValuedAttr<I64Attr, "0">:$bucket,
                       OptionalAttr<StrArrayAttr>:$names,
                       OptionalAttr<Accel_ReduceKind>:$backward,
                       UnitAttr:$reshard,
                       OptionalAttr<TypeAttrOf<AnyFloat>>:$reduce_type);
  let results = (outs Variadic<Accel_FloatTensor>:$results);
  let assemblyFormat = [{
    $inputs (`backward` $backward^)? attr-dict `:` type($inputs) `->` type($results)
  }];
  let hasVerifier = 1;
}

def Accel_LocalShardOp : Accel_Op<"local_shard", [Pure]> {
  let summary = "this rank's shard of a tensor every rank holds whole";
  let description = [{
    Elements `r * s` to `(r + 1) * s - 1` of the row-major `input` on rank
    `r` of `ranks`, `s = ceil(n / ranks)`, zero past the input's `n`
    elements: the shard `reduce_scatter` would give of it and `all_gather`
    reassembles. Nothing is communicated. ZeRO-1 updates each rank's shard
    of the (replicated) parameters and gradients this way.

    ```mlir
    %shard = accel.local_shard %w {ranks = 4 : i64} : tensor<10x784xf32> -> tensor<1960xf32>
    ```
  }];
  let arguments = (ins Accel_FloatTensor:$input,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$ranks);
  let results = (outs Accel_FloatTensor:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `->` type($result)";
  let hasVerifier = 1;
}

def Accel_WaitOp : Accel_Op<"wait", [AllTypesMatch<["inputs", "results"]>]> {
  let summary = "the results of a collective started earlier, once it has completed";
  let description = [{
    Splits a collective into its start and its completion, so that the
    ranks communicate while this rank computes (PyTorch DDP's bucket
    all-reduces during the backward pass; FSDP's prefetch of the next
    unit's parameters). A collective whose results are the operands of an
    `accel.wait` is *started* where it stands: the runtime hands it to the
    rank's communication thread and goes on. Its results may be read only
    through the wait's results, which are the same tensors once the
    collective has completed; until then the collective still reads its
    operands, so they stay live (and unchanged) up to the wait.

    The operands are all the results of one `all_reduce`, `reduce_scatter`
    or `all_gather`, in order, and nothing else uses them.
    `accel-overlap-collectives` places starts and waits.

    ```mlir
    %g:2 = accel.all_reduce mean %w_grad, %b_grad {bucket = 0 : i64, ranks = 2 : i64}
        : tensor<10x784xf32>, tensor<10xf32>
    // ... the backward pass of earlier layers ...
    %w, %b = accel.wait %g#0, %g#1 : tensor<10x784xf32>, tensor<10xf32>
    ```
  }];
  let arguments = (ins Variadic<Accel_FloatTensor>:$inputs);
  let results = (outs Variadic<Accel_FloatTensor>:$results);
  let assemblyFormat = "$inputs attr-dict `:` type($inputs)";
  let hasVerifier = 1;
}

#endif // ACCEL_DIALECT_ACCELCOLLECTIVEOPS_TD
