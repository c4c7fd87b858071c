// Every verifier error of the accel ops, one case each.
// RUN: accel-opt %s -split-input-file -verify-diagnostics

//===----------------------------------------------------------------------===//
// Operand and attribute constraints from ODS
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%x: tensor<?x8xf32>) -> tensor<?x8xf32> {
  // expected-error @+1 {{'accel.relu' op operand #0 must be statically shaped tensor of}}
  %0 = accel.relu %x : tensor<?x8xf32>
  return %0 : tensor<?x8xf32>
}

// -----

func.func @float_op_on_integers(%x: tensor<4xi64>) -> tensor<4xi64> {
  // expected-error @+1 {{'accel.tanh' op operand #0 must be statically shaped tensor of 32-bit float or bfloat16 type or 16-bit float or f8E4M3FN type or f8E5M2 type values}}
  %0 = accel.tanh %x : tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

func.func @unsupported_element_type(%x: tensor<4xf64>) -> tensor<4xf64> {
  // expected-error @+1 {{'accel.exp' op operand #0 must be statically shaped tensor of}}
  %0 = accel.exp %x : tensor<4xf64>
  return %0 : tensor<4xf64>
}

// -----

func.func @unary_type_mismatch(%x: tensor<4xf32>) -> tensor<4xbf16> {
  // expected-error @+1 {{'accel.neg' op requires the same type for all operands and results}}
  %0 = "accel.neg"(%x) : (tensor<4xf32>) -> tensor<4xbf16>
  return %0 : tensor<4xbf16>
}

// -----

func.func @clamp_bounds(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.clamp' op needs min <= max, got [6.000000e+00, 0.000000e+00]}}
  %0 = accel.clamp %x {min = 6.0 : f64, max = 0.0 : f64} : tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @cast_shape_change(%x: tensor<4xf32>) -> tensor<2x2xbf16> {
  // expected-error @+1 {{'accel.cast' op requires the same shape for all operands and results}}
  %0 = accel.cast %x : tensor<4xf32> -> tensor<2x2xbf16>
  return %0 : tensor<2x2xbf16>
}

// -----

func.func @wrong_inferred_result(%a: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<8x8xf32> {
  // expected-error @+2 {{'accel.add' op inferred type(s) 'tensor<4x8xf32>' are incompatible with return type(s) of operation 'tensor<8x8xf32>'}}
  // expected-error @+1 {{'accel.add' op failed to infer returned types}}
  %0 = accel.add %a, %b : (tensor<4x8xf32>, tensor<8xf32>) -> tensor<8x8xf32>
  return %0 : tensor<8x8xf32>
}

// -----

func.func @pair_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op attribute 'stride' failed to satisfy constraint: i64 dense array attribute with exactly 2 elements}}
  %0 = accel.conv2d %x, %w {stride = array<i64: 1, 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @seed_rank(%x: tensor<4xf32>, %seed: tensor<1xi64>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.dropout' op operand #1 must be 0D tensor of 64-bit signless integer values}}
  %0 = accel.dropout %x, %seed {p = 0.5 : f64} : (tensor<4xf32>, tensor<1xi64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

func.func @binary_element_types(%a: tensor<4xf32>, %b: tensor<4xbf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.mul' op operands must share one element type, got 'f32' and 'bf16'}}
  %0 = accel.mul %a, %b : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @binary_broadcast(%a: tensor<3x4xf32>, %b: tensor<5xf32>) -> tensor<3x4xf32> {
  // expected-error @+1 {{'accel.sub' op operand shapes do not broadcast: 'tensor<3x4xf32>' and 'tensor<5xf32>'}}
  %0 = accel.sub %a, %b : (tensor<3x4xf32>, tensor<5xf32>) -> tensor<3x4xf32>
  return %0 : tensor<3x4xf32>
}

// -----

func.func @masked_fill_broadcast(%x: tensor<16xf32>, %m: tensor<4x8xi1>) -> tensor<4x16xf32> {
  // expected-error @+1 {{'accel.masked_fill' op input 'tensor<16xf32>' and mask 'tensor<4x8xi1>' do not broadcast}}
  %0 = accel.masked_fill %x, %m {value = 0.0 : f64} : (tensor<16xf32>, tensor<4x8xi1>) -> tensor<4x16xf32>
  return %0 : tensor<4x16xf32>
}

// -----

func.func @dropout_probability(%x: tensor<4xf32>, %seed: tensor<i64>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.dropout' op probability p must be in [0, 1], got 1.5}}
  %0 = accel.dropout %x, %seed {p = 1.5 : f64} : (tensor<4xf32>, tensor<i64>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// Linear algebra
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_rank(%a: tensor<8xf32>, %b: tensor<8x4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.matmul' op operands must have rank >= 2, got 'tensor<8xf32>' and 'tensor<8x4xf32>'}}
  %0 = accel.matmul %a, %b : (tensor<8xf32>, tensor<8x4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @matmul_contracting(%a: tensor<2x8xf32>, %b: tensor<7x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'accel.matmul' op contracting dimensions differ: lhs 'tensor<2x8xf32>' has 8 columns, rhs 'tensor<7x4xf32>' has 7 rows}}
  %0 = accel.matmul %a, %b : (tensor<2x8xf32>, tensor<7x4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @matmul_batch(%a: tensor<3x2x8xf32>, %b: tensor<5x8x4xf32>) -> tensor<3x2x4xf32> {
  // expected-error @+1 {{'accel.matmul' op batch dimensions do not broadcast: 'tensor<3x2x8xf32>' and 'tensor<5x8x4xf32>'}}
  %0 = accel.matmul %a, %b : (tensor<3x2x8xf32>, tensor<5x8x4xf32>) -> tensor<3x2x4xf32>
  return %0 : tensor<3x2x4xf32>
}

// -----

func.func @matmul_element_types(%a: tensor<2x8xf16>, %b: tensor<8x4xf32>) -> tensor<2x4xf16> {
  // expected-error @+1 {{'accel.matmul' op operands must share one element type, got 'f16' and 'f32'}}
  %0 = accel.matmul %a, %b : (tensor<2x8xf16>, tensor<8x4xf32>) -> tensor<2x4xf16>
  return %0 : tensor<2x4xf16>
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<4x1xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.linear' op input must have rank >= 1, got 'tensor<f32>'}}
  %0 = accel.linear %x, %w : (tensor<f32>, tensor<4x1xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @linear_weight_rank(%x: tensor<2x8xf32>, %w: tensor<4x8x1xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'accel.linear' op weight must be [out_features, in_features], got 'tensor<4x8x1xf32>'}}
  %0 = accel.linear %x, %w : (tensor<2x8xf32>, tensor<4x8x1xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @linear_features(%x: tensor<2x784xf32>, %w: tensor<10x783xf32>) -> tensor<2x10xf32> {
  // expected-error @+1 {{'accel.linear' op input has 784 features but weight 'tensor<10x783xf32>' expects 783}}
  %0 = accel.linear %x, %w : (tensor<2x784xf32>, tensor<10x783xf32>) -> tensor<2x10xf32>
  return %0 : tensor<2x10xf32>
}

// -----

func.func @linear_bias(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>, %b: tensor<8xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'accel.linear' op bias must have shape [4], got 'tensor<8xf32>'}}
  %0 = accel.linear %x, %w, %b : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @linear_element_types(%x: tensor<2x8xbf16>, %w: tensor<4x8xf32>) -> tensor<2x4xbf16> {
  // expected-error @+1 {{'accel.linear' op operands must share one element type, got 'bf16' and 'f32'}}
  %0 = accel.linear %x, %w : (tensor<2x8xbf16>, tensor<4x8xf32>) -> tensor<2x4xbf16>
  return %0 : tensor<2x4xbf16>
}

//===----------------------------------------------------------------------===//
// Convolution
//===----------------------------------------------------------------------===//

// -----

func.func @conv_input_rank(%x: tensor<3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op expects a [N, C, H, W] input, got 'tensor<3x8x8xf32>'}}
  %0 = accel.conv2d %x, %w : (tensor<3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<4x6x6xf32>
  return %0 : tensor<4x6x6xf32>
}

// -----

func.func @conv_weight_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op expects a [O, C / groups, kH, kW] weight, got 'tensor<4x3x3xf32>'}}
  %0 = accel.conv2d %x, %w : (tensor<1x3x8x8xf32>, tensor<4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op stride must be positive, got [0, 1]}}
  %0 = accel.conv2d %x, %w {stride = array<i64: 0, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_padding(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op padding must be non-negative, got [-1, 0]}}
  %0 = accel.conv2d %x, %w {padding = array<i64: -1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op dilation must be positive, got [1, 0]}}
  %0 = accel.conv2d %x, %w {dilation = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_groups_positive(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op groups must be positive, got 0}}
  %0 = accel.conv2d %x, %w {groups = 0 : i64} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_groups_divide(%x: tensor<1x6x8x8xf32>, %w: tensor<5x3x3x3xf32>) -> tensor<1x5x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op groups 2 must divide the input channels 6 and the output channels 5}}
  %0 = accel.conv2d %x, %w {groups = 2 : i64} : (tensor<1x6x8x8xf32>, tensor<5x3x3x3xf32>) -> tensor<1x5x6x6xf32>
  return %0 : tensor<1x5x6x6xf32>
}

// -----

func.func @conv_channels_per_group(%x: tensor<1x6x8x8xf32>, %w: tensor<4x6x3x3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op weight 'tensor<4x6x3x3xf32>' must have 3 input channels per group (input 'tensor<1x6x8x8xf32>', groups 2)}}
  %0 = accel.conv2d %x, %w {groups = 2 : i64} : (tensor<1x6x8x8xf32>, tensor<4x6x3x3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) -> tensor<1x4x6x6xf32> {
  // expected-error @+1 {{'accel.conv2d' op bias must have shape [4], got 'tensor<3xf32>'}}
  %0 = accel.conv2d %x, %w, %b : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}

// -----

func.func @conv_kernel_too_big(%x: tensor<1x3x4x4xf32>, %w: tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'accel.conv2d' op kernel 'tensor<4x3x3x3xf32>' (dilation [2, 2]) does not fit input 'tensor<1x3x4x4xf32>' with padding [0, 0]}}
  %0 = accel.conv2d %x, %w {dilation = array<i64: 2, 2>} : (tensor<1x3x4x4xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x1xf32>
  return %0 : tensor<1x4x1x1xf32>
}

//===----------------------------------------------------------------------===//
// Normalisation
//===----------------------------------------------------------------------===//

// -----

func.func @batch_norm_rank(%x: tensor<8xf32>, %p: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'accel.batch_norm' op expects a [N, C, ...] input, got 'tensor<8xf32>'}}
  %y, %m, %v = accel.batch_norm %x, %p, %p, %p, %p : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %y : tensor<8xf32>
}

// -----

func.func @batch_norm_param_types(%x: tensor<2x4xbf16>, %p: tensor<4xf32>, %q: tensor<4xbf16>) -> tensor<2x4xbf16> {
  // expected-error @+1 {{'accel.batch_norm' op operands must share one element type, got 'f32' and 'bf16'}}
  %y, %m, %v = accel.batch_norm %x, %p, %p, %q, %p : (tensor<2x4xbf16>, tensor<4xf32>, tensor<4xf32>, tensor<4xbf16>, tensor<4xf32>) -> (tensor<2x4xbf16>, tensor<4xbf16>, tensor<4xf32>)
  return %y : tensor<2x4xbf16>
}

// -----

func.func @batch_norm_channels(%x: tensor<2x4xf32>, %p: tensor<4xf32>, %q: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'accel.batch_norm' op running_var must have shape [4], got 'tensor<3xf32>'}}
  %y, %m, %v = accel.batch_norm %x, %p, %p, %p, %q : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<3xf32>) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<3xf32>)
  return %y : tensor<2x4xf32>
}

// -----

func.func @batch_norm_one_value(%x: tensor<1x4x1x1xf32>, %p: tensor<4xf32>) -> tensor<1x4x1x1xf32> {
  // expected-error @+1 {{'accel.batch_norm' op training needs more than one value per channel, got input 'tensor<1x4x1x1xf32>'}}
  %y, %m, %v = accel.batch_norm %x, %p, %p, %p, %p {training} : (tensor<1x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<1x4x1x1xf32>, tensor<4xf32>, tensor<4xf32>)
  return %y : tensor<1x4x1x1xf32>
}

// -----

func.func @layer_norm_empty(%x: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'accel.layer_norm' op normalized_shape must not be empty}}
  %0 = accel.layer_norm %x {normalized_shape = array<i64>} : (tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_trailing(%x: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  // expected-error @+1 {{'accel.layer_norm' op normalized_shape [64] must equal the trailing dimensions of 'tensor<2x16x32xf32>'}}
  %0 = accel.layer_norm %x {normalized_shape = array<i64: 64>} : (tensor<2x16x32xf32>) -> tensor<2x16x32xf32>
  return %0 : tensor<2x16x32xf32>
}

// -----

func.func @layer_norm_weight(%x: tensor<2x8xf32>, %w: tensor<4xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'accel.layer_norm' op weight must have shape [8], got 'tensor<4xf32>'}}
  %0 = accel.layer_norm %x weight(%w) {normalized_shape = array<i64: 8>} : (tensor<2x8xf32>, tensor<4xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

// -----

func.func @layer_norm_bias(%x: tensor<2x8xf32>, %b: tensor<2x8xf32>) -> tensor<2x8xf32> {
  // expected-error @+1 {{'accel.layer_norm' op bias must have shape [8], got 'tensor<2x8xf32>'}}
  %0 = accel.layer_norm %x bias(%b) {normalized_shape = array<i64: 8>} : (tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x8xf32>
  return %0 : tensor<2x8xf32>
}

//===----------------------------------------------------------------------===//
// Pooling
//===----------------------------------------------------------------------===//

// -----

func.func @pool_rank(%x: tensor<8x8xf32>) -> tensor<4x4xf32> {
  // expected-error @+1 {{'accel.max_pool2d' op expects a [N, C, H, W] or [C, H, W] input, got 'tensor<8x8xf32>'}}
  %0 = accel.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x8xf32>) -> tensor<4x4xf32>
  return %0 : tensor<4x4xf32>
}

// -----

func.func @pool_kernel(%x: tensor<1x8x8xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'accel.max_pool2d' op kernel_size must be positive, got [0, 2]}}
  %0 = accel.max_pool2d %x {kernel_size = array<i64: 0, 2>, stride = array<i64: 2, 2>} : (tensor<1x8x8xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @pool_stride(%x: tensor<1x8x8xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'accel.avg_pool2d' op stride must be positive, got [2, -2]}}
  %0 = accel.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, -2>} : (tensor<1x8x8xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @pool_negative_padding(%x: tensor<1x8x8xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'accel.avg_pool2d' op padding must be non-negative, got [-1, 0]}}
  %0 = accel.avg_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, padding = array<i64: -1, 0>} : (tensor<1x8x8xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @pool_dilation(%x: tensor<1x8x8xf32>) -> tensor<1x4x4xf32> {
  // expected-error @+1 {{'accel.max_pool2d' op dilation must be positive, got [0, 0]}}
  %0 = accel.max_pool2d %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, dilation = array<i64: 0, 0>} : (tensor<1x8x8xf32>) -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @pool_padding_half_kernel(%x: tensor<1x8x8xf32>) -> tensor<1x5x5xf32> {
  // expected-error @+1 {{'accel.max_pool2d' op padding [2, 2] must be at most half of kernel_size [3, 3]}}
  %0 = accel.max_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 2, 2>} : (tensor<1x8x8xf32>) -> tensor<1x5x5xf32>
  return %0 : tensor<1x5x5xf32>
}

// -----

func.func @pool_window_too_big(%x: tensor<1x2x2xf32>) -> tensor<1x1x1xf32> {
  // expected-error @+1 {{'accel.avg_pool2d' op window [3, 3] (dilation [1, 1]) does not fit input 'tensor<1x2x2xf32>' with padding [0, 0]}}
  %0 = accel.avg_pool2d %x {kernel_size = array<i64: 3, 3>, stride = array<i64: 1, 1>} : (tensor<1x2x2xf32>) -> tensor<1x1x1xf32>
  return %0 : tensor<1x1x1xf32>
}

// -----

func.func @adaptive_rank(%x: tensor<8xf32>) -> tensor<1x1xf32> {
  // expected-error @+1 {{'accel.adaptive_avg_pool2d' op expects a [N, C, H, W] or [C, H, W] input, got 'tensor<8xf32>'}}
  %0 = accel.adaptive_avg_pool2d %x {output_size = array<i64: 1, 1>} : (tensor<8xf32>) -> tensor<1x1xf32>
  return %0 : tensor<1x1xf32>
}

// -----

func.func @adaptive_output_size(%x: tensor<1x8x8xf32>) -> tensor<1x0x1xf32> {
  // expected-error @+1 {{'accel.adaptive_avg_pool2d' op output_size must be positive, got [0, 1]}}
  %0 = accel.adaptive_avg_pool2d %x {output_size = array<i64: 0, 1>} : (tensor<1x8x8xf32>) -> tensor<1x0x1xf32>
  return %0 : tensor<1x0x1xf32>
}

//===----------------------------------------------------------------------===//
// Shape manipulation
//===----------------------------------------------------------------------===//

// -----

func.func @reshape_elements(%x: tensor<2x8xf32>) -> tensor<3x5xf32> {
  // expected-error @+1 {{'accel.reshape' op cannot reshape 'tensor<2x8xf32>' (16 elements) to 'tensor<3x5xf32>' (15 elements)}}
  %0 = accel.reshape %x : tensor<2x8xf32> -> tensor<3x5xf32>
  return %0 : tensor<3x5xf32>
}

// -----

func.func @reshape_element_type(%x: tensor<2x8xf32>) -> tensor<16xbf16> {
  // expected-error @+1 {{'accel.reshape' op cannot change the element type from 'f32' to 'bf16'}}
  %0 = accel.reshape %x : tensor<2x8xf32> -> tensor<16xbf16>
  return %0 : tensor<16xbf16>
}

// -----

func.func @flatten_scalar(%x: tensor<f32>) -> tensor<1xf32> {
  // expected-error @+1 {{'accel.flatten' op expects a tensor of rank >= 1, got 'tensor<f32>'}}
  %0 = accel.flatten %x {start_dim = 0 : i64, end_dim = 0 : i64} : (tensor<f32>) -> tensor<1xf32>
  return %0 : tensor<1xf32>
}

// -----

func.func @flatten_range(%x: tensor<2x3x4xf32>) -> tensor<24xf32> {
  // expected-error @+1 {{'accel.flatten' op start_dim 1 and end_dim 3 must satisfy 0 <= start_dim <= end_dim < 3}}
  %0 = accel.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<2x3x4xf32>) -> tensor<24xf32>
  return %0 : tensor<24xf32>
}

// -----

func.func @transpose_dim(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'accel.transpose' op dim1 2 is out of range [0, 2)}}
  %0 = accel.transpose %x {dim0 = 0 : i64, dim1 = 2 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @transpose_negative_dim(%x: tensor<2x3xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'accel.transpose' op dim0 -1 is out of range [0, 2)}}
  %0 = accel.transpose %x {dim0 = -1 : i64, dim1 = 0 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @permute_repeated(%x: tensor<2x3x4xf32>) -> tensor<2x2x3xf32> {
  // expected-error @+1 {{'accel.permute' op permutation [0, 0, 1] is not a permutation of [0, 3)}}
  %0 = accel.permute %x {permutation = array<i64: 0, 0, 1>} : (tensor<2x3x4xf32>) -> tensor<2x2x3xf32>
  return %0 : tensor<2x2x3xf32>
}

// -----

func.func @permute_length(%x: tensor<2x3x4xf32>) -> tensor<3x2xf32> {
  // expected-error @+1 {{'accel.permute' op permutation [1, 0] is not a permutation of [0, 3)}}
  %0 = accel.permute %x {permutation = array<i64: 1, 0>} : (tensor<2x3x4xf32>) -> tensor<3x2xf32>
  return %0 : tensor<3x2xf32>
}

// -----

func.func @slice_dim(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'accel.slice' op dim 2 is out of range [0, 2)}}
  %0 = accel.slice %x {dim = 2 : i64, start = 0 : i64, end = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @slice_bounds(%x: tensor<2x5xf32>) -> tensor<2x1xf32> {
  // expected-error @+1 {{'accel.slice' op start 3, end 6, step 1 must satisfy 0 <= start <= end <= 5 and step >= 1}}
  %0 = accel.slice %x {dim = 1 : i64, start = 3 : i64, end = 6 : i64} : (tensor<2x5xf32>) -> tensor<2x1xf32>
  return %0 : tensor<2x1xf32>
}

// -----

func.func @concat_none() -> tensor<2xf32> {
  // expected-error @+1 {{'accel.concat' op expects at least one input}}
  %0 = "accel.concat"() {dim = 0 : i64} : () -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @concat_element_types(%a: tensor<2xf32>, %b: tensor<2xf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.concat' op operands must share one element type, got 'f32' and 'f16'}}
  %0 = accel.concat %a, %b {dim = 0 : i64} : (tensor<2xf32>, tensor<2xf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @concat_dim(%a: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.concat' op dim 1 is out of range [0, 1)}}
  %0 = accel.concat %a, %b {dim = 1 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @concat_rank(%a: tensor<2xf32>, %b: tensor<2x1xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.concat' op input #1 'tensor<2x1xf32>' has a different rank from input #0 'tensor<2xf32>'}}
  %0 = accel.concat %a, %b {dim = 0 : i64} : (tensor<2xf32>, tensor<2x1xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @concat_sizes(%a: tensor<2x3xf32>, %b: tensor<4x3xf32>) -> tensor<2x6xf32> {
  // expected-error @+1 {{'accel.concat' op input #1 'tensor<4x3xf32>' differs from input #0 'tensor<2x3xf32>' in dimension 0}}
  %0 = accel.concat %a, %b {dim = 1 : i64} : (tensor<2x3xf32>, tensor<4x3xf32>) -> tensor<2x6xf32>
  return %0 : tensor<2x6xf32>
}

// -----

func.func @embedding_weight(%w: tensor<256xf32>, %i: tensor<4xi64>) -> tensor<4x1xf32> {
  // expected-error @+1 {{'accel.embedding' op weight must be [num_embeddings, dim], got 'tensor<256xf32>'}}
  %0 = accel.embedding %w, %i : (tensor<256xf32>, tensor<4xi64>) -> tensor<4x1xf32>
  return %0 : tensor<4x1xf32>
}

//===----------------------------------------------------------------------===//
// Reductions, softmax, losses
//===----------------------------------------------------------------------===//

// -----

func.func @reduce_no_dims(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'accel.sum' op expects at least one reduction dimension}}
  %0 = accel.sum %x {dims = array<i64>} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @reduce_dim_range(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'accel.mean' op reduction dimension 2 is out of range [0, 2)}}
  %0 = accel.mean %x {dims = array<i64: 2>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @reduce_repeated(%x: tensor<2x3xf32>) -> tensor<2xf32> {
  // expected-error @+1 {{'accel.amax' op reduction dimension 1 is repeated}}
  %0 = accel.amax %x {dims = array<i64: 1, 1>} : (tensor<2x3xf32>) -> tensor<2xf32>
  return %0 : tensor<2xf32>
}

// -----

func.func @softmax_dim(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  // expected-error @+1 {{'accel.log_softmax' op dim 2 is out of range [0, 2)}}
  %0 = accel.log_softmax %x {dim = 2 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

func.func @cross_entropy_logits(%x: tensor<10xf32>, %y: tensor<1xi64>) -> tensor<f32> {
  // expected-error @+1 {{'accel.cross_entropy' op expects [N, C] logits, got 'tensor<10xf32>'}}
  %0 = accel.cross_entropy %x, %y : (tensor<10xf32>, tensor<1xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cross_entropy_target(%x: tensor<4x10xf32>, %y: tensor<3xi64>) -> tensor<f32> {
  // expected-error @+1 {{'accel.cross_entropy' op target must have shape [4], got 'tensor<3xi64>'}}
  %0 = accel.cross_entropy %x, %y : (tensor<4x10xf32>, tensor<3xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @cross_entropy_smoothing(%x: tensor<4x10xf32>, %y: tensor<4xi64>) -> tensor<f32> {
  // expected-error @+1 {{'accel.cross_entropy' op label_smoothing must be in [0, 1], got -0.5}}
  %0 = accel.cross_entropy %x, %y {label_smoothing = -0.5 : f64} : (tensor<4x10xf32>, tensor<4xi64>) -> tensor<f32>
  return %0 : tensor<f32>
}

// -----

func.func @mse_types(%x: tensor<4x1xf32>, %t: tensor<4xf32>) -> tensor<f32> {
  // expected-error @+1 {{'accel.mse_loss' op input 'tensor<4x1xf32>' and target 'tensor<4xf32>' must have the same type}}
  %0 = accel.mse_loss %x, %t : (tensor<4x1xf32>, tensor<4xf32>) -> tensor<f32>
  return %0 : tensor<f32>
}

//===----------------------------------------------------------------------===//
// Gradient ops
//===----------------------------------------------------------------------===//

// -----

func.func @broadcast_element_type(%x: tensor<4xf32>) -> tensor<2x4xbf16> {
  // expected-error @+1 {{'accel.broadcast_to' op cannot change the element type from 'f32' to 'bf16'}}
  %0 = accel.broadcast_to %x : tensor<4xf32> -> tensor<2x4xbf16>
  return %0 : tensor<2x4xbf16>
}

// -----

func.func @broadcast_shape(%x: tensor<3xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'accel.broadcast_to' op cannot broadcast 'tensor<3xf32>' to 'tensor<2x4xf32>'}}
  %0 = accel.broadcast_to %x : tensor<3xf32> -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// -----

func.func @relu_grad_types(%g: tensor<4xf32>, %x: tensor<5xf32>) -> tensor<5xf32> {
  // expected-error @+1 {{'accel.relu_grad' op grad 'tensor<4xf32>' and input 'tensor<5xf32>' must have the same type}}
  %0 = accel.relu_grad %g, %x : (tensor<4xf32>, tensor<5xf32>) -> tensor<5xf32>
  return %0 : tensor<5xf32>
}

// -----

func.func @gelu_grad_types(%g: tensor<4xbf16>, %x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.gelu_grad' op grad 'tensor<4xbf16>' and input 'tensor<4xf32>' must have the same type}}
  %0 = accel.gelu_grad %g, %x : (tensor<4xbf16>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @conv_grad_element_types(%g: tensor<2x8x4x4xbf16>, %w: tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32> {
  // expected-error @+1 {{'accel.conv2d_grad_input' op operands and result must share one element type}}
  %0 = accel.conv2d_grad_input %g, %w {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xbf16>, tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32>
  return %0 : tensor<2x3x9x9xf32>
}

// -----

func.func @conv_grad_rank(%g: tensor<2x8x4x4xf32>, %x: tensor<3x9x9xf32>) -> tensor<8x3x3x3xf32> {
  // expected-error @+1 {{'accel.conv2d_grad_weight' op expects rank-4 input and weight, got 'tensor<3x9x9xf32>' and 'tensor<8x3x3x3xf32>'}}
  %0 = accel.conv2d_grad_weight %g, %x : (tensor<2x8x4x4xf32>, tensor<3x9x9xf32>) -> tensor<8x3x3x3xf32>
  return %0 : tensor<8x3x3x3xf32>
}

// -----

func.func @conv_grad_stride(%g: tensor<2x8x4x4xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32> {
  // expected-error @+1 {{'accel.conv2d_grad_input' op stride must be positive, got [0, 2]}}
  %0 = accel.conv2d_grad_input %g, %w {stride = array<i64: 0, 2>} : (tensor<2x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32>
  return %0 : tensor<2x3x9x9xf32>
}

// -----

func.func @conv_grad_groups(%g: tensor<2x8x4x4xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32> {
  // expected-error @+1 {{'accel.conv2d_grad_input' op input 'tensor<2x3x9x9xf32>' and weight 'tensor<8x3x3x3xf32>' do not match groups 2}}
  %0 = accel.conv2d_grad_input %g, %w {stride = array<i64: 2, 2>, groups = 2 : i64} : (tensor<2x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32>
  return %0 : tensor<2x3x9x9xf32>
}

// -----

func.func @conv_grad_shape(%g: tensor<2x8x4x4xf32>, %w: tensor<8x3x3x3xf32>) -> tensor<2x3x12x12xf32> {
  // expected-error @+1 {{'accel.conv2d_grad_input' op grad 'tensor<2x8x4x4xf32>' is not conv2d's result 'tensor<2x8x5x5xf32>' for input 'tensor<2x3x12x12xf32>' and weight 'tensor<8x3x3x3xf32>'}}
  %0 = accel.conv2d_grad_input %g, %w {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<2x3x12x12xf32>
  return %0 : tensor<2x3x12x12xf32>
}

// -----

func.func @batch_norm_grad_rank(%g: tensor<8xf32>, %c: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'accel.batch_norm_grad' op expects a [N, C, ...] input, got 'tensor<8xf32>'}}
  %0:3 = accel.batch_norm_grad %g, %g, %c, %c, %c : (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0 : tensor<8xf32>
}

// -----

func.func @batch_norm_grad_type(%g: tensor<2x8xf32>, %x: tensor<4x8xf32>, %c: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.batch_norm_grad' op grad 'tensor<2x8xf32>' must have the input's type 'tensor<4x8xf32>'}}
  %0:3 = accel.batch_norm_grad %g, %x, %c, %c, %c : (tensor<2x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @batch_norm_grad_channels(%x: tensor<4x8xf32>, %c: tensor<8xf32>, %d: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.batch_norm_grad' op running_var must have shape [8], got 'tensor<4xf32>'}}
  %0:3 = accel.batch_norm_grad %x, %x, %c, %c, %d : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @layer_norm_grad_type(%g: tensor<2x8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.layer_norm_grad' op grad 'tensor<2x8xf32>' must have the input's type 'tensor<4x8xf32>'}}
  %0:3 = accel.layer_norm_grad %g, %x {normalized_shape = array<i64: 8>} : (tensor<2x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @layer_norm_grad_shape(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.layer_norm_grad' op normalized_shape [4] must equal the trailing dimensions of 'tensor<4x8xf32>'}}
  %0:3 = accel.layer_norm_grad %x, %x {normalized_shape = array<i64: 4>} : (tensor<4x8xf32>, tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4xf32>, tensor<4xf32>)
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @layer_norm_grad_weight(%x: tensor<4x8xf32>, %w: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.layer_norm_grad' op weight must have shape [8], got 'tensor<4xf32>'}}
  %0:3 = accel.layer_norm_grad %x, %x weight(%w) {normalized_shape = array<i64: 8>} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %0#0 : tensor<4x8xf32>
}

// -----

func.func @max_pool_grad_shape(%g: tensor<2x8x3x3xf32>, %x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{'accel.max_pool2d_grad' op grad 'tensor<2x8x3x3xf32>' is not max_pool2d's result 'tensor<2x8x2x2xf32>'}}
  %0 = accel.max_pool2d_grad %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x8x3x3xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

func.func @max_pool_grad_window(%g: tensor<2x8x3x3xf32>, %x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{'accel.max_pool2d_grad' op kernel_size must be positive, got [0, 2]}}
  %0 = accel.max_pool2d_grad %g, %x {kernel_size = array<i64: 0, 2>, stride = array<i64: 2, 2>} : (tensor<2x8x3x3xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

func.func @avg_pool_grad_shape(%g: tensor<2x8x3x3xf32>, %x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{'accel.avg_pool2d_grad' op grad 'tensor<2x8x3x3xf32>' is not avg_pool2d's result 'tensor<2x8x2x2xf32>'}}
  %0 = accel.avg_pool2d_grad %g, %x {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x8x3x3xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

func.func @adaptive_grad_shape(%g: tensor<2x4x1x1xf32>, %x: tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32> {
  // expected-error @+1 {{'accel.adaptive_avg_pool2d_grad' op grad 'tensor<2x4x1x1xf32>' is not an adaptive_avg_pool2d result for input 'tensor<2x8x4x4xf32>'}}
  %0 = accel.adaptive_avg_pool2d_grad %g, %x : (tensor<2x4x1x1xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  return %0 : tensor<2x8x4x4xf32>
}

// -----

func.func @embedding_grad_shape(%g: tensor<2x5xf32>, %i: tensor<2x3xi64>) -> tensor<16x5xf32> {
  // expected-error @+1 {{'accel.embedding_grad' op grad 'tensor<2x5xf32>' must be the indices' shape plus one dimension, indices 'tensor<2x3xi64>'}}
  %0 = accel.embedding_grad %g, %i {num_embeddings = 16 : i64} : (tensor<2x5xf32>, tensor<2x3xi64>) -> tensor<16x5xf32>
  return %0 : tensor<16x5xf32>
}

// -----

func.func @embedding_grad_rows(%g: tensor<2x3x5xf32>, %i: tensor<2x3xi64>) -> tensor<0x5xf32> {
  // expected-error @+1 {{'accel.embedding_grad' op num_embeddings must be positive, got 0}}
  %0 = accel.embedding_grad %g, %i {num_embeddings = 0 : i64} : (tensor<2x3x5xf32>, tensor<2x3xi64>) -> tensor<0x5xf32>
  return %0 : tensor<0x5xf32>
}

// -----

func.func @softmax_grad_types(%g: tensor<4x8xf32>, %y: tensor<4x7xf32>) -> tensor<4x7xf32> {
  // expected-error @+1 {{'accel.softmax_grad' op grad 'tensor<4x8xf32>' and output 'tensor<4x7xf32>' must have the same type}}
  %0 = accel.softmax_grad %g, %y {dim = 1 : i64} : (tensor<4x8xf32>, tensor<4x7xf32>) -> tensor<4x7xf32>
  return %0 : tensor<4x7xf32>
}

// -----

func.func @log_softmax_grad_dim(%g: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.log_softmax_grad' op dim 2 is out of range [0, 2)}}
  %0 = accel.log_softmax_grad %g, %g {dim = 2 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @cross_entropy_grad_logits(%s: tensor<f32>, %x: tensor<8xf32>, %y: tensor<8xi64>) -> tensor<8xf32> {
  // expected-error @+1 {{'accel.cross_entropy_grad' op expects [N, C] logits, got 'tensor<8xf32>'}}
  %0 = accel.cross_entropy_grad %s, %x, %y : (tensor<f32>, tensor<8xf32>, tensor<8xi64>) -> tensor<8xf32>
  return %0 : tensor<8xf32>
}

// -----

func.func @cross_entropy_grad_target(%s: tensor<f32>, %x: tensor<4x8xf32>, %y: tensor<5xi64>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.cross_entropy_grad' op target must have shape [4], got 'tensor<5xi64>'}}
  %0 = accel.cross_entropy_grad %s, %x, %y : (tensor<f32>, tensor<4x8xf32>, tensor<5xi64>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @cross_entropy_grad_loss(%g: tensor<4xf32>, %x: tensor<4x8xf32>, %y: tensor<4xi64>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.cross_entropy_grad' op grad 'tensor<4xf32>' must be the loss's type 'tensor<f32>'}}
  %0 = accel.cross_entropy_grad %g, %x, %y : (tensor<4xf32>, tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @amax_grad_shape(%g: tensor<8xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.amax_grad' op grad 'tensor<8xf32>' is not amax's result 'tensor<4xf32>'}}
  %0 = accel.amax_grad %g, %x {dims = array<i64: 1>} : (tensor<8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @amax_grad_dims(%g: tensor<4xf32>, %x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.amax_grad' op reduction dimension 1 is repeated}}
  %0 = accel.amax_grad %g, %x {dims = array<i64: 1, 1>} : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @slice_grad_rank(%g: tensor<4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.slice_grad' op grad 'tensor<4xf32>' and result 'tensor<4x8xf32>' must have one element type and rank}}
  %0 = accel.slice_grad %g {dim = 1 : i64, start = 0 : i64, end = 4 : i64} : (tensor<4xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @slice_grad_dim(%g: tensor<4x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.slice_grad' op dim 2 is out of range [0, 2)}}
  %0 = accel.slice_grad %g {dim = 2 : i64, start = 0 : i64, end = 4 : i64} : (tensor<4x4xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @slice_grad_bounds(%g: tensor<4x4xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.slice_grad' op start 6, end 10, step 1 must satisfy 0 <= start <= end <= 8 and step >= 1}}
  %0 = accel.slice_grad %g {dim = 1 : i64, start = 6 : i64, end = 10 : i64} : (tensor<4x4xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @slice_grad_shape(%g: tensor<4x3xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{'accel.slice_grad' op grad 'tensor<4x3xf32>' is not the slice of 'tensor<4x8xf32>'}}
  %0 = accel.slice_grad %g {dim = 1 : i64, start = 0 : i64, end = 4 : i64} : (tensor<4x3xf32>) -> tensor<4x8xf32>
  return %0 : tensor<4x8xf32>
}

// -----

func.func @fused_no_results(%x: tensor<4xf32>) {
  // expected-error @+1 {{'accel.fused' op needs at least one result}}
  accel.fused(%x) : (tensor<4xf32>) -> () {
  ^bb0(%e: tensor<f32>):
    accel.yield
  }
  return
}

// -----

func.func @fused_dynamic(%x: tensor<?xf32>) -> tensor<?xf32> {
  // expected-error @+1 {{'accel.fused' op needs a static iteration shape, got 'tensor<?xf32>'}}
  %0 = accel.fused(%x) : (tensor<?xf32>) -> tensor<?xf32> {
  ^bb0(%e: tensor<f32>):
    accel.yield %e : tensor<f32>
  }
  return %0 : tensor<?xf32>
}

// -----

func.func @fused_result_shapes(%x: tensor<4xf32>) -> (tensor<4xf32>, tensor<2x2xf32>) {
  // expected-error @+1 {{'accel.fused' op results must share one shape: 'tensor<4xf32>' and 'tensor<2x2xf32>'}}
  %0:2 = accel.fused(%x) : (tensor<4xf32>) -> (tensor<4xf32>, tensor<2x2xf32>) {
  ^bb0(%e: tensor<f32>):
    accel.yield %e, %e : tensor<f32>, tensor<f32>
  }
  return %0#0, %0#1 : tensor<4xf32>, tensor<2x2xf32>
}

// -----

func.func @fused_input_shape(%x: tensor<4xf32>, %b: tensor<2xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.fused' op input #1 of type 'tensor<2xf32>' neither has the iteration shape nor holds one element}}
  %0 = accel.fused(%x, %b) : (tensor<4xf32>, tensor<2xf32>) -> tensor<4xf32> {
  ^bb0(%e: tensor<f32>, %f: tensor<f32>):
    accel.yield %e : tensor<f32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_arguments(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.fused' op body takes 2 arguments for 1 inputs}}
  %0 = accel.fused(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%e: tensor<f32>, %f: tensor<f32>):
    accel.yield %e : tensor<f32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_argument_type(%x: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.fused' op body argument #0 must be 'tensor<f32>', got 'tensor<4xf32>'}}
  %0 = accel.fused(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%e: tensor<4xf32>):
    %n = accel.neg %e : tensor<4xf32>
    accel.yield %n : tensor<4xf32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_body_rank(%x: tensor<4xf32>, %w: tensor<4xf32>) -> tensor<4xf32> {
  %0 = accel.fused(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%e: tensor<f32>):
    // expected-error @+1 {{'accel.broadcast_to' op inside accel.fused must compute on rank-0 tensors and hold no regions}}
    %b = accel.broadcast_to %e : tensor<f32> -> tensor<4xf32>
    accel.yield %e : tensor<f32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_yield_count(%x: tensor<4xf32>) -> tensor<4xf32> {
  %0 = accel.fused(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%e: tensor<f32>):
    // expected-error @+1 {{'accel.yield' op yields 2 values for 1 results}}
    accel.yield %e, %e : tensor<f32>, tensor<f32>
  }
  return %0 : tensor<4xf32>
}

// -----

func.func @fused_yield_type(%x: tensor<4xf32>, %i: tensor<4xi64>) -> tensor<4xi64> {
  %0 = accel.fused(%x) : (tensor<4xf32>) -> tensor<4xi64> {
  ^bb0(%e: tensor<f32>):
    // expected-error @+1 {{'accel.yield' op value of type 'tensor<f32>' for a result of type 'tensor<4xi64>' (expected 'tensor<i64>')}}
    accel.yield %e : tensor<f32>
  }
  return %0 : tensor<4xi64>
}

// -----

func.func @yield_outside(%x: tensor<f32>) {
  // expected-error @+1 {{'accel.yield' op expects parent op 'accel.fused'}}
  accel.yield %x : tensor<f32>
}

// -----

func.func @all_finite_empty() -> tensor<i1> {
  // expected-error @+1 {{'accel.all_finite' op needs at least one operand}}
  %0 = "accel.all_finite"() : () -> tensor<i1>
  return %0 : tensor<i1>
}

// -----

func.func @select_types(%c: tensor<i1>, %a: tensor<4xf32>, %b: tensor<4xbf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.select' op failed to verify that all of {on_true, on_false, result} have same type}}
  %0 = "accel.select"(%c, %a, %b) : (tensor<i1>, tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @select_condition(%c: tensor<2xi1>, %a: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.select' op operand #0 must be 0D tensor of 1-bit signless integer values}}
  %0 = "accel.select"(%c, %a, %a) : (tensor<2xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// Only a rank-0 f32 scalar may meet another float type.
func.func @mixed_binary(%a: tensor<4xf32>, %b: tensor<4xbf16>) -> tensor<4xf32> {
  // expected-error @+1 {{'accel.add' op operands must share one element type, got 'f32' and 'bf16'}}
  %0 = "accel.add"(%a, %b) : (tensor<4xf32>, tensor<4xbf16>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// The result of a scalar op has the tensor operand's type.
func.func @scalar_result(%a: tensor<4xbf16>, %s: tensor<f32>) -> tensor<4xf32> {
  // expected-error @+2 {{'accel.mul' op inferred type(s) 'tensor<4xbf16>' are incompatible with return type(s) of operation 'tensor<4xf32>'}}
  // expected-error @+1 {{'accel.mul' op failed to infer returned types}}
  %0 = "accel.mul"(%a, %s) : (tensor<4xbf16>, tensor<f32>) -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

func.func @fp8_quantize_rank(%x: tensor<2x4x8xf32>) {
  // expected-error @below {{quantises a matrix; the input has rank 3}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling tensorwise>} : tensor<2x4x8xf32> -> tensor<2x4x8xf8E4M3FN>, tensor<f32>
  return
}

// -----

func.func @fp8_quantize_shape(%x: tensor<4x8xf32>) {
  // expected-error @below {{data must have the input's shape 'tensor<4x8xf32>', not 'tensor<8x4xf8E4M3FN>'}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling tensorwise>} : tensor<4x8xf32> -> tensor<8x4xf8E4M3FN>, tensor<f32>
  return
}

// -----

func.func @fp8_quantize_scale(%x: tensor<4x8xf32>) {
  // expected-error @below {{with rowwise scaling the scale is 'tensor<4x1xf32>', not 'tensor<f32>'}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling rowwise>} : tensor<4x8xf32> -> tensor<4x8xf8E5M2>, tensor<f32>
  return
}

// -----

func.func @fp8_quantize_format(%x: tensor<4x8xf32>) {
  // expected-error @below {{result #0 must be statically shaped tensor of f8E4M3FN type or f8E5M2 type values}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling tensorwise>} : tensor<4x8xf32> -> tensor<4x8xbf16>, tensor<f32>
  return
}

// -----

func.func @scaled_matmul_k(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x16xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @below {{computes lhs · rhsᵀ: lhs 'tensor<4x8xf8E4M3FN>' and rhs 'tensor<6x16xf8E4M3FN>' must have the same columns}}
  %y = accel.scaled_matmul %a, %s, %b, %s : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x16xf8E4M3FN>, tensor<f32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_scale(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %r: tensor<6x1xf32>) {
  // expected-error @below {{lhs_scale must be tensor<f32> or tensor<4x1xf32>, not 'tensor<6x1xf32>'}}
  %y = accel.scaled_matmul %a, %r, %b, %s : tensor<4x8xf8E4M3FN>, tensor<6x1xf32>, tensor<6x8xf8E4M3FN>, tensor<f32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_rhs_scale(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %r: tensor<4x1xf32>) {
  // expected-error @below {{rhs_scale must be tensor<f32> or tensor<6x1xf32>, not 'tensor<4x1xf32>'}}
  %y = accel.scaled_matmul %a, %s, %b, %r : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<4x1xf32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_result(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @below {{result must be 4x6, not 'tensor<6x4xf32>'}}
  %y = accel.scaled_matmul %a, %s, %b, %s : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32> -> tensor<6x4xf32>
  return
}

// -----

func.func @scaled_matmul_recipe(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>) {
  // expected-error @below {{takes a recipe exactly when it takes the high-precision operands (a forward GEMM)}}
  %y = accel.scaled_matmul %a, %s, %b, %s {recipe = #accel<fp8_recipe rowwise>} : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_hp_shape(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %x: tensor<8x4xf32>, %w: tensor<6x8xf32>) {
  // expected-error @below {{high-precision operands must have the shapes of the quantised ones}}
  %y = accel.scaled_matmul %a, %s, %b, %s hp %x, %w {recipe = #accel<fp8_recipe tensorwise>} : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32>, tensor<8x4xf32>, tensor<6x8xf32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_hp_type(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %x: tensor<4x8xbf16>, %w: tensor<6x8xbf16>) {
  // expected-error @below {{high-precision operands must have the result's element type 'f32' (their gradients are computed in it)}}
  %y = accel.scaled_matmul %a, %s, %b, %s hp %x, %w {recipe = #accel<fp8_recipe tensorwise>} : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32>, tensor<4x8xbf16>, tensor<6x8xbf16> -> tensor<4x6xf32>
  return
}

// -----

func.func @fp8_quantize_mx_block(%x: tensor<4x48xf32>) {
  // expected-error @below {{with mx scaling the columns must be a multiple of 32; the input is 'tensor<4x48xf32>'}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling mx>} : tensor<4x48xf32> -> tensor<4x48xf8E4M3FN>, tensor<4x1xf8E8M0FNU>
  return
}

// -----

func.func @fp8_quantize_mx_pow2(%x: tensor<4x64xf32>) {
  // expected-error @below {{mx scales are powers of two already; drop round_scale_to_pow2}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling mx>, round_scale_to_pow2} : tensor<4x64xf32> -> tensor<4x64xf8E4M3FN>, tensor<4x2xf8E8M0FNU>
  return
}

// -----

func.func @fp8_quantize_mx_scale(%x: tensor<4x64xf32>) {
  // expected-error @below {{with mx scaling the scale is 'tensor<4x2xf8E8M0FNU>', not 'tensor<4x2xf32>'}}
  %q, %s = accel.fp8_quantize %x {scaling = #accel<fp8_scaling mx>} : tensor<4x64xf32> -> tensor<4x64xf8E4M3FN>, tensor<4x2xf32>
  return
}

// -----

func.func @scaled_matmul_mx_scale(%a: tensor<4x64xf8E4M3FN>, %b: tensor<6x64xf8E4M3FN>, %s: tensor<4x2xf8E8M0FNU>, %r: tensor<6x1xf8E8M0FNU>) {
  // expected-error @below {{rhs_scale must be tensor<f32> or tensor<6x1xf32> or tensor<6x2xf8E8M0FNU>, not 'tensor<6x1xf8E8M0FNU>'}}
  %y = accel.scaled_matmul %a, %s, %b, %r : tensor<4x64xf8E4M3FN>, tensor<4x2xf8E8M0FNU>, tensor<6x64xf8E4M3FN>, tensor<6x1xf8E8M0FNU> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_delayed_parts(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %x: tensor<4x8xf32>, %w: tensor<6x8xf32>) {
  // expected-error @below {{takes grad_state, amax_algo, margin and grad_format exactly when its recipe is delayed}}
  %y = accel.scaled_matmul %a, %s, %b, %s hp %x, %w {recipe = #accel<fp8_recipe delayed>, output_scaled} : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32>, tensor<4x8xf32>, tensor<6x8xf32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_delayed_output(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %x: tensor<4x8xf32>, %w: tensor<6x8xf32>, %h: tensor<8xf32>) {
  // expected-error @below {{with the delayed recipe scales its output (output_scaled)}}
  %y = accel.scaled_matmul %a, %s, %b, %s hp %x, %w grad_state %h, %s {recipe = #accel<fp8_recipe delayed>, amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, grad_format = f8E5M2} : tensor<4x8xf8E4M3FN>, tensor<f32>, tensor<6x8xf8E4M3FN>, tensor<f32>, tensor<4x8xf32>, tensor<6x8xf32>, tensor<8xf32>, tensor<f32> -> tensor<4x6xf32>
  return
}

// -----

func.func @scaled_matmul_output_scaled_rowwise(%a: tensor<4x8xf8E4M3FN>, %b: tensor<6x8xf8E4M3FN>, %s: tensor<f32>, %r: tensor<4x1xf32>) {
  // expected-error @below {{with output_scaled both scales are tensor<f32>}}
  %y = accel.scaled_matmul %a, %r, %b, %s {output_scaled} : tensor<4x8xf8E4M3FN>, tensor<4x1xf32>, tensor<6x8xf8E4M3FN>, tensor<f32> -> tensor<4x6xf32>
  return
}

// -----

func.func @fp8_quantize_scaled_rank(%x: tensor<8xf32>, %s: tensor<f32>) {
  // expected-error @below {{quantises a matrix; the input has rank 1}}
  %q, %a = accel.fp8_quantize_scaled %x, %s : tensor<8xf32>, tensor<f32> -> tensor<8xf8E4M3FN>, tensor<f32>
  return
}

// -----

func.func @fp8_quantize_scaled_shape(%x: tensor<4x8xf32>, %s: tensor<f32>) {
  // expected-error @below {{data must have the input's shape 'tensor<4x8xf32>', not 'tensor<8x4xf8E4M3FN>'}}
  %q, %a = accel.fp8_quantize_scaled %x, %s : tensor<4x8xf32>, tensor<f32> -> tensor<8x4xf8E4M3FN>, tensor<f32>
  return
}

// -----

func.func @fp8_scale_update_history(%h: tensor<8xf32>, %s: tensor<f32>) {
  // expected-error @below {{new history must have the history's type 'tensor<8xf32>', not 'tensor<4xf32>'}}
  %h2, %s2 = accel.fp8_scale_update %h, %s, %s {amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, format = f8E4M3FN} : tensor<8xf32>, tensor<f32>, tensor<f32> -> tensor<4xf32>, tensor<f32>
  return
}

// -----

func.func @fp8_scale_update_empty(%h: tensor<0xf32>, %s: tensor<f32>) {
  // expected-error @below {{needs a history of at least one step}}
  %h2, %s2 = accel.fp8_scale_update %h, %s, %s {amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, format = f8E4M3FN} : tensor<0xf32>, tensor<f32>, tensor<f32> -> tensor<0xf32>, tensor<f32>
  return
}

// -----

func.func @fp8_scale_update_format(%h: tensor<8xf32>, %s: tensor<f32>) {
  // expected-error @below {{attribute 'format' failed to satisfy constraint}}
  %h2, %s2 = accel.fp8_scale_update %h, %s, %s {amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, format = bf16} : tensor<8xf32>, tensor<f32>, tensor<f32> -> tensor<8xf32>, tensor<f32>
  return
}

// -----

func.func @all_reduce_empty() {
  // expected-error @+1 {{'accel.all_reduce' op needs at least one operand}}
  "accel.all_reduce"() {kind = 0 : i32, ranks = 2 : i64} : () -> ()
  return
}

// -----

func.func @all_reduce_types(%g: tensor<4xf32>) {
  // expected-error @+1 {{'accel.all_reduce' op failed to verify that all of {inputs, results} have same type}}
  %0 = "accel.all_reduce"(%g) {kind = 0 : i32, ranks = 2 : i64} : (tensor<4xf32>) -> tensor<5xf32>
  return
}

// -----

func.func @all_reduce_ranks(%g: tensor<4xf32>) {
  // expected-error @+1 {{'accel.all_reduce' op attribute 'ranks' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1}}
  %0 = accel.all_reduce sum %g {ranks = 0 : i64} : tensor<4xf32>
  return
}

// -----

func.func @reduce_scatter_shard(%g: tensor<10x7xf32>) {
  // expected-error @+1 {{'accel.reduce_scatter' op result #0 must be 'tensor<24xf32>' (the shard of 'tensor<10x7xf32>' over 3 ranks), got 'tensor<23xf32>'}}
  %0 = accel.reduce_scatter mean %g {ranks = 3 : i64} : tensor<10x7xf32> -> tensor<23xf32>
  return
}

// -----

func.func @reduce_scatter_count(%g: tensor<4xf32>) {
  // expected-error @+1 {{'accel.reduce_scatter' op has 2 whole tensors but 1 shards}}
  %0 = "accel.reduce_scatter"(%g, %g) {kind = 0 : i32, ranks = 2 : i64} : (tensor<4xf32>, tensor<4xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @reduce_scatter_names(%g: tensor<4xf32>) {
  // expected-error @+1 {{'accel.reduce_scatter' op names 2 tensors but has 1 operands}}
  %0 = accel.reduce_scatter sum %g {names = ["a", "b"], ranks = 2 : i64} : tensor<4xf32> -> tensor<2xf32>
  return
}

// -----

func.func @all_gather_empty() {
  // expected-error @+1 {{'accel.all_gather' op needs at least one operand}}
  "accel.all_gather"() {ranks = 2 : i64} : () -> ()
  return
}

// -----

func.func @all_gather_type(%s: tensor<2xbf16>) {
  // expected-error @+1 {{'accel.all_gather' op operand #0 must be 'tensor<2xf32>' (the shard of 'tensor<4xf32>' over 2 ranks), got 'tensor<2xbf16>'}}
  %0 = accel.all_gather %s {ranks = 2 : i64} : tensor<2xbf16> -> tensor<4xf32>
  return
}

// -----

// Only an f32 shard may gather into another (16-bit) type.
func.func @all_gather_converts_16_bit(%s: tensor<2xf16>) {
  // expected-error @+1 {{'accel.all_gather' op operand #0 must be 'tensor<2xbf16>' (the shard of 'tensor<4xbf16>' over 2 ranks), got 'tensor<2xf16>'}}
  %0 = accel.all_gather %s {ranks = 2 : i64} : tensor<2xf16> -> tensor<4xbf16>
  return
}

// -----

func.func @all_gather_to_fp8(%s: tensor<2xf32>) {
  // expected-error @+1 {{'accel.all_gather' op operand #0 must be 'tensor<2xf8E4M3FN>' (the shard of 'tensor<4xf8E4M3FN>' over 2 ranks), got 'tensor<2xf32>'}}
  %0 = accel.all_gather %s {ranks = 2 : i64} : tensor<2xf32> -> tensor<4xf8E4M3FN>
  return
}

// -----

func.func @all_gather_reduce_type(%s: tensor<2xf32>) {
  // expected-error @+1 {{'accel.all_gather' op reduces gradients in f32, bf16 or f16, not 'f64'}}
  %0 = accel.all_gather %s backward mean {ranks = 2 : i64, reduce_type = f64} : tensor<2xf32> -> tensor<4xf32>
  return
}

// -----

func.func @local_shard_size(%w: tensor<5xf32>) {
  // expected-error @+1 {{'accel.local_shard' op result #0 must be 'tensor<2xf32>' (the shard of 'tensor<5xf32>' over 4 ranks), got 'tensor<1xf32>'}}
  %0 = accel.local_shard %w {ranks = 4 : i64} : tensor<5xf32> -> tensor<1xf32>
  return
}

// -----

func.func @wait_empty() {
  // expected-error @+1 {{'accel.wait' op needs at least one operand}}
  "accel.wait"() : () -> ()
  return
}

// -----

func.func @wait_not_collective(%g: tensor<4xf32>) {
  // expected-error @+1 {{'accel.wait' op waits for the results of an all_reduce, reduce_scatter or all_gather}}
  %0 = accel.wait %g : tensor<4xf32>
  return
}

// -----

func.func @wait_partial(%g: tensor<4xf32>, %h: tensor<2xf32>) -> tensor<2xf32> {
  %r:2 = accel.all_reduce mean %g, %h {ranks = 2 : i64} : tensor<4xf32>, tensor<2xf32>
  // expected-error @+1 {{'accel.wait' op must wait for all 2 results of its accel.all_reduce, in order}}
  %w = accel.wait %r#0 : tensor<4xf32>
  return %r#1 : tensor<2xf32>
}

// -----

func.func @wait_order(%g: tensor<4xf32>, %h: tensor<4xf32>) {
  %r:2 = accel.all_reduce mean %g, %h {ranks = 2 : i64} : tensor<4xf32>, tensor<4xf32>
  // expected-error @+1 {{'accel.wait' op must wait for all 2 results of its accel.all_reduce, in order}}
  %w:2 = accel.wait %r#1, %r#0 : tensor<4xf32>, tensor<4xf32>
  return
}

// -----

func.func @wait_read_early(%s: tensor<2xf32>) -> tensor<4xf32> {
  %g = accel.all_gather %s {ranks = 2 : i64} : tensor<2xf32> -> tensor<4xf32>
  %e = accel.relu %g : tensor<4xf32>
  // expected-error @+1 {{'accel.wait' op must be the only user of its accel.all_gather's results (they are not ready before it)}}
  %w = accel.wait %g : tensor<4xf32>
  return %e : tensor<4xf32>
}

// -----

func.func @wait_types(%g: tensor<4xf32>) {
  %r = accel.reduce_scatter sum %g {ranks = 2 : i64} : tensor<4xf32> -> tensor<2xf32>
  // expected-error @+1 {{'accel.wait' op failed to verify that all of {inputs, results} have same type}}
  %w = "accel.wait"(%r) : (tensor<2xf32>) -> tensor<3xf32>
  return
}
