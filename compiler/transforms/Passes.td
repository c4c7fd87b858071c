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

def VerifyStepPass : Pass<"accel-verify-step", "::mlir::ModuleOp"> {
  let summary = "Check the state contract of a training step";
  let description = [{
    Checks that `@<entry>` returns every piece of state it reads, so a
    runtime can update it in place and checkpoint it by name: every
    parameter (`accel.param`) and optimizer-state (`accel.opt_state`)
    argument has exactly one result with the same role and name and the
    same type; a buffer (`accel.buffer`) has at most one (a buffer nothing
    updates keeps its value); every state result names an argument of its
    role; no state is named `__metadata__` (safetensors reserves it).
    accel-run's loader runs the same check. Errors name the argument or
    result, e.g.

    ```
    error: argument #0 (accel.param "0.weight") has no result carrying its new value (a result with accel.param = "0.weight"); it would never change
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"train_step\"",
           "Name of the training step">,
  ];
}

//===----------------------------------------------------------------------===//
// Training
//===----------------------------------------------------------------------===//

def AutocastPass : Pass<"accel-autocast", "::mlir::ModuleOp"> {
  let summary = "Mixed precision: cast each op's operands as torch.autocast would";
  let description = [{
    Rewrites `@<entry>` so that every op runs in the precision
    `torch.autocast(device_type=policy, dtype=dtype)` would give it. The op
    lists are one table, `compiler/precision/AutocastPolicy.def`
    ([precision-policy.md](precision-policy.md)): products (linear,
    matmul, conv2d) cast their floating operands down to `dtype`; losses
    (and, on the `cuda` policy, softmax, log_softmax, layer_norm, sum, exp,
    log, rsqrt) cast them to `f32`; concat casts to its widest input; every
    other op runs in its inputs' type, and when those differ the narrower
    operand is cast up as PyTorch's type promotion does — except a rank-0
    `f32` scalar meeting a reduced-precision tensor, which keeps its
    precision (see the binary ops in the dialect reference).

    Parameters stay `f32` (master weights): a parameter is cast once, at
    the top of the function, however many ops read it (torch's cast
    cache), so its gradient reaches the optimizer in `f32` through the
    cast's VJP. Every cast is an explicit `accel.cast`. Each op the pass
    decides about carries `accel.autocast`, a string saying which rule
    chose its types (read by `accel-precision-report`), and the function
    records `accel.precision` and `accel.autocast_policy`. The function's
    signature does not change: a result that autocast would make narrower
    is cast back to its declared type.

    Run it on the forward function, before `accel-autodiff`.

    ```mlir
    // Before:
    %h = accel.linear %x, %w, %b : (tensor<8x4xf32>, tensor<16x4xf32>, tensor<16xf32>) -> tensor<8x16xf32>
    // After (dtype=bf16):
    %wl = accel.cast %w {accel.autocast = "parameter cast: fc.weight"} : tensor<16x4xf32> -> tensor<16x4xbf16>
    ...
    %h = accel.linear %xl, %wl, %bl {accel.autocast = "cpu lower_precision_fp: linear"}
        : (tensor<8x4xbf16>, tensor<16x4xbf16>, tensor<16xbf16>) -> tensor<8x16xbf16>
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function">,
    Option<"dtype", "dtype", "std::string", /*default=*/"\"bf16\"",
           "Reduced precision: bf16 or fp16">,
    Option<"policy", "policy", "std::string", /*default=*/"\"\"",
           "Op lists to follow: cpu or cuda (default: cpu for bf16, cuda "
           "for fp16, as torch.autocast's defaults per device)">,
  ];
}

def Float8TrainingPass : Pass<"accel-fp8", "::mlir::ModuleOp"> {
  let summary = "FP8 training: quantise each eligible linear's GEMMs as a recipe says";
  let description = [{
    Rewrites each eligible `accel.linear` (and plain 2-d `accel.matmul`) of
    `@<entry>` into explicit FP8 ops: both operands are quantised
    (`accel.fp8_quantize`, dynamic scales) and multiplied by
    `accel.scaled_matmul`, which keeps the high-precision operands and the
    recipe so that its VJP quantises the backward GEMMs (grad_input,
    grad_weight) as the recipe says. The bias is added after the GEMM in
    high precision. Inputs of rank > 2 are flattened to `[-1, in]` around
    the GEMM. The recipes are torchao 0.18's float8 training recipes
    ([fp8-recipes.md](fp8-recipes.md)):

    * `tensorwise`: one scale per tensor; input and weight E4M3FN, the
      gradient E5M2.
    * `rowwise`: E4M3FN throughout, one power-of-two scale per row along
      the dimension each GEMM does not contract.
    * `rowwise-gw-hp`: as `rowwise`, but grad_input takes the weight with
      one scale and grad_weight is computed in high precision.
    * `mxfp8`: OCP Microscaling: E4M3FN elements in blocks of 32 along
      each GEMM's reduction dimension, one E8M0 (power-of-two) scale per
      block, for all three GEMMs. Every GEMM dimension (tokens, in- and
      out-features) must then be a multiple of 32.
    * `delayed`: TransformerEngine's DelayedScaling. Each FP8 operand
      (a layer's input, weight and incoming gradient) is scaled by a scale
      computed from the amaxes of earlier steps: `amax-history` of them per
      operand, the largest (`amax-algo=max`) or the latest
      (`most_recent`), scale = (fp8_max / amax) / 2^`margin`; an amax of
      0, inf or NaN keeps the previous scale. `format=hybrid` quantises the
      gradient to E5M2 and the rest to E4M3FN, `format=e4m3` everything to
      E4M3FN. The histories and scales are arguments of `@<entry>` with
      the role `accel.fp8_state` (`<layer>.fp8.{input,weight,grad_output}.
      {amax_history,scale}`, scales starting at 1); the forward returns the
      input's and weight's updates and the backward pass the gradient's, so
      the training step carries them like any state and checkpoints save
      them.

    A layer stays in high precision (and says why) when its input or output
    features are not a multiple of 16 (FP8 GEMMs on GPUs need them), when
    its module or weight name matches one of the `exclude` globs, or with
    `keep-first-last` when it is the first or last linear layer, as
    Accelerate's default FP8 filter keeps them. `override` gives the layers
    whose module or weight name matches a glob their own recipe
    (`override=head=rowwise,blocks.0.*=mxfp8`). Each decision is an
    attribute (`accel.fp8` on the new `accel.scaled_matmul` or on the kept
    op, with `accel.fp8_layer` naming the layer) that
    `accel-precision-report` prints; the function records
    `accel.fp8_recipe`. A glob that matches no layer is a warning, a model
    with no eligible layer an error.

    Run it on the forward function after `accel-autocast` (FP8 GEMMs sit
    inside a bf16 or fp32 step) and before `accel-autodiff`.

    ```mlir
    // Before:
    %y = accel.linear %x, %w, %b : (tensor<64x32xf32>, tensor<16x32xf32>, tensor<16xf32>) -> tensor<64x16xf32>
    // After (recipe=tensorwise):
    %xq, %xs = accel.fp8_quantize %x {scaling = #accel<fp8_scaling tensorwise>}
        : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<f32>
    %wq, %ws = accel.fp8_quantize %w {scaling = #accel<fp8_scaling tensorwise>}
        : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<f32>
    %mm = accel.scaled_matmul %xq, %xs, %wq, %ws hp %x, %w
        {accel.fp8 = "fp8 tensorwise", accel.fp8_layer = "fc", recipe = #accel<fp8_recipe tensorwise>} : ...
    %y = accel.add %mm, %b : (tensor<64x16xf32>, tensor<16xf32>) -> tensor<64x16xf32>
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function">,
    Option<"recipe", "recipe", "std::string", /*default=*/"\"tensorwise\"",
           "FP8 recipe: tensorwise, rowwise, rowwise-gw-hp, mxfp8 or delayed">,
    ListOption<"exclude", "exclude", "std::string",
               "Globs of module or weight names to keep in high precision">,
    Option<"keepFirstLast", "keep-first-last", "bool", /*default=*/"true",
           "Keep the first and last linear layers in high precision">,
    ListOption<"overrides", "override", "std::string",
               "Per-layer recipes, GLOB=RECIPE (the first matching glob "
               "wins), e.g. blocks.0.*=rowwise">,
    Option<"margin", "margin", "int64_t", /*default=*/"0",
           "delayed: scales are divided by 2^margin">,
    Option<"amaxHistory", "amax-history", "int64_t", /*default=*/"1024",
           "delayed: steps of amax history per operand">,
    Option<"amaxAlgo", "amax-algo", "std::string", /*default=*/"\"max\"",
           "delayed: max or most_recent amax of the history">,
    Option<"format", "format", "std::string", /*default=*/"\"hybrid\"",
           "delayed: hybrid (E4M3 forward, E5M2 gradients) or e4m3">,
  ];
}

def PrecisionReportPass : Pass<"accel-precision-report", "::mlir::ModuleOp"> {
  let summary = "Print the precision of every op and the rule that chose it";
  let description = [{
    For every op of `@<entry>`: its location in the model's source (for an
    imported model, the TorchScript file and line), its name, result and
    operand types, and the rule that chose them — the `accel.autocast`
    attribute `accel-autocast` leaves (`cpu lower_precision_fp: linear`,
    `cuda fp32: softmax`, `parameter cast`, `inputs: promoted to widest`,
    ...), or the inputs' type. Then totals: ops per result type, the casts
    inserted (parameter, operand and result casts), activation bytes per
    type, and the loss scaling of `@train_step` if the module has one. After
    `accel-fp8`, an FP8 section lists every linear layer: the format and
    scaling of both operands of each of its GEMMs (output, grad_input,
    grad_weight; `high precision` for one the recipe keeps), or why the
    layer stayed in high precision (its features are not multiples of 16,
    the exclude glob that matched it, first or last layer). The IR is not
    changed.

    `format=table` (default) is for people, `format=json` for tools; the
    report goes to stdout, or to `output`. Write the module elsewhere (or
    to `/dev/null`) to keep stdout for the report:

    ```
    accel-opt step.mlir --accel-precision-report -o /dev/null
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the function to report on">,
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "table or json">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to (-: stdout)">,
  ];
}

def AutoDiffPass : Pass<"accel-autodiff", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode autodiff: the gradient of the loss for every parameter";
  let description = [{
    Adds `@<entry>_grad`, which computes what `@<entry>` computes and also
    the gradient of the loss with respect to every trainable parameter
    (`accel.param`). It takes the same arguments and returns the loss, one
    gradient per parameter in argument order (each marked
    `accel.grad = "<parameter name>"`, zeros for a parameter the loss does
    not use), then the state the backward pass updates, then the forward's
    buffer and FP8-state updates. The forward function is kept.

    State the backward pass updates is delayed FP8 scaling's state of an
    incoming gradient: for an `accel.fp8_state` argument, what the VJPs
    compute is its next value (not a gradient), returned with its role
    (`accel.scaled_matmul`'s `grad_state`; one op may update it).

    The backward pass walks the forward ops in reverse and asks each for its
    vector-Jacobian product through `DifferentiableOpInterface`; there is no
    per-model code. Gradients of a value used several times are summed;
    gradients of broadcast operands are summed back to the operand's shape;
    integer inputs, masks, seeds and BatchNorm's running statistics take no
    gradient; dropout reuses its forward mask. Only forward values that the
    backward ops read stay alive past their last forward use, except that
    an `accel.all_gather` marked `reshard` (FSDP's reshard-after-forward)
    is issued again before the first backward op that reads it, so its
    forward copy dies with its last forward use.

    With `loss-scale`, the gradient function takes one more argument, the
    loss scale (`tensor<f32> {accel.loss_scale = "loss_scale"}`), and the
    backward pass starts from it instead of 1: the gradients come out
    multiplied by the scale, as `GradScaler.scale(loss).backward()` leaves
    them, while the returned loss stays unscaled. `accel-optimizer` unscales
    them.

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
    Option<"lossScale", "loss-scale", "bool", /*default=*/"false",
           "Seed the backward pass with a loss-scale argument">,
  ];
}

def OptimizerPass : Pass<"accel-optimizer", "::mlir::ModuleOp"> {
  let summary = "Build the training step: gradients, clipping, accumulation and a torch.optim update";
  let description = [{
    Adds `@train_step`, one optimizer step on one batch, built on the
    gradient function of `accel-autodiff` (`@<entry>_grad`):

    ```
    @train_step(params..., buffers..., fp8_state..., opt_state..., inputs..., [seed], step, lr)
        -> (loss, params'..., buffers' and fp8_state'..., opt_state'...)
    ```

    Buffers and FP8 scaling state (`accel.fp8_state`, from
    `accel-fp8 recipe=delayed`) are carried from micro-batch to
    micro-batch; the last one's values are the step's results.

    Arguments keep the forward's roles and names; optimizer state is one
    argument per parameter and slot (`accel.opt_state = "<param>.exp_avg"`,
    `"<param>.exp_avg_sq"` for Adam and AdamW, `"<param>.momentum_buffer"`
    for SGD with momentum), zero before the first step. `step` (`accel.step`,
    `tensor<i64>`) is the 1-based number of the step being taken and `lr`
    (`accel.lr`, `tensor<f32>`) its learning rate; the `lr` option is
    recorded as the function's `accel.default_lr` for runners that do not
    schedule it, and `grad-accum` as `accel.grad_accum`. Results carry the
    name of the state they replace, so a runtime can update state in place.

    The update is torch.optim's, in its order of operations:
    SGD (weight decay added to the gradient; momentum buffer initialised to
    the first gradient, then `momentum * buf + (1 - dampening) * g`;
    Nesterov), Adam (L2 weight decay in the gradient; bias corrections
    `1 - beta^step`; `eps` added after dividing by the corrected second
    moment's square root) and AdamW (decoupled decay `p *= 1 - lr * wd`
    first). With `clip-norm`, gradients are scaled as
    `torch.nn.utils.clip_grad_norm_` does (by `max_norm / (total + 1e-6)`
    when that is below one). With `grad-accum = K`, every input has a new
    leading dimension of K micro-batches; the gradients and the loss are the
    mean over them (as `(loss / K).backward()` accumulates), buffers are
    updated micro-batch after micro-batch, and micro-batch k draws dropout
    masks from seed `K * seed + k`.

    **Loss scaling** (`loss-scale=dynamic`, the default when the forward
    was autocast to fp16) is `torch.amp.GradScaler`'s: the gradient
    function is seeded with the scale (`accel-autodiff` with `loss-scale`),
    the scale stays fixed across micro-batches, the gradients are unscaled
    by `1 / scale` and checked once for infinities and NaNs
    (`accel.all_finite` over all of them), clipping sees the unscaled
    gradients, and a step with a non-finite gradient is skipped with
    `accel.select`: parameters, optimizer state and the optimizer's own
    step count (`accel.opt_state = "optimizer.step"`, which replaces the
    `step` argument in Adam's bias corrections and SGD's first-step rule)
    keep their bits. The scale (`"loss_scale"`, `init-scale` on step 1)
    then backs off by `backoff-factor`, and the growth tracker
    (`"loss_scale.growth_tracker"`) resets; a clean step increments the
    tracker, and at `growth-interval` the scale grows by `growth-factor`
    (if the result is finite) and the tracker resets. Scale and tracker are
    optimizer state, checkpointed with the rest. `loss-scale=<number>`
    scales by that constant, skipping non-finite steps without changing
    the scale. The step also returns `accel.metric = "skipped"`. Loss
    scaling a bf16 or fp32 step is allowed but warned about: their
    gradients have f32's range and do not underflow as fp16's do.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function (its gradient is @<entry>_grad)">,
    Option<"kind", "kind", "std::string", /*default=*/"\"adamw\"",
           "Optimizer: sgd, adam or adamw">,
    Option<"lr", "lr", "double", /*default=*/"1e-3",
           "Default learning rate, recorded as accel.default_lr">,
    Option<"momentum", "momentum", "double", /*default=*/"0.0",
           "SGD momentum">,
    Option<"dampening", "dampening", "double", /*default=*/"0.0",
           "SGD dampening">,
    Option<"nesterov", "nesterov", "bool", /*default=*/"false",
           "SGD Nesterov momentum">,
    Option<"beta1", "beta1", "double", /*default=*/"0.9", "Adam beta1">,
    Option<"beta2", "beta2", "double", /*default=*/"0.999", "Adam beta2">,
    Option<"eps", "eps", "double", /*default=*/"1e-8", "Adam epsilon">,
    Option<"weightDecay", "weight-decay", "double", /*default=*/"-1.0",
           "Weight decay; negative means torch.optim's default (0 for SGD "
           "and Adam, 0.01 for AdamW)">,
    Option<"clipNorm", "clip-norm", "double", /*default=*/"0.0",
           "Clip gradients to this global L2 norm (0: no clipping)">,
    Option<"gradAccum", "grad-accum", "int64_t", /*default=*/"1",
           "Number of micro-batches per step">,
    Option<"lossScale", "loss-scale", "std::string", /*default=*/"\"auto\"",
           "none, dynamic, a constant, or auto (dynamic when the forward "
           "is autocast to fp16, else none)">,
    Option<"initScale", "init-scale", "double", /*default=*/"65536.0",
           "Dynamic loss scaling: the scale of the first step">,
    Option<"growthFactor", "growth-factor", "double", /*default=*/"2.0",
           "Dynamic loss scaling: factor after growth-interval clean steps">,
    Option<"backoffFactor", "backoff-factor", "double", /*default=*/"0.5",
           "Dynamic loss scaling: factor after a step with inf/NaN gradients">,
    Option<"growthInterval", "growth-interval", "int64_t", /*default=*/"2000",
           "Dynamic loss scaling: clean steps between growths">,
  ];
}

//===----------------------------------------------------------------------===//
// Data parallelism
//===----------------------------------------------------------------------===//

def ShardPass : Pass<"accel-shard", "::mlir::ModuleOp"> {
  let summary = "Split the forward's batch over data-parallel ranks";
  let description = [{
    Data parallelism decided ahead of time. The forward is compiled for the
    global batch B (what `accel-import --input` said); this pass rewrites
    it into the program every one of `ranks` = N ranks runs on its slice of
    B / N contiguous samples, and records the split on the function
    (`accel.data_parallel`). `accel-optimizer` then combines the ranks'
    gradients with `accel.all_reduce` before clipping and the update, so
    every rank applies the same update to the same parameters.

    Strategy `ddp` (PyTorch DistributedDataParallel): parameters and
    optimizer state replicated, gradients averaged in buckets — parameters
    in reverse order, the first bucket closed at `first-bucket-mb` (1 MiB),
    the others at `bucket-mb` (25 MiB), a bucket closing once it reaches
    its cap (PyTorch's defaults and rule). The loss is combined the same
    way, so every rank reports the whole batch's loss.

    Strategy `zero1` (ZeRO stage 1, as PyTorch's ZeroRedundancyOptimizer):
    gradients all-reduced as under `ddp`, but each rank keeps and updates
    only its shard of every parameter's optimizer state (`accel.shard_of`
    arguments: the row-major tensor split into N pieces of ceil(n / N)
    elements, the last padded with zeros) and the updated shards are
    all-gathered into whole parameters, in the same buckets. Strategy
    `zero2` (stage 2): gradients reduce-scattered instead, so each rank
    holds only its shard of each gradient; gradient clipping's norm and
    loss scaling's overflow check then add the ranks' parts with a scalar
    all-reduce each.

    Strategy `fsdp` (ZeRO stage 3, as FSDP's flat parameters): the
    parameters are sharded too, the same way. The forward takes each
    parameter's shard (`accel.shard_of`) and gathers a unit's parameters
    (`accel.all_gather`, `bucket` = the unit's number) before the first op
    that uses one of them; a unit is a module prefix — by default each
    top-level child of the model (`0`, `wte`), or a numbered child of a
    top-level list (`blocks.3`), or each prefix matching one of `units`
    (parameters under no such prefix form one more unit). The gather's VJP
    reduce-scatters the unit's gradients; with `reshard-after-forward`
    (default) accel-autodiff gathers again for the backward pass, so a
    unit's whole parameters live only while it computes. The optimizer
    updates each rank's shards; nothing is gathered after the update.

    The batch dimension is followed from the inputs (their first dimension)
    through every op; a reshape keeps it where the row-major order puts it
    (`[B, T, C] -> [B*T, C]` splits the merged dimension, and so does
    `[T, B, C] -> [T*B, C]`, with the batch inside it). Dropout masks are
    the global batch's (each rank's slice of the mask one rank would draw,
    `rank_stride`), so `N` ranks compute what one rank computes. Batch
    norm in training mode becomes PyTorch SyncBatchNorm's arithmetic: the
    op is replaced by its formula, with the per-channel sums of `x` and of
    `(x - mean)²` all-reduced (`bucket = -1`) so every rank normalises with
    the whole batch's statistics and updates the running ones alike; the
    all-reduces' VJPs synchronise the backward pass too (a bf16 or f16
    input is normalised in f32 and the result rounded once).
    Refused, at the op: a loss that is not a sum or mean over the batch, or
    that is transformed non-linearly after it; anything else that mixes
    samples — softmax or slicing along the batch, a contraction over it,
    a maximum over it, constants spanning it; FP8 (per-rank scales); a
    batch that does not divide by N.

    Mixed precision (`accel-autocast` before this pass): under `fsdp`, a
    parameter that the forward reads only through autocast's casts to one
    16-bit type is gathered in that type (the casts fold into the gather:
    each rank rounds its f32 shard, half the bytes travel, the same bits
    arrive), while one that some op reads in f32 (a norm's weight) is
    gathered in f32. The master shards and optimizer state stay f32.
    `reduce-dtype` is the type gradients are combined in (default `fp32`,
    as PyTorch DDP without a compression hook, and FSDP2 with
    `reduce_dtype=torch.float32`): with `bf16` or `fp16` every gradient bucket (all strategies)
    is cast to it, reduced — the ranks' values added in f32 and rounded
    once — and cast back to f32, halving the gradient traffic at the cost
    of rounding each combined gradient (DDP's `bf16_compress_hook`).

    With loss `mean`, the ranks' gradients are averaged (exactly the
    whole batch's mean gradient); with `sum`, summed. A cross-entropy whose
    targets contain `ignore_index` averages each rank's own mean, as
    PyTorch DDP does, which differs from the whole batch's mean when the
    ranks ignore different numbers of targets.

    The forward as it was before the split is kept as `@<entry>_eval`
    (the global batch, real batch-norm ops, whole parameters): evaluation
    runs it on one rank, as the split forward cannot be (its batch norm is
    the training formula; under `fsdp` it gathers shards).

    ```mlir
    // accel-opt --accel-shard="strategy=ddp ranks=2"
    func.func @forward(..., %x: tensor<64x784xf32> {accel.input = "x"}, ...)
    // becomes
    func.func @forward(..., %x: tensor<32x784xf32> {accel.input = "x"}, ...)
        attributes {accel.data_parallel = {global_batch = 64 : i64, loss = "mean", ranks = 2 : i64, strategy = "ddp", ...}}
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"forward\"",
           "Name of the forward function">,
    Option<"strategy", "strategy", "std::string", /*default=*/"\"ddp\"",
           "ddp, zero1, zero2 or fsdp">,
    Option<"ranks", "ranks", "int64_t", /*default=*/"1",
           "Number of data-parallel ranks">,
    Option<"bucketMb", "bucket-mb", "double", /*default=*/"25.0",
           "Gradient bucket cap in MiB">,
    Option<"firstBucketMb", "first-bucket-mb", "double", /*default=*/"1.0",
           "Cap of the first gradient bucket in MiB">,
    Option<"reshardAfterForward", "reshard-after-forward", "bool",
           /*default=*/"true",
           "fsdp: gather each unit's parameters again for the backward pass "
           "instead of keeping them from the forward pass">,
    ListOption<"units", "units", "std::string",
               "fsdp: globs over module prefixes; each prefix they match is "
               "a unit (default: each top-level child, a numbered child of "
               "a top-level list)">,
    Option<"reduceDtype", "reduce-dtype", "std::string", /*default=*/"\"fp32\"",
           "Type the ranks combine gradients in: fp32, bf16 or fp16">,
  ];
}

def CommReportPass : Pass<"accel-comm-report", "::mlir::ModuleOp"> {
  let summary = "Print every collective of a training step and each rank's memory";
  let description = [{
    What data parallelism costs, known before the first step: for every
    collective of `@<entry>` (`@train_step` by default) its kind and
    reduction, bucket, element type, bytes, the tensors it carries
    (parameter names, `loss`) and its source; per step, the collectives'
    count and payload, and the bytes each rank sends when an all-reduce
    runs as a ring (a reduce-scatter and an all-gather, each moving
    (N - 1) / N of the payload: 2Ψ·4 B·(N-1)/N for DDP's fp32 gradients);
    per rank, the bytes of parameters, gradients, optimizer state (each
    also as a multiple of the parameter count Ψ: DDP with fp32 Adam is
    4Ψ + 4Ψ + 8Ψ = 16Ψ) and buffers; and the planned arena when the step
    has been planned (`--inline --accel-plan-memory` before the report).
    accel-run's `--ranks` runs report the payload the collectives actually
    carried, for comparison.

    `format=table` (default) or `format=json`; the report goes to stdout,
    or to `output`:

    ```
    accel-opt step.mlir --accel-comm-report -o /dev/null
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"train_step\"",
           "Name of the training step to report on">,
    Option<"format", "format", "std::string", /*default=*/"\"table\"",
           "table or json">,
    Option<"output", "output", "std::string", /*default=*/"\"-\"",
           "File to write the report to (-: stdout)">,
  ];
}

//===----------------------------------------------------------------------===//
// Lowering
//===----------------------------------------------------------------------===//

def FuseElementwisePass : Pass<"accel-fuse-elementwise", "::mlir::func::FuncOp"> {
  let summary = "Fuse chains of elementwise ops into single-pass accel.fused ops";
  let description = [{
    A training step is mostly elementwise work between matrix products: an
    activation's gradient, and an optimizer update of a dozen ops per
    parameter. Run one op at a time, each is a pass over memory; fused, the
    chain reads its inputs and writes its results once.

    Fusible ops are the elementwise accel ops (add, sub, mul, div, neg,
    relu, tanh, sigmoid, exp, log, sqrt, rsqrt, gelu, relu_grad, gelu_grad)
    whose operands each have the result's static shape or hold one element.
    Walking the function in order, an op joins the open group of the latest
    operand producer of its shape; a value used outside its group closes
    the group, so the fused op, placed at its last member, dominates every
    use. Groups of two or more ops (and at most `max-values` inputs and
    ops together) become `accel.fused`; values used outside a group become
    its results. Scalar (one-element) chains stay as they are.

    Chains in `bf16` or `f16` fuse too, and by default each op still rounds
    its result to its type, so the fused chain computes exactly what the
    unfused ops (and ATen's reduced-precision kernels, one op at a time)
    compute. With `keep-fp32-intermediates`, the fused op is marked
    `accel.fp32_intermediates`: values inside the chain stay in f32 and only
    its results are rounded — fewer roundings, so results differ from
    PyTorch eager by up to an ulp of the reduced type per op (closer to the
    exact value, and what a compiler such as torch.compile's generated
    kernels do).

    ```mlir
    %a = accel.mul %g, %lr : (tensor<64x32xf32>, tensor<f32>) -> tensor<64x32xf32>
    %p2 = accel.sub %p, %a : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    // becomes
    %p2 = accel.fused(%g, %lr, %p) : (tensor<64x32xf32>, tensor<f32>, tensor<64x32xf32>)
        -> tensor<64x32xf32> {
    ^bb0(%ge: tensor<f32>, %lre: tensor<f32>, %pe: tensor<f32>):
      %ae = accel.mul %ge, %lre : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %pe2 = accel.sub %pe, %ae : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %pe2 : tensor<f32>
    }
    ```
  }];
  let options = [
    Option<"maxValues", "max-values", "int64_t", /*default=*/"64",
           "Most inputs plus ops in one fused op (bounds a driver's registers)">,
    Option<"keepFp32Intermediates", "keep-fp32-intermediates", "bool",
           /*default=*/"false",
           "Keep a reduced-precision chain's intermediate values in f32">,
  ];
}

def OverlapCollectivesPass
    : Pass<"accel-overlap-collectives", "::mlir::func::FuncOp"> {
  let summary = "Start each collective early and wait for it where its results are needed";
  let description = [{
    Communication overlaps computation: each data-parallel collective of a
    (single-block, inlined) step is started as soon as its operands exist
    and completed by an `accel.wait` placed right before the first op that
    reads its results, so the rank's communication thread moves one bucket
    while the rank computes the next.

    - A gradient bucket's `all_reduce` or `reduce_scatter` starts right
      after its last gradient is computed, inside the backward pass (as
      PyTorch DDP's bucket hooks fire); under `zero2` and `fsdp` the whole
      gradients die at the wait, not at the end of the step.
    - An `all_gather` (FSDP, ZeRO) is prefetched one unit ahead: it starts
      right before the previous gather's tensors are first read, so unit
      k + 1 is gathered while unit k computes; a gather again of the same
      shards for the backward pass (`reshard-after-forward`) starts no
      earlier than the forward pass's tensors die.
    - At most `max-in-flight` collectives are started and not yet waited
      for: a wait is placed before the collective that many starts later
      if that comes first, which bounds the tensors kept alive.

    A collective stays where it is, run at once, when it is a forward
    pass's batch-norm statistics (bucket -1: the next op needs them). The
    arithmetic is unchanged: the same collectives, in the same
    order on every rank, give the same bits as without this pass.

    ```mlir
    %g = accel.all_reduce mean %w_grad {bucket = 0 : i64, ranks = 2 : i64} : tensor<10x64xf32>
    // becomes: the all_reduce where %w_grad is computed, and
    %w = accel.wait %g : tensor<10x64xf32>
    // right before the optimizer's first read of it
    ```
  }];
  let options = [
    Option<"maxInFlight", "max-in-flight", "int64_t", /*default=*/"2",
           "Most collectives started and not yet waited for at once">,
  ];
}

def PlanMemoryPass : Pass<"accel-plan-memory", "::mlir::ModuleOp"> {
  let summary = "Assign every intermediate tensor an offset in one static arena";
  let description = [{
    For the function `entry` (`@train_step` by default; calls must be inlined
    first, e.g. with `--inline`), every tensor an op produces gets a byte
    offset in one arena, reusing the bytes of tensors that are no longer
    live (greedy by size, first fit; see compiler/planning/ArenaPlanner.h).
    Arguments (state, batch) live outside the arena and constants in their
    own pool. Reshapes and flattens are views (`accel.view`): they take no
    bytes, share the offset of the value they reshape (none when that is an
    argument or a constant) and keep it live while they are read. So is a
    transpose of the last two dimensions read only by matmuls: the CPU
    driver's products read its input with a transpose flag and never run
    it. The
    function gets `accel.arena_bytes`; each op gets `accel.arena_offsets`,
    one per result. A one-line remark at the function's line (no column,
    so its signature is not echoed) reports the arena size
    against the lower bound set by the most bytes live at once, so peak
    step memory is known before anything runs; with `print-plan`, a remark
    at each producing op gives its buffers' sizes, offsets and live ranges
    (positions in the function body).

    ```mlir
    func.func @train_step(...) attributes {accel.arena_bytes = 8192 : i64} {
      %0 = accel.linear %x, %w {accel.arena_offsets = array<i64: 0>} : ...
      %1 = accel.relu %0 {accel.arena_offsets = array<i64: 4096>} : ...
    ```
  }];
  let options = [
    Option<"entry", "entry", "std::string", /*default=*/"\"train_step\"",
           "Name of the function to plan">,
    Option<"alignment", "alignment", "int64_t", /*default=*/"64",
           "Byte alignment of every buffer (a power of two)">,
    Option<"printPlan", "print-plan", "bool", /*default=*/"false",
           "Also report every buffer (bytes, offset, live range) as a remark "
           "at the op that produces it">,
  ];
}

#endif // ACCEL_COMPILER_TRANSFORMS_PASSES_TD
