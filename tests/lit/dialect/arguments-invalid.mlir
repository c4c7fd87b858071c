// Verifier errors of the accel argument and result attributes.
// RUN: accel-opt %s -split-input-file -verify-diagnostics

// expected-error @+1 {{'accel.param' of argument #0 must be a non-empty string, got 1 : i64}}
func.func @param_not_string(%w: tensor<4xf32> {accel.param = 1}) {
  return
}

// -----

// expected-error @+1 {{'accel.input' of argument #0 must be a non-empty string, got ""}}
func.func @empty_name(%x: tensor<4xf32> {accel.input = ""}) {
  return
}

// -----

// expected-error @+1 {{unknown accel argument attribute 'accel.weight'}}
func.func @unknown_role(%w: tensor<4xf32> {accel.weight = "w"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 with 'accel.buffer' must be a statically shaped tensor, got 'tensor<?xf32>'}}
func.func @dynamic_buffer(%b: tensor<?xf32> {accel.buffer = "bn.running_mean"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 has both 'accel.input' and 'accel.param'; an argument has one role}}
func.func @two_roles(%w: tensor<4xf32> {accel.param = "w", accel.input = "x"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 and argument #1 are both named "fc.weight"}}
func.func @duplicate_names(%a: tensor<4xf32> {accel.param = "fc.weight"},
                           %b: tensor<4xf32> {accel.buffer = "fc.weight"}) {
  return
}

// -----

// expected-error @+1 {{'accel.input' is not valid on a result; only 'accel.param', 'accel.buffer', 'accel.opt_state', 'accel.fp8_state', 'accel.grad' and 'accel.metric' are}}
func.func @result_input(%w: tensor<4xf32>) -> (tensor<4xf32> {accel.input = "w"}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{'accel.buffer' of result #0 must be a non-empty string, got unit}}
func.func @result_buffer_unit(%w: tensor<4xf32>) -> (tensor<4xf32> {accel.buffer}) {
  return %w : tensor<4xf32>
}

// -----

// expected-error @+1 {{argument #0 with 'accel.seed' must be tensor<i64>, got 'tensor<2xi64>'}}
func.func @seed_shape(%s: tensor<2xi64> {accel.seed = "seed"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 with 'accel.lr' must be tensor<f32>, got 'tensor<f64>'}}
func.func @lr_type(%lr: tensor<f64> {accel.lr = "lr"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 with 'accel.step' must be tensor<i64>, got 'tensor<f32>'}}
func.func @step_type(%s: tensor<f32> {accel.step = "step"}) {
  return
}

// -----

// expected-error @+1 {{argument #0 with 'accel.loss_scale' must be tensor<f32>, got 'tensor<bf16>'}}
func.func @loss_scale_type(%s: tensor<bf16> {accel.loss_scale = "loss_scale"}) {
  return
}

// -----

// expected-error @+1 {{'accel.init' of argument #0 must be a float on an 'accel.fp8_state' argument, got "one"}}
func.func @init_not_float(%s: tensor<f32> {accel.fp8_state = "l.fp8.input.scale", accel.init = "one"}) {
  return
}

// -----

// expected-error @+1 {{'accel.init' of argument #0 must be a float on an 'accel.fp8_state' argument, got 1.000000e+00 : f32}}
func.func @init_without_state(%s: tensor<f32> {accel.buffer = "b", accel.init = 1.0 : f32}) {
  return
}

// -----

// expected-error @+1 {{'accel.shard_of' of argument #0 must be a shape (i64 array) on an 'accel.opt_state' or 'accel.param' argument of a function with 'accel.ranks' or 'accel.data_parallel'}}
func.func @shard_without_ranks(%m: tensor<2xf32> {accel.opt_state = "w.exp_avg", accel.shard_of = array<i64: 4>}) {
  return
}

// -----

// expected-error @+1 {{'accel.shard_of' of argument #0 must be a shape (i64 array) on an 'accel.opt_state' or 'accel.param' argument of a function with 'accel.ranks' or 'accel.data_parallel'}}
func.func @shard_of_input(%w: tensor<2xf32> {accel.input = "x", accel.shard_of = array<i64: 4>}) attributes {accel.ranks = 2 : i64} {
  return
}

// -----

// expected-error @+1 {{argument #0 shards a tensor of shape [3, 3] over 2 ranks, so it must be 'tensor<5xf32>', got 'tensor<4xf32>'}}
func.func @shard_size(%m: tensor<4xf32> {accel.opt_state = "w.exp_avg", accel.shard_of = array<i64: 3, 3>}) attributes {accel.ranks = 2 : i64} {
  return
}

// -----

// A shard as the optimizer builds it.
func.func @shard_ok(%m: tensor<5xf32> {accel.opt_state = "w.exp_avg", accel.shard_of = array<i64: 3, 3>}) attributes {accel.ranks = 2 : i64} {
  return
}
