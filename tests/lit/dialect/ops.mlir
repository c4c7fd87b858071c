// Every accel op parses, verifies, prints and parses again, in both the
// custom and the generic form.
// RUN: accel-opt %s | accel-opt | FileCheck %s
// RUN: accel-opt %s --mlir-print-op-generic | accel-opt | FileCheck %s

// CHECK-LABEL: func.func @unary
func.func @unary(%x: tensor<4x8xf32>, %h: tensor<4x8xbf16>) -> tensor<4x8xbf16> {
  // CHECK: accel.relu %{{.*}} : tensor<4x8xf32>
  %0 = accel.relu %x : tensor<4x8xf32>
  // CHECK: accel.tanh %{{.*}} : tensor<4x8xf32>
  %1 = accel.tanh %0 : tensor<4x8xf32>
  // CHECK: accel.sigmoid %{{.*}} : tensor<4x8xf32>
  %2 = accel.sigmoid %1 : tensor<4x8xf32>
  // CHECK: accel.exp %{{.*}} : tensor<4x8xf32>
  %3 = accel.exp %2 : tensor<4x8xf32>
  // CHECK: accel.log %{{.*}} : tensor<4x8xf32>
  %4 = accel.log %3 : tensor<4x8xf32>
  // CHECK: accel.sqrt %{{.*}} : tensor<4x8xf32>
  %5 = accel.sqrt %4 : tensor<4x8xf32>
  // CHECK: accel.rsqrt %{{.*}} : tensor<4x8xf32>
  %6 = accel.rsqrt %5 : tensor<4x8xf32>
  // CHECK: accel.neg %{{.*}} : tensor<4x8xf32>
  %7 = accel.neg %6 : tensor<4x8xf32>
  // The default approximation is not printed.
  // CHECK: accel.gelu %{{.*}} : tensor<4x8xf32>
  %8 = accel.gelu %7 {approximate = #accel<gelu_approximation none>} : tensor<4x8xf32>
  // CHECK: accel.gelu %{{.*}} {approximate = #accel<gelu_approximation tanh>} : tensor<4x8xbf16>
  %9 = accel.gelu %h {approximate = #accel<gelu_approximation tanh>} : tensor<4x8xbf16>
  // CHECK: accel.cast %{{.*}} : tensor<4x8xf32> -> tensor<4x8xbf16>
  %10 = accel.cast %8 : tensor<4x8xf32> -> tensor<4x8xbf16>
  %11 = accel.add %9, %10 : (tensor<4x8xbf16>, tensor<4x8xbf16>) -> tensor<4x8xbf16>
  return %11 : tensor<4x8xbf16>
}

// CHECK-LABEL: func.func @low_precision_types
func.func @low_precision_types(%a: tensor<16xf16>, %b: tensor<16xf8E4M3FN>, %c: tensor<16xf8E5M2>) -> tensor<16xi1> {
  // CHECK: accel.cast %{{.*}} : tensor<16xf8E4M3FN> -> tensor<16xf16>
  %0 = accel.cast %b : tensor<16xf8E4M3FN> -> tensor<16xf16>
  // CHECK: accel.cast %{{.*}} : tensor<16xf8E5M2> -> tensor<16xf16>
  %1 = accel.cast %c : tensor<16xf8E5M2> -> tensor<16xf16>
  // CHECK: accel.mul %{{.*}}, %{{.*}} : (tensor<16xf16>, tensor<16xf16>) -> tensor<16xf16>
  %2 = accel.mul %0, %1 : (tensor<16xf16>, tensor<16xf16>) -> tensor<16xf16>
  %3 = accel.add %a, %2 : (tensor<16xf16>, tensor<16xf16>) -> tensor<16xf16>
  // CHECK: accel.cast %{{.*}} : tensor<16xf16> -> tensor<16xi1>
  %4 = accel.cast %3 : tensor<16xf16> -> tensor<16xi1>
  return %4 : tensor<16xi1>
}

// CHECK-LABEL: func.func @binary_broadcast
func.func @binary_broadcast(%x: tensor<8x16xf32>, %row: tensor<16xf32>, %col: tensor<8x1xf32>, %s: tensor<f32>) -> tensor<8x16xf32> {
  // CHECK: accel.add %{{.*}}, %{{.*}} : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %0 = accel.add %x, %row : (tensor<8x16xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  // CHECK: accel.sub %{{.*}}, %{{.*}} : (tensor<8x1xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  %1 = accel.sub %col, %row : (tensor<8x1xf32>, tensor<16xf32>) -> tensor<8x16xf32>
  // CHECK: accel.mul %{{.*}}, %{{.*}} : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  %2 = accel.mul %1, %s : (tensor<8x16xf32>, tensor<f32>) -> tensor<8x16xf32>
  // CHECK: accel.div %{{.*}}, %{{.*}} : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  %3 = accel.div %2, %0 : (tensor<8x16xf32>, tensor<8x16xf32>) -> tensor<8x16xf32>
  return %3 : tensor<8x16xf32>
}

// CHECK-LABEL: func.func @linear_algebra
func.func @linear_algebra(%x: tensor<128x784xf32>, %w: tensor<1024x784xf32>, %b: tensor<1024xf32>,
                          %q: tensor<2x4x16x8xf32>, %k: tensor<4x8x16xf32>) -> (tensor<128x1024xf32>, tensor<2x4x16x16xf32>) {
  // CHECK: accel.linear %{{.*}}, %{{.*}}, %{{.*}} : (tensor<128x784xf32>, tensor<1024x784xf32>, tensor<1024xf32>) -> tensor<128x1024xf32>
  %0 = accel.linear %x, %w, %b : (tensor<128x784xf32>, tensor<1024x784xf32>, tensor<1024xf32>) -> tensor<128x1024xf32>
  // CHECK: accel.linear %{{.*}}, %{{.*}} : (tensor<128x784xf32>, tensor<1024x784xf32>) -> tensor<128x1024xf32>
  %1 = accel.linear %x, %w : (tensor<128x784xf32>, tensor<1024x784xf32>) -> tensor<128x1024xf32>
  %2 = accel.add %0, %1 : (tensor<128x1024xf32>, tensor<128x1024xf32>) -> tensor<128x1024xf32>
  // Batch dimensions broadcast: [2, 4] with [4].
  // CHECK: accel.matmul %{{.*}}, %{{.*}} : (tensor<2x4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<2x4x16x16xf32>
  %3 = accel.matmul %q, %k : (tensor<2x4x16x8xf32>, tensor<4x8x16xf32>) -> tensor<2x4x16x16xf32>
  return %2, %3 : tensor<128x1024xf32>, tensor<2x4x16x16xf32>
}

// CHECK-LABEL: func.func @cnn
func.func @cnn(%x: tensor<8x3x224x224xf32>, %w: tensor<64x3x7x7xf32>, %g: tensor<64xf32>, %bt: tensor<64xf32>,
               %rm: tensor<64xf32>, %rv: tensor<64xf32>, %dw: tensor<64x1x3x3xf32>, %db: tensor<64xf32>)
    -> (tensor<8x64x1x1xf32>, tensor<64xf32>, tensor<64xf32>, tensor<8x64x28x28xf32>, tensor<8x64x29x29xf32>) {
  // CHECK: accel.conv2d %{{.*}}, %{{.*}} {padding = array<i64: 3, 3>, stride = array<i64: 2, 2>} : (tensor<8x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<8x64x112x112xf32>
  %c = accel.conv2d %x, %w {stride = array<i64: 2, 2>, padding = array<i64: 3, 3>}
      : (tensor<8x3x224x224xf32>, tensor<64x3x7x7xf32>) -> tensor<8x64x112x112xf32>
  // CHECK: accel.batch_norm %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {training} : (tensor<8x64x112x112xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>) -> (tensor<8x64x112x112xf32>, tensor<64xf32>, tensor<64xf32>)
  %y, %m, %v = accel.batch_norm %c, %g, %bt, %rm, %rv {training, eps = 1.0e-05 : f64, momentum = 0.1 : f64}
      : (tensor<8x64x112x112xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>, tensor<64xf32>)
      -> (tensor<8x64x112x112xf32>, tensor<64xf32>, tensor<64xf32>)
  %r = accel.relu %y : tensor<8x64x112x112xf32>
  // CHECK: accel.max_pool2d %{{.*}} {kernel_size = array<i64: 3, 3>, padding = array<i64: 1, 1>, stride = array<i64: 2, 2>} : (tensor<8x64x112x112xf32>) -> tensor<8x64x56x56xf32>
  %p = accel.max_pool2d %r {kernel_size = array<i64: 3, 3>, stride = array<i64: 2, 2>, padding = array<i64: 1, 1>}
      : (tensor<8x64x112x112xf32>) -> tensor<8x64x56x56xf32>
  // Depthwise: groups == channels, with a bias and dilation.
  // CHECK: accel.conv2d %{{.*}}, %{{.*}}, %{{.*}} {dilation = array<i64: 2, 2>, groups = 64 : i64, padding = array<i64: 2, 2>}
  %d = accel.conv2d %p, %dw, %db {dilation = array<i64: 2, 2>, padding = array<i64: 2, 2>, groups = 64 : i64}
      : (tensor<8x64x56x56xf32>, tensor<64x1x3x3xf32>, tensor<64xf32>) -> tensor<8x64x56x56xf32>
  // CHECK: accel.avg_pool2d %{{.*}} {count_include_pad, kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x64x56x56xf32>) -> tensor<8x64x28x28xf32>
  %a = accel.avg_pool2d %d {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, count_include_pad}
      : (tensor<8x64x56x56xf32>) -> tensor<8x64x28x28xf32>
  // ceil_mode keeps the partial last window: ceil((56 - 2) / 2) + 1 = 28 + 1.
  // CHECK: accel.max_pool2d %{{.*}} {ceil_mode, kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<8x64x57x57xf32>) -> tensor<8x64x29x29xf32>
  %pad = accel.concat %d, %d {dim = 2 : i64} : (tensor<8x64x56x56xf32>, tensor<8x64x56x56xf32>) -> tensor<8x64x112x56xf32>
  %sl = accel.slice %pad {dim = 2 : i64, start = 0 : i64, end = 57 : i64} : (tensor<8x64x112x56xf32>) -> tensor<8x64x57x56xf32>
  %sq = accel.concat %sl, %sl {dim = 3 : i64} : (tensor<8x64x57x56xf32>, tensor<8x64x57x56xf32>) -> tensor<8x64x57x112xf32>
  %sl2 = accel.slice %sq {dim = 3 : i64, start = 0 : i64, end = 57 : i64} : (tensor<8x64x57x112xf32>) -> tensor<8x64x57x57xf32>
  %cm = accel.max_pool2d %sl2 {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, ceil_mode}
      : (tensor<8x64x57x57xf32>) -> tensor<8x64x29x29xf32>
  // CHECK: accel.adaptive_avg_pool2d %{{.*}} {output_size = array<i64: 1, 1>} : (tensor<8x64x28x28xf32>) -> tensor<8x64x1x1xf32>
  %gap = accel.adaptive_avg_pool2d %a {output_size = array<i64: 1, 1>} : (tensor<8x64x28x28xf32>) -> tensor<8x64x1x1xf32>
  return %gap, %m, %v, %a, %cm : tensor<8x64x1x1xf32>, tensor<64xf32>, tensor<64xf32>, tensor<8x64x28x28xf32>, tensor<8x64x29x29xf32>
}

// CHECK-LABEL: func.func @shapes
func.func @shapes(%x: tensor<8x512x1x1xf32>, %t: tensor<2x16x64xf32>, %m: tensor<4x6xi1>) -> (tensor<8x512xf32>, tensor<2x4x16x16xf32>, tensor<2x16x8xf32>, tensor<6x4xi1>) {
  // CHECK: accel.flatten %{{.*}} {end_dim = 3 : i64, start_dim = 1 : i64} : (tensor<8x512x1x1xf32>) -> tensor<8x512xf32>
  %0 = accel.flatten %x {start_dim = 1 : i64, end_dim = 3 : i64} : (tensor<8x512x1x1xf32>) -> tensor<8x512xf32>
  // CHECK: accel.reshape %{{.*}} : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  %1 = accel.reshape %t : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  // CHECK: accel.permute %{{.*}} {permutation = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  %2 = accel.permute %1 {permutation = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  // CHECK: accel.slice %{{.*}} {dim = 2 : i64, end = 64 : i64, start = 1 : i64, step = 8 : i64} : (tensor<2x16x64xf32>) -> tensor<2x16x8xf32>
  %3 = accel.slice %t {dim = 2 : i64, start = 1 : i64, end = 64 : i64, step = 8 : i64} : (tensor<2x16x64xf32>) -> tensor<2x16x8xf32>
  // Shape ops also move masks and indices.
  // CHECK: accel.transpose %{{.*}} {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<4x6xi1>) -> tensor<6x4xi1>
  %4 = accel.transpose %m {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<4x6xi1>) -> tensor<6x4xi1>
  return %0, %2, %3, %4 : tensor<8x512xf32>, tensor<2x4x16x16xf32>, tensor<2x16x8xf32>, tensor<6x4xi1>
}

// CHECK-LABEL: func.func @attention
func.func @attention(%wte: tensor<256x64xf32>, %tok: tensor<2x16xi64>, %g: tensor<64xf32>, %b: tensor<64xf32>,
                     %causal: tensor<16x16xi1>, %seed: tensor<i64>) -> tensor<2x4x16x16xf32> {
  // CHECK: accel.embedding %{{.*}}, %{{.*}} : (tensor<256x64xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
  %e = accel.embedding %wte, %tok : (tensor<256x64xf32>, tensor<2x16xi64>) -> tensor<2x16x64xf32>
  // CHECK: accel.layer_norm %{{.*}} weight(%{{.*}}) bias(%{{.*}}) {normalized_shape = array<i64: 64>} : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  %n = accel.layer_norm %e weight(%g) bias(%b) {normalized_shape = array<i64: 64>}
      : (tensor<2x16x64xf32>, tensor<64xf32>, tensor<64xf32>) -> tensor<2x16x64xf32>
  // CHECK: accel.layer_norm %{{.*}} {eps = 9.9999999999999995E-7 : f64, normalized_shape = array<i64: 16, 64>} : (tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
  %n2 = accel.layer_norm %n {normalized_shape = array<i64: 16, 64>, eps = 1.0e-06 : f64}
      : (tensor<2x16x64xf32>) -> tensor<2x16x64xf32>
  %h = accel.reshape %n2 : tensor<2x16x64xf32> -> tensor<2x16x4x16xf32>
  %q = accel.permute %h {permutation = array<i64: 0, 2, 1, 3>} : (tensor<2x16x4x16xf32>) -> tensor<2x4x16x16xf32>
  %kt = accel.transpose %q {dim0 = 2 : i64, dim1 = 3 : i64} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %s = accel.matmul %q, %kt : (tensor<2x4x16x16xf32>, tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  // CHECK: accel.masked_fill %{{.*}}, %{{.*}} {value = 0xFFF0000000000000 : f64} : (tensor<2x4x16x16xf32>, tensor<16x16xi1>) -> tensor<2x4x16x16xf32>
  %f = accel.masked_fill %s, %causal {value = 0xFFF0000000000000 : f64}
      : (tensor<2x4x16x16xf32>, tensor<16x16xi1>) -> tensor<2x4x16x16xf32>
  // CHECK: accel.softmax %{{.*}} {dim = 3 : i64} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  %p = accel.softmax %f {dim = 3 : i64} : (tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32>
  // CHECK: accel.dropout %{{.*}}, %{{.*}} {p = 1.000000e-01 : f64} : (tensor<2x4x16x16xf32>, tensor<i64>) -> tensor<2x4x16x16xf32>
  %d = accel.dropout %p, %seed {p = 0.1 : f64} : (tensor<2x4x16x16xf32>, tensor<i64>) -> tensor<2x4x16x16xf32>
  return %d : tensor<2x4x16x16xf32>
}

// CHECK-LABEL: func.func @reductions_and_losses
func.func @reductions_and_losses(%x: tensor<8x10xf32>, %y: tensor<8xi64>, %t: tensor<8x10xf32>)
    -> (tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<8x10xf32>, tensor<8xf32>, tensor<1x10xf32>, tensor<f32>) {
  // CHECK: accel.sum %{{.*}} {dims = array<i64: 1>} : (tensor<8x10xf32>) -> tensor<8xf32>
  %0 = accel.sum %x {dims = array<i64: 1>} : (tensor<8x10xf32>) -> tensor<8xf32>
  // CHECK: accel.mean %{{.*}} {dims = array<i64: 0>, keepdim} : (tensor<8x10xf32>) -> tensor<1x10xf32>
  %1 = accel.mean %x {dims = array<i64: 0>, keepdim} : (tensor<8x10xf32>) -> tensor<1x10xf32>
  // CHECK: accel.amax %{{.*}} {dims = array<i64: 1, 0>} : (tensor<8x10xf32>) -> tensor<f32>
  %2 = accel.amax %x {dims = array<i64: 1, 0>} : (tensor<8x10xf32>) -> tensor<f32>
  // CHECK: accel.log_softmax %{{.*}} {dim = 1 : i64} : (tensor<8x10xf32>) -> tensor<8x10xf32>
  %3 = accel.log_softmax %x {dim = 1 : i64} : (tensor<8x10xf32>) -> tensor<8x10xf32>
  // CHECK: accel.cross_entropy %{{.*}}, %{{.*}} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  %4 = accel.cross_entropy %x, %y : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<f32>
  // CHECK: accel.cross_entropy %{{.*}}, %{{.*}} {ignore_index = 0 : i64, label_smoothing = 1.000000e-01 : f64, reduction = #accel<reduction none>} : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<8xf32>
  %5 = accel.cross_entropy %x, %y {reduction = #accel<reduction none>, ignore_index = 0 : i64, label_smoothing = 0.1 : f64}
      : (tensor<8x10xf32>, tensor<8xi64>) -> tensor<8xf32>
  // CHECK: accel.mse_loss %{{.*}}, %{{.*}} {reduction = #accel<reduction sum>} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  %6 = accel.mse_loss %x, %t {reduction = #accel<reduction sum>} : (tensor<8x10xf32>, tensor<8x10xf32>) -> tensor<f32>
  return %2, %0, %4, %3, %5, %1, %6 : tensor<f32>, tensor<8xf32>, tensor<f32>, tensor<8x10xf32>, tensor<8xf32>, tensor<1x10xf32>, tensor<f32>
}

// The gradient ops that vector-Jacobian products use.
// CHECK-LABEL: func.func @gradients
func.func @gradients(%g4: tensor<4x8xf32>, %x4: tensor<4x8xf32>,
                     %gc: tensor<2x8x4x4xf32>, %xc: tensor<2x3x9x9xf32>, %wc: tensor<8x3x3x3xf32>,
                     %c: tensor<8xf32>, %gp: tensor<2x8x2x2xf32>, %xp: tensor<2x8x4x4xf32>,
                     %ge: tensor<2x3x5xf32>, %idx: tensor<2x3xi64>, %s: tensor<f32>, %y: tensor<4xi64>,
                     %g1: tensor<4xf32>, %gs: tensor<4x2xf32>) {
  // CHECK: accel.broadcast_to %{{.*}} : tensor<4xf32> -> tensor<8x4xf32>
  %0 = accel.broadcast_to %g1 : tensor<4xf32> -> tensor<8x4xf32>
  // CHECK: accel.relu_grad %{{.*}}, %{{.*}} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = accel.relu_grad %g4, %x4 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: accel.gelu_grad %{{.*}}, %{{.*}} {approximate = #accel<gelu_approximation tanh>}
  %2 = accel.gelu_grad %g4, %x4 {approximate = #accel<gelu_approximation tanh>} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // 9x9, kernel 3, stride 2: 4x4 (an 10x10 input would give 4x4 too).
  // CHECK: accel.conv2d_grad_input %{{.*}}, %{{.*}} {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32>
  %3 = accel.conv2d_grad_input %gc, %wc {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xf32>, tensor<8x3x3x3xf32>) -> tensor<2x3x9x9xf32>
  // CHECK: accel.conv2d_grad_weight %{{.*}}, %{{.*}} {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xf32>, tensor<2x3x9x9xf32>) -> tensor<8x3x3x3xf32>
  %4 = accel.conv2d_grad_weight %gc, %xc {stride = array<i64: 2, 2>} : (tensor<2x8x4x4xf32>, tensor<2x3x9x9xf32>) -> tensor<8x3x3x3xf32>
  // CHECK: accel.batch_norm_grad {{.*}} {training} : (tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>)
  %5:3 = accel.batch_norm_grad %xp, %xp, %c, %c, %c {training} : (tensor<2x8x4x4xf32>, tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<2x8x4x4xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: accel.layer_norm_grad %{{.*}}, %{{.*}} weight(%{{.*}}) {normalized_shape = array<i64: 8>} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  %6:3 = accel.layer_norm_grad %g4, %x4 weight(%c) {normalized_shape = array<i64: 8>} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>)
  // CHECK: accel.max_pool2d_grad %{{.*}}, %{{.*}} {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x8x2x2xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  %7 = accel.max_pool2d_grad %gp, %xp {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>} : (tensor<2x8x2x2xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  // CHECK: accel.avg_pool2d_grad %{{.*}}, %{{.*}} {count_include_pad, kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>}
  %8 = accel.avg_pool2d_grad %gp, %xp {kernel_size = array<i64: 2, 2>, stride = array<i64: 2, 2>, count_include_pad} : (tensor<2x8x2x2xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  // CHECK: accel.adaptive_avg_pool2d_grad %{{.*}}, %{{.*}} : (tensor<2x8x2x2xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  %9 = accel.adaptive_avg_pool2d_grad %gp, %xp : (tensor<2x8x2x2xf32>, tensor<2x8x4x4xf32>) -> tensor<2x8x4x4xf32>
  // CHECK: accel.embedding_grad %{{.*}}, %{{.*}} {num_embeddings = 16 : i64} : (tensor<2x3x5xf32>, tensor<2x3xi64>) -> tensor<16x5xf32>
  %10 = accel.embedding_grad %ge, %idx {num_embeddings = 16 : i64} : (tensor<2x3x5xf32>, tensor<2x3xi64>) -> tensor<16x5xf32>
  // CHECK: accel.softmax_grad %{{.*}}, %{{.*}} {dim = 1 : i64}
  %11 = accel.softmax_grad %g4, %x4 {dim = 1 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: accel.log_softmax_grad %{{.*}}, %{{.*}} {dim = 0 : i64}
  %12 = accel.log_softmax_grad %g4, %x4 {dim = 0 : i64} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: accel.cross_entropy_grad %{{.*}}, %{{.*}}, %{{.*}} : (tensor<f32>, tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %13 = accel.cross_entropy_grad %s, %x4, %y : (tensor<f32>, tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  // CHECK: accel.cross_entropy_grad {{.*}}reduction = #accel<reduction none>{{.*}} : (tensor<4xf32>, tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  %14 = accel.cross_entropy_grad %g1, %x4, %y {reduction = #accel<reduction none>} : (tensor<4xf32>, tensor<4x8xf32>, tensor<4xi64>) -> tensor<4x8xf32>
  // CHECK: accel.amax_grad %{{.*}}, %{{.*}} {dims = array<i64: 1>} : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %15 = accel.amax_grad %g1, %x4 {dims = array<i64: 1>} : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  // CHECK: accel.slice_grad %{{.*}} {dim = 1 : i64, end = 8 : i64, start = 1 : i64, step = 4 : i64} : (tensor<4x2xf32>) -> tensor<4x8xf32>
  %16 = accel.slice_grad %gs {dim = 1 : i64, start = 1 : i64, end = 8 : i64, step = 4 : i64} : (tensor<4x2xf32>) -> tensor<4x8xf32>
  return
}

// A fused elementwise op: a scalar input, two results.
// CHECK-LABEL: func.func @fused
// CHECK: %[[F:.*]]:2 = accel.fused(%arg0, %arg1) : (tensor<4x8xf32>, tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
// CHECK-NEXT: ^bb0(%[[X:.*]]: tensor<f32>, %[[S:.*]]: tensor<f32>):
// CHECK-NEXT:   %[[M:.*]] = accel.mul %[[X]], %[[S]] : (tensor<f32>, tensor<f32>) -> tensor<f32>
// CHECK-NEXT:   %[[R:.*]] = accel.relu %[[M]] : tensor<f32>
// CHECK-NEXT:   accel.yield %[[M]], %[[R]] : tensor<f32>, tensor<f32>
// CHECK-NEXT: }
func.func @fused(%x: tensor<4x8xf32>, %s: tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %0:2 = accel.fused(%x, %s) : (tensor<4x8xf32>, tensor<f32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  ^bb0(%xe: tensor<f32>, %se: tensor<f32>):
    %m = accel.mul %xe, %se : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %r = accel.relu %m : tensor<f32>
    accel.yield %m, %r : tensor<f32>, tensor<f32>
  }
  return %0#0, %0#1 : tensor<4x8xf32>, tensor<4x8xf32>
}

// Data parallelism: one bucket of gradients, summed or averaged over ranks.
// CHECK-LABEL: func.func @collectives
// CHECK: %[[R:.*]]:2 = accel.all_reduce mean %arg0, %arg1 {bucket = 3 : i64, ranks = 4 : i64} : tensor<4x8xf32>, tensor<8xbf16>
// CHECK: accel.all_reduce sum %[[R]]#0 {ranks = 2 : i64} : tensor<4x8xf32>
func.func @collectives(%g: tensor<4x8xf32>, %h: tensor<8xbf16>) -> tensor<4x8xf32> {
  %r:2 = accel.all_reduce mean %g, %h {bucket = 3 : i64, ranks = 4 : i64} : tensor<4x8xf32>, tensor<8xbf16>
  %s = accel.all_reduce sum %r#0 {ranks = 2 : i64} : tensor<4x8xf32>
  return %s : tensor<4x8xf32>
}

// ZeRO: shards of 1-D ceil(n / ranks) elements (7 elements over 3 ranks: 3).
// CHECK-LABEL: func.func @sharded_collectives
// CHECK: %[[S:.*]]:2 = accel.reduce_scatter mean %arg0, %arg1 {bucket = 1 : i64, names = ["w", "b"], ranks = 3 : i64} : tensor<4x8xf32>, tensor<7xf32> -> tensor<11xf32>, tensor<3xf32>
// CHECK: %[[L:.*]] = accel.local_shard %arg0 {ranks = 3 : i64} : tensor<4x8xf32> -> tensor<11xf32>
// CHECK: accel.all_gather %[[L]], %[[S]]#1 {ranks = 3 : i64} : tensor<11xf32>, tensor<3xf32> -> tensor<4x8xf32>, tensor<7xf32>
func.func @sharded_collectives(%g: tensor<4x8xf32>, %h: tensor<7xf32>) -> (tensor<4x8xf32>, tensor<7xf32>) {
  %s:2 = accel.reduce_scatter mean %g, %h {bucket = 1 : i64, names = ["w", "b"], ranks = 3 : i64} : tensor<4x8xf32>, tensor<7xf32> -> tensor<11xf32>, tensor<3xf32>
  %l = accel.local_shard %g {ranks = 3 : i64} : tensor<4x8xf32> -> tensor<11xf32>
  %w:2 = accel.all_gather %l, %s#1 {ranks = 3 : i64} : tensor<11xf32>, tensor<3xf32> -> tensor<4x8xf32>, tensor<7xf32>
  return %w#0, %w#1 : tensor<4x8xf32>, tensor<7xf32>
}

// Mixed precision: f32 shards gathered into the compute type, gradients
// reduced in bf16.
// CHECK-LABEL: func.func @gather_in_compute_type
// CHECK: accel.all_gather %arg0, %arg1 backward mean {ranks = 3 : i64, reduce_type = bf16} : tensor<11xf32>, tensor<3xf32> -> tensor<4x8xbf16>, tensor<7xf32>
// CHECK: accel.all_gather %arg0 {ranks = 3 : i64} : tensor<11xf32> -> tensor<4x8xf16>
func.func @gather_in_compute_type(%l: tensor<11xf32>, %s: tensor<3xf32>) -> (tensor<4x8xbf16>, tensor<7xf32>, tensor<4x8xf16>) {
  %w:2 = accel.all_gather %l, %s backward mean {ranks = 3 : i64, reduce_type = bf16} : tensor<11xf32>, tensor<3xf32> -> tensor<4x8xbf16>, tensor<7xf32>
  %h = accel.all_gather %l {ranks = 3 : i64} : tensor<11xf32> -> tensor<4x8xf16>
  return %w#0, %w#1, %h : tensor<4x8xbf16>, tensor<7xf32>, tensor<4x8xf16>
}

// A collective started early and completed where its results are read.
// CHECK-LABEL: func.func @started_collective
// CHECK: %[[R:.*]]:2 = accel.reduce_scatter mean %arg0, %arg1 {ranks = 2 : i64} : tensor<4x8xf32>, tensor<7xf32> -> tensor<16xf32>, tensor<4xf32>
// CHECK: %[[N:.*]] = accel.neg %arg0
// CHECK: %[[W:.*]]:2 = accel.wait %[[R]]#0, %[[R]]#1 : tensor<16xf32>, tensor<4xf32>
// CHECK: return %[[W]]#0, %[[W]]#1, %[[N]]
func.func @started_collective(%g: tensor<4x8xf32>, %h: tensor<7xf32>) -> (tensor<16xf32>, tensor<4xf32>, tensor<4x8xf32>) {
  %r:2 = accel.reduce_scatter mean %g, %h {ranks = 2 : i64} : tensor<4x8xf32>, tensor<7xf32> -> tensor<16xf32>, tensor<4xf32>
  %n = accel.neg %g : tensor<4x8xf32>
  %w:2 = accel.wait %r#0, %r#1 : tensor<16xf32>, tensor<4xf32>
  return %w#0, %w#1, %n : tensor<16xf32>, tensor<4xf32>, tensor<4x8xf32>
}

// Loss scaling's ops, and a reduced-precision tensor with an f32 scalar.
// CHECK-LABEL: func.func @precision
// CHECK: %[[OK:.*]] = accel.all_finite %arg0, %arg1 : tensor<4x8xf32>, tensor<8xbf16>
// CHECK: accel.select %[[OK]], %arg0, %arg0 : tensor<4x8xf32>
// CHECK: accel.div %arg1, %arg2 : (tensor<8xbf16>, tensor<f32>) -> tensor<8xbf16>
func.func @precision(%g: tensor<4x8xf32>, %h: tensor<8xbf16>, %s: tensor<f32>)
    -> (tensor<4x8xf32>, tensor<8xbf16>) {
  %ok = accel.all_finite %g, %h : tensor<4x8xf32>, tensor<8xbf16>
  %kept = accel.select %ok, %g, %g : tensor<4x8xf32>
  %scaled = accel.div %h, %s : (tensor<8xbf16>, tensor<f32>) -> tensor<8xbf16>
  return %kept, %scaled : tensor<4x8xf32>, tensor<8xbf16>
}

// CHECK-LABEL: func.func @fp8
func.func @fp8(%x: tensor<64x32xf32>, %w: tensor<16x32xf32>) -> tensor<64x16xf32> {
  // CHECK: accel.fp8_quantize %{{.*}} {round_scale_to_pow2, scaling = #accel<fp8_scaling rowwise>} : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64x1xf32>
  %xq, %xs = accel.fp8_quantize %x {scaling = #accel<fp8_scaling rowwise>, round_scale_to_pow2} : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64x1xf32>
  %wq, %ws = accel.fp8_quantize %w {scaling = #accel<fp8_scaling tensorwise>} : tensor<16x32xf32> -> tensor<16x32xf8E5M2>, tensor<f32>
  // CHECK: accel.scaled_matmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} hp %{{.*}}, %{{.*}} {recipe = #accel<fp8_recipe rowwise_gw_hp>}
  %y = accel.scaled_matmul %xq, %xs, %wq, %ws hp %x, %w {recipe = #accel<fp8_recipe rowwise_gw_hp>} : tensor<64x32xf8E4M3FN>, tensor<64x1xf32>, tensor<16x32xf8E5M2>, tensor<f32>, tensor<64x32xf32>, tensor<16x32xf32> -> tensor<64x16xf32>
  // CHECK: accel.scaled_matmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<64x32xf8E4M3FN>, tensor<64x1xf32>, tensor<16x32xf8E5M2>, tensor<f32> -> tensor<64x16xbf16>
  %z = accel.scaled_matmul %xq, %xs, %wq, %ws : tensor<64x32xf8E4M3FN>, tensor<64x1xf32>, tensor<16x32xf8E5M2>, tensor<f32> -> tensor<64x16xbf16>
  return %y : tensor<64x16xf32>
}

// CHECK-LABEL: func.func @mxfp8
func.func @mxfp8(%x: tensor<64x64xf32>, %w: tensor<32x64xf32>) -> tensor<64x32xbf16> {
  // CHECK: accel.fp8_quantize %{{.*}} {scaling = #accel<fp8_scaling mx>} : tensor<64x64xf32> -> tensor<64x64xf8E4M3FN>, tensor<64x2xf8E8M0FNU>
  %xq, %xs = accel.fp8_quantize %x {scaling = #accel<fp8_scaling mx>} : tensor<64x64xf32> -> tensor<64x64xf8E4M3FN>, tensor<64x2xf8E8M0FNU>
  %wq, %ws = accel.fp8_quantize %w {scaling = #accel<fp8_scaling mx>} : tensor<32x64xf32> -> tensor<32x64xf8E4M3FN>, tensor<32x2xf8E8M0FNU>
  // CHECK: accel.scaled_matmul {{.*}} : tensor<64x64xf8E4M3FN>, tensor<64x2xf8E8M0FNU>, tensor<32x64xf8E4M3FN>, tensor<32x2xf8E8M0FNU> -> tensor<64x32xbf16>
  %y = accel.scaled_matmul %xq, %xs, %wq, %ws : tensor<64x64xf8E4M3FN>, tensor<64x2xf8E8M0FNU>, tensor<32x64xf8E4M3FN>, tensor<32x2xf8E8M0FNU> -> tensor<64x32xbf16>
  return %y : tensor<64x32xbf16>
}

// CHECK-LABEL: func.func @fp8_delayed
func.func @fp8_delayed(%x: tensor<64x32xf32>, %w: tensor<16x32xf32>, %h: tensor<8xf32>, %s: tensor<f32>) -> tensor<64x16xf32> {
  // CHECK: accel.fp8_quantize_scaled %{{.*}}, %{{.*}} : tensor<64x32xf32>, tensor<f32> -> tensor<64x32xf8E4M3FN>, tensor<f32>
  %xq, %xa = accel.fp8_quantize_scaled %x, %s : tensor<64x32xf32>, tensor<f32> -> tensor<64x32xf8E4M3FN>, tensor<f32>
  %wq, %wa = accel.fp8_quantize_scaled %w, %s : tensor<16x32xf32>, tensor<f32> -> tensor<16x32xf8E4M3FN>, tensor<f32>
  // CHECK: accel.fp8_scale_update %{{.*}}, %{{.*}}, %{{.*}} {amax_algo = #accel<fp8_amax_algo most_recent>, format = f8E5M2, margin = 1 : i64} : tensor<8xf32>, tensor<f32>, tensor<f32> -> tensor<8xf32>, tensor<f32>
  %h2, %s2 = accel.fp8_scale_update %h, %s, %xa {amax_algo = #accel<fp8_amax_algo most_recent>, margin = 1 : i64, format = f8E5M2} : tensor<8xf32>, tensor<f32>, tensor<f32> -> tensor<8xf32>, tensor<f32>
  // CHECK: accel.scaled_matmul %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} hp %{{.*}}, %{{.*}} grad_state %{{.*}}, %{{.*}} {amax_algo = #accel<fp8_amax_algo max>, grad_format = f8E5M2, margin = 0 : i64, output_scaled, recipe = #accel<fp8_recipe delayed>} : tensor<64x32xf8E4M3FN>, tensor<f32>, tensor<16x32xf8E4M3FN>, tensor<f32>, tensor<64x32xf32>, tensor<16x32xf32>, tensor<8xf32>, tensor<f32> -> tensor<64x16xf32>
  %y = accel.scaled_matmul %xq, %s, %wq, %s hp %x, %w grad_state %h2, %s2 {recipe = #accel<fp8_recipe delayed>, output_scaled, amax_algo = #accel<fp8_amax_algo max>, margin = 0 : i64, grad_format = f8E5M2} : tensor<64x32xf8E4M3FN>, tensor<f32>, tensor<16x32xf8E4M3FN>, tensor<f32>, tensor<64x32xf32>, tensor<16x32xf32>, tensor<8xf32>, tensor<f32> -> tensor<64x16xf32>
  return %y : tensor<64x16xf32>
}
