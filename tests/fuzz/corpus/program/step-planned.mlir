module {
  func.func @forward(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<2x4xf32> {accel.input = "input"}, %arg5: tensor<2xi64> {accel.input = "y"}) -> tensor<f32> {
    %0 = accel.linear %arg4, %arg0, %arg1 : (tensor<2x4xf32>, tensor<6x4xf32>, tensor<6xf32>) -> tensor<2x6xf32>
    %1 = accel.relu %0 : tensor<2x6xf32>
    %2 = accel.linear %1, %arg2, %arg3 : (tensor<2x6xf32>, tensor<3x6xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %3 = accel.cross_entropy %2, %arg5 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    return %3 : tensor<f32>
  }
  func.func @forward_grad(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<2x4xf32> {accel.input = "input"}, %arg5: tensor<2xi64> {accel.input = "y"}) -> (tensor<f32>, tensor<6x4xf32> {accel.grad = "0.weight"}, tensor<6xf32> {accel.grad = "0.bias"}, tensor<3x6xf32> {accel.grad = "2.weight"}, tensor<3xf32> {accel.grad = "2.bias"}) {
    %cst = arith.constant dense<1.000000e+00> : tensor<f32>
    %0 = accel.linear %arg4, %arg0, %arg1 : (tensor<2x4xf32>, tensor<6x4xf32>, tensor<6xf32>) -> tensor<2x6xf32>
    %1 = accel.relu %0 : tensor<2x6xf32>
    %2 = accel.linear %1, %arg2, %arg3 : (tensor<2x6xf32>, tensor<3x6xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %3 = accel.cross_entropy %2, %arg5 : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %4 = accel.cross_entropy_grad %cst, %2, %arg5 : (tensor<f32>, tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
    %5 = accel.matmul %4, %arg2 : (tensor<2x3xf32>, tensor<3x6xf32>) -> tensor<2x6xf32>
    %6 = accel.transpose %4 {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %7 = accel.matmul %6, %1 : (tensor<3x2xf32>, tensor<2x6xf32>) -> tensor<3x6xf32>
    %8 = accel.sum %4 {dims = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
    %9 = accel.relu_grad %5, %0 : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
    %10 = accel.transpose %9 {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x6xf32>) -> tensor<6x2xf32>
    %11 = accel.matmul %10, %arg4 : (tensor<6x2xf32>, tensor<2x4xf32>) -> tensor<6x4xf32>
    %12 = accel.sum %9 {dims = array<i64: 0>} : (tensor<2x6xf32>) -> tensor<6xf32>
    return %3, %11, %12, %7, %8 : tensor<f32>, tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>
  }
  func.func @train_step(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg"}, %arg5: tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg_sq"}, %arg6: tensor<6xf32> {accel.opt_state = "0.bias.exp_avg"}, %arg7: tensor<6xf32> {accel.opt_state = "0.bias.exp_avg_sq"}, %arg8: tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg"}, %arg9: tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg_sq"}, %arg10: tensor<3xf32> {accel.opt_state = "2.bias.exp_avg"}, %arg11: tensor<3xf32> {accel.opt_state = "2.bias.exp_avg_sq"}, %arg12: tensor<2x4xf32> {accel.input = "input"}, %arg13: tensor<2xi64> {accel.input = "y"}, %arg14: tensor<i64> {accel.step = "step"}, %arg15: tensor<f32> {accel.lr = "lr"}) -> (tensor<f32>, tensor<6x4xf32> {accel.param = "0.weight"}, tensor<6xf32> {accel.param = "0.bias"}, tensor<3x6xf32> {accel.param = "2.weight"}, tensor<3xf32> {accel.param = "2.bias"}, tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg"}, tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg_sq"}, tensor<6xf32> {accel.opt_state = "0.bias.exp_avg"}, tensor<6xf32> {accel.opt_state = "0.bias.exp_avg_sq"}, tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg"}, tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg_sq"}, tensor<3xf32> {accel.opt_state = "2.bias.exp_avg"}, tensor<3xf32> {accel.opt_state = "2.bias.exp_avg_sq"}) attributes {accel.arena_bytes = 1472 : i64, accel.default_lr = 1.000000e-03 : f64, accel.grad_accum = 1 : i64} {
    %cst = arith.constant dense<9.99999993E-9> : tensor<f32>
    %cst_0 = arith.constant dense<-0.00100050028> : tensor<f32>
    %cst_1 = arith.constant dense<-0.105360515> : tensor<f32>
    %cst_2 = arith.constant dense<9.990000e-01> : tensor<f32>
    %cst_3 = arith.constant dense<1.000000e-03> : tensor<f32>
    %cst_4 = arith.constant dense<0.899999976> : tensor<f32>
    %cst_5 = arith.constant dense<1.000000e-01> : tensor<f32>
    %cst_6 = arith.constant dense<1.000000e+00> : tensor<f32>
    %cst_7 = arith.constant dense<0.00999999977> : tensor<f32>
    %0 = accel.linear %arg12, %arg0, %arg1 {accel.arena_offsets = array<i64: 0>} : (tensor<2x4xf32>, tensor<6x4xf32>, tensor<6xf32>) -> tensor<2x6xf32>
    %1 = accel.relu %0 {accel.arena_offsets = array<i64: 64>} : tensor<2x6xf32>
    %2 = accel.linear %1, %arg2, %arg3 {accel.arena_offsets = array<i64: 128>} : (tensor<2x6xf32>, tensor<3x6xf32>, tensor<3xf32>) -> tensor<2x3xf32>
    %3 = accel.cross_entropy %2, %arg13 {accel.arena_offsets = array<i64: 1216>} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %4 = accel.cross_entropy_grad %cst_6, %2, %arg13 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
    %5 = accel.matmul %4, %arg2 {accel.arena_offsets = array<i64: 128>} : (tensor<2x3xf32>, tensor<3x6xf32>) -> tensor<2x6xf32>
    %6 = accel.transpose %4 {accel.arena_offsets = array<i64: 192>, accel.view, dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x3xf32>) -> tensor<3x2xf32>
    %7 = accel.matmul %6, %1 {accel.arena_offsets = array<i64: 512>} : (tensor<3x2xf32>, tensor<2x6xf32>) -> tensor<3x6xf32>
    %8 = accel.sum %4 {accel.arena_offsets = array<i64: 1088>, dims = array<i64: 0>} : (tensor<2x3xf32>) -> tensor<3xf32>
    %9 = accel.relu_grad %5, %0 {accel.arena_offsets = array<i64: 192>} : (tensor<2x6xf32>, tensor<2x6xf32>) -> tensor<2x6xf32>
    %10 = accel.transpose %9 {accel.arena_offsets = array<i64: 192>, accel.view, dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x6xf32>) -> tensor<6x2xf32>
    %11 = accel.matmul %10, %arg12 {accel.arena_offsets = array<i64: 0>} : (tensor<6x2xf32>, tensor<2x4xf32>) -> tensor<6x4xf32>
    %12 = accel.sum %9 {accel.arena_offsets = array<i64: 640>, dims = array<i64: 0>} : (tensor<2x6xf32>) -> tensor<6xf32>
    %13 = accel.cast %arg14 {accel.arena_offsets = array<i64: 128>} : tensor<i64> -> tensor<f32>
    %14 = accel.mul %arg15, %cst_7 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %15 = accel.sub %cst_6, %14 {accel.arena_offsets = array<i64: 1280>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %16 = accel.mul %13, %cst_1 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %17 = accel.exp %16 {accel.arena_offsets = array<i64: 256>} : tensor<f32>
    %18 = accel.sub %cst_6, %17 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %19 = accel.div %arg15, %18 {accel.arena_offsets = array<i64: 1344>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %20 = accel.mul %13, %cst_0 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %21 = accel.exp %20 {accel.arena_offsets = array<i64: 128>} : tensor<f32>
    %22 = accel.sub %cst_6, %21 {accel.arena_offsets = array<i64: 192>} : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %23 = accel.sqrt %22 {accel.arena_offsets = array<i64: 1408>} : tensor<f32>
    %24:3 = accel.fused(%arg0, %15, %11, %cst_5, %arg4, %cst_4, %cst_3, %arg5, %cst_2, %23, %cst, %19) {accel.arena_offsets = array<i64: 128, 256, 384>} : (tensor<6x4xf32>, tensor<f32>, tensor<6x4xf32>, tensor<f32>, tensor<6x4xf32>, tensor<f32>, tensor<f32>, tensor<6x4xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<6x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>) {
    ^bb0(%arg16: tensor<f32>, %arg17: tensor<f32>, %arg18: tensor<f32>, %arg19: tensor<f32>, %arg20: tensor<f32>, %arg21: tensor<f32>, %arg22: tensor<f32>, %arg23: tensor<f32>, %arg24: tensor<f32>, %arg25: tensor<f32>, %arg26: tensor<f32>, %arg27: tensor<f32>):
      %28 = accel.mul %arg16, %arg17 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %29 = accel.mul %arg18, %arg19 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %30 = accel.mul %arg20, %arg21 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %31 = accel.add %30, %29 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %32 = accel.mul %arg18, %arg18 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %33 = accel.mul %32, %arg22 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %34 = accel.mul %arg23, %arg24 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %35 = accel.add %34, %33 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %36 = accel.sqrt %35 : tensor<f32>
      %37 = accel.div %36, %arg25 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %38 = accel.add %37, %arg26 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %39 = accel.div %31, %38 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %40 = accel.mul %arg27, %39 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %41 = accel.sub %28, %40 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %31, %35, %41 : tensor<f32>, tensor<f32>, tensor<f32>
    }
    %25:3 = accel.fused(%arg1, %15, %12, %cst_5, %arg6, %cst_4, %cst_3, %arg7, %cst_2, %23, %cst, %19) {accel.arena_offsets = array<i64: 896, 960, 1024>} : (tensor<6xf32>, tensor<f32>, tensor<6xf32>, tensor<f32>, tensor<6xf32>, tensor<f32>, tensor<f32>, tensor<6xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<6xf32>, tensor<6xf32>, tensor<6xf32>) {
    ^bb0(%arg16: tensor<f32>, %arg17: tensor<f32>, %arg18: tensor<f32>, %arg19: tensor<f32>, %arg20: tensor<f32>, %arg21: tensor<f32>, %arg22: tensor<f32>, %arg23: tensor<f32>, %arg24: tensor<f32>, %arg25: tensor<f32>, %arg26: tensor<f32>, %arg27: tensor<f32>):
      %28 = accel.mul %arg16, %arg17 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %29 = accel.mul %arg18, %arg19 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %30 = accel.mul %arg20, %arg21 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %31 = accel.add %30, %29 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %32 = accel.mul %arg18, %arg18 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %33 = accel.mul %32, %arg22 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %34 = accel.mul %arg23, %arg24 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %35 = accel.add %34, %33 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %36 = accel.sqrt %35 : tensor<f32>
      %37 = accel.div %36, %arg25 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %38 = accel.add %37, %arg26 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %39 = accel.div %31, %38 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %40 = accel.mul %arg27, %39 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %41 = accel.sub %28, %40 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %31, %35, %41 : tensor<f32>, tensor<f32>, tensor<f32>
    }
    %26:3 = accel.fused(%arg2, %15, %7, %cst_5, %arg8, %cst_4, %cst_3, %arg9, %cst_2, %23, %cst, %19) {accel.arena_offsets = array<i64: 0, 640, 768>} : (tensor<3x6xf32>, tensor<f32>, tensor<3x6xf32>, tensor<f32>, tensor<3x6xf32>, tensor<f32>, tensor<f32>, tensor<3x6xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<3x6xf32>, tensor<3x6xf32>, tensor<3x6xf32>) {
    ^bb0(%arg16: tensor<f32>, %arg17: tensor<f32>, %arg18: tensor<f32>, %arg19: tensor<f32>, %arg20: tensor<f32>, %arg21: tensor<f32>, %arg22: tensor<f32>, %arg23: tensor<f32>, %arg24: tensor<f32>, %arg25: tensor<f32>, %arg26: tensor<f32>, %arg27: tensor<f32>):
      %28 = accel.mul %arg16, %arg17 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %29 = accel.mul %arg18, %arg19 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %30 = accel.mul %arg20, %arg21 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %31 = accel.add %30, %29 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %32 = accel.mul %arg18, %arg18 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %33 = accel.mul %32, %arg22 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %34 = accel.mul %arg23, %arg24 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %35 = accel.add %34, %33 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %36 = accel.sqrt %35 : tensor<f32>
      %37 = accel.div %36, %arg25 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %38 = accel.add %37, %arg26 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %39 = accel.div %31, %38 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %40 = accel.mul %arg27, %39 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %41 = accel.sub %28, %40 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %31, %35, %41 : tensor<f32>, tensor<f32>, tensor<f32>
    }
    %27:3 = accel.fused(%arg3, %15, %8, %cst_5, %arg10, %cst_4, %cst_3, %arg11, %cst_2, %23, %cst, %19) {accel.arena_offsets = array<i64: 512, 576, 1152>} : (tensor<3xf32>, tensor<f32>, tensor<3xf32>, tensor<f32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<3xf32>, tensor<f32>, tensor<f32>, tensor<f32>, tensor<f32>) -> (tensor<3xf32>, tensor<3xf32>, tensor<3xf32>) {
    ^bb0(%arg16: tensor<f32>, %arg17: tensor<f32>, %arg18: tensor<f32>, %arg19: tensor<f32>, %arg20: tensor<f32>, %arg21: tensor<f32>, %arg22: tensor<f32>, %arg23: tensor<f32>, %arg24: tensor<f32>, %arg25: tensor<f32>, %arg26: tensor<f32>, %arg27: tensor<f32>):
      %28 = accel.mul %arg16, %arg17 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %29 = accel.mul %arg18, %arg19 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %30 = accel.mul %arg20, %arg21 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %31 = accel.add %30, %29 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %32 = accel.mul %arg18, %arg18 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %33 = accel.mul %32, %arg22 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %34 = accel.mul %arg23, %arg24 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %35 = accel.add %34, %33 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %36 = accel.sqrt %35 : tensor<f32>
      %37 = accel.div %36, %arg25 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %38 = accel.add %37, %arg26 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %39 = accel.div %31, %38 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %40 = accel.mul %arg27, %39 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      %41 = accel.sub %28, %40 : (tensor<f32>, tensor<f32>) -> tensor<f32>
      accel.yield %31, %35, %41 : tensor<f32>, tensor<f32>, tensor<f32>
    }
    return %3, %24#2, %25#2, %26#2, %27#2, %24#0, %24#1, %25#0, %25#1, %26#0, %26#1, %27#0, %27#1 : tensor<f32>, tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<6xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3x6xf32>, tensor<3xf32>, tensor<3xf32>
  }
}

