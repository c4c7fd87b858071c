module {
  func.func @forward(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<2x4xf32> {accel.input = "input"}, %arg5: tensor<2xi64> {accel.input = "y"}) -> tensor<f32> attributes {accel.autocast_policy = "cpu", accel.precision = "bf16"} {
    %0 = accel.cast %arg4 {accel.autocast = "input cast: input"} : tensor<2x4xf32> -> tensor<2x4xbf16>
    %1 = accel.cast %arg0 {accel.autocast = "parameter cast: 0.weight"} : tensor<6x4xf32> -> tensor<6x4xbf16>
    %2 = accel.cast %arg1 {accel.autocast = "parameter cast: 0.bias"} : tensor<6xf32> -> tensor<6xbf16>
    %3 = accel.cast %arg2 {accel.autocast = "parameter cast: 2.weight"} : tensor<3x6xf32> -> tensor<3x6xbf16>
    %4 = accel.cast %arg3 {accel.autocast = "parameter cast: 2.bias"} : tensor<3xf32> -> tensor<3xbf16>
    %5 = accel.linear %0, %1, %2 {accel.autocast = "cpu lower_precision_fp: linear"} : (tensor<2x4xbf16>, tensor<6x4xbf16>, tensor<6xbf16>) -> tensor<2x6xbf16>
    %6 = accel.relu %5 : tensor<2x6xbf16>
    %7 = accel.linear %6, %3, %4 {accel.autocast = "cpu lower_precision_fp: linear"} : (tensor<2x6xbf16>, tensor<3x6xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
    %8 = accel.cast %7 {accel.autocast = "operand cast for accel.cross_entropy"} : tensor<2x3xbf16> -> tensor<2x3xf32>
    %9 = accel.cross_entropy %8, %arg5 {accel.autocast = "cpu fp32: cross_entropy_loss"} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    return %9 : tensor<f32>
  }
  func.func @forward_grad(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<2x4xf32> {accel.input = "input"}, %arg5: tensor<2xi64> {accel.input = "y"}) -> (tensor<f32>, tensor<6x4xf32> {accel.grad = "0.weight"}, tensor<6xf32> {accel.grad = "0.bias"}, tensor<3x6xf32> {accel.grad = "2.weight"}, tensor<3xf32> {accel.grad = "2.bias"}) attributes {accel.autocast_policy = "cpu", accel.precision = "bf16"} {
    %cst = arith.constant dense<1.000000e+00> : tensor<f32>
    %0 = accel.cast %arg4 {accel.autocast = "input cast: input"} : tensor<2x4xf32> -> tensor<2x4xbf16>
    %1 = accel.cast %arg0 {accel.autocast = "parameter cast: 0.weight"} : tensor<6x4xf32> -> tensor<6x4xbf16>
    %2 = accel.cast %arg1 {accel.autocast = "parameter cast: 0.bias"} : tensor<6xf32> -> tensor<6xbf16>
    %3 = accel.cast %arg2 {accel.autocast = "parameter cast: 2.weight"} : tensor<3x6xf32> -> tensor<3x6xbf16>
    %4 = accel.cast %arg3 {accel.autocast = "parameter cast: 2.bias"} : tensor<3xf32> -> tensor<3xbf16>
    %5 = accel.linear %0, %1, %2 {accel.autocast = "cpu lower_precision_fp: linear"} : (tensor<2x4xbf16>, tensor<6x4xbf16>, tensor<6xbf16>) -> tensor<2x6xbf16>
    %6 = accel.relu %5 : tensor<2x6xbf16>
    %7 = accel.linear %6, %3, %4 {accel.autocast = "cpu lower_precision_fp: linear"} : (tensor<2x6xbf16>, tensor<3x6xbf16>, tensor<3xbf16>) -> tensor<2x3xbf16>
    %8 = accel.cast %7 {accel.autocast = "operand cast for accel.cross_entropy"} : tensor<2x3xbf16> -> tensor<2x3xf32>
    %9 = accel.cross_entropy %8, %arg5 {accel.autocast = "cpu fp32: cross_entropy_loss"} : (tensor<2x3xf32>, tensor<2xi64>) -> tensor<f32>
    %10 = accel.cross_entropy_grad %cst, %8, %arg5 : (tensor<f32>, tensor<2x3xf32>, tensor<2xi64>) -> tensor<2x3xf32>
    %11 = accel.cast %10 : tensor<2x3xf32> -> tensor<2x3xbf16>
    %12 = accel.matmul %11, %3 : (tensor<2x3xbf16>, tensor<3x6xbf16>) -> tensor<2x6xbf16>
    %13 = accel.transpose %11 {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x3xbf16>) -> tensor<3x2xbf16>
    %14 = accel.matmul %13, %6 : (tensor<3x2xbf16>, tensor<2x6xbf16>) -> tensor<3x6xbf16>
    %15 = accel.sum %11 {dims = array<i64: 0>} : (tensor<2x3xbf16>) -> tensor<3xbf16>
    %16 = accel.relu_grad %12, %5 : (tensor<2x6xbf16>, tensor<2x6xbf16>) -> tensor<2x6xbf16>
    %17 = accel.transpose %16 {dim0 = 0 : i64, dim1 = 1 : i64} : (tensor<2x6xbf16>) -> tensor<6x2xbf16>
    %18 = accel.matmul %17, %0 : (tensor<6x2xbf16>, tensor<2x4xbf16>) -> tensor<6x4xbf16>
    %19 = accel.sum %16 {dims = array<i64: 0>} : (tensor<2x6xbf16>) -> tensor<6xbf16>
    %20 = accel.cast %15 : tensor<3xbf16> -> tensor<3xf32>
    %21 = accel.cast %14 : tensor<3x6xbf16> -> tensor<3x6xf32>
    %22 = accel.cast %19 : tensor<6xbf16> -> tensor<6xf32>
    %23 = accel.cast %18 : tensor<6x4xbf16> -> tensor<6x4xf32>
    return %9, %23, %22, %21, %20 : tensor<f32>, tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>
  }
  func.func @train_step(%arg0: tensor<6x4xf32> {accel.param = "0.weight"}, %arg1: tensor<6xf32> {accel.param = "0.bias"}, %arg2: tensor<3x6xf32> {accel.param = "2.weight"}, %arg3: tensor<3xf32> {accel.param = "2.bias"}, %arg4: tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg"}, %arg5: tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg_sq"}, %arg6: tensor<6xf32> {accel.opt_state = "0.bias.exp_avg"}, %arg7: tensor<6xf32> {accel.opt_state = "0.bias.exp_avg_sq"}, %arg8: tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg"}, %arg9: tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg_sq"}, %arg10: tensor<3xf32> {accel.opt_state = "2.bias.exp_avg"}, %arg11: tensor<3xf32> {accel.opt_state = "2.bias.exp_avg_sq"}, %arg12: tensor<2x4xf32> {accel.input = "input"}, %arg13: tensor<2xi64> {accel.input = "y"}, %arg14: tensor<i64> {accel.step = "step"}, %arg15: tensor<f32> {accel.lr = "lr"}) -> (tensor<f32>, tensor<6x4xf32> {accel.param = "0.weight"}, tensor<6xf32> {accel.param = "0.bias"}, tensor<3x6xf32> {accel.param = "2.weight"}, tensor<3xf32> {accel.param = "2.bias"}, tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg"}, tensor<6x4xf32> {accel.opt_state = "0.weight.exp_avg_sq"}, tensor<6xf32> {accel.opt_state = "0.bias.exp_avg"}, tensor<6xf32> {accel.opt_state = "0.bias.exp_avg_sq"}, tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg"}, tensor<3x6xf32> {accel.opt_state = "2.weight.exp_avg_sq"}, tensor<3xf32> {accel.opt_state = "2.bias.exp_avg"}, tensor<3xf32> {accel.opt_state = "2.bias.exp_avg_sq"}) attributes {accel.default_lr = 1.000000e-03 : f64, accel.grad_accum = 1 : i64} {
    %cst = arith.constant dense<9.99999993E-9> : tensor<f32>
    %cst_0 = arith.constant dense<-0.00100050028> : tensor<f32>
    %cst_1 = arith.constant dense<-0.105360515> : tensor<f32>
    %cst_2 = arith.constant dense<9.990000e-01> : tensor<f32>
    %cst_3 = arith.constant dense<1.000000e-03> : tensor<f32>
    %cst_4 = arith.constant dense<0.899999976> : tensor<f32>
    %cst_5 = arith.constant dense<1.000000e-01> : tensor<f32>
    %cst_6 = arith.constant dense<1.000000e+00> : tensor<f32>
    %cst_7 = arith.constant dense<0.00999999977> : tensor<f32>
    %0:5 = call @forward_grad(%arg0, %arg1, %arg2, %arg3, %arg12, %arg13) : (tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>, tensor<2x4xf32>, tensor<2xi64>) -> (tensor<f32>, tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>)
    %1 = accel.cast %arg14 : tensor<i64> -> tensor<f32>
    %2 = accel.mul %arg15, %cst_7 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %3 = accel.sub %cst_6, %2 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %4 = accel.mul %arg0, %3 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %5 = accel.mul %0#1, %cst_5 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %6 = accel.mul %arg4, %cst_4 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %7 = accel.add %6, %5 : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %8 = accel.mul %0#1, %0#1 : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %9 = accel.mul %8, %cst_3 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %10 = accel.mul %arg5, %cst_2 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %11 = accel.add %10, %9 : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %12 = accel.mul %1, %cst_1 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %13 = accel.exp %12 : tensor<f32>
    %14 = accel.sub %cst_6, %13 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %15 = accel.div %arg15, %14 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %16 = accel.mul %1, %cst_0 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %17 = accel.exp %16 : tensor<f32>
    %18 = accel.sub %cst_6, %17 : (tensor<f32>, tensor<f32>) -> tensor<f32>
    %19 = accel.sqrt %18 : tensor<f32>
    %20 = accel.sqrt %11 : tensor<6x4xf32>
    %21 = accel.div %20, %19 : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %22 = accel.add %21, %cst : (tensor<6x4xf32>, tensor<f32>) -> tensor<6x4xf32>
    %23 = accel.div %7, %22 : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %24 = accel.mul %15, %23 : (tensor<f32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %25 = accel.sub %4, %24 : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    %26 = accel.mul %arg1, %3 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %27 = accel.mul %0#2, %cst_5 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %28 = accel.mul %arg6, %cst_4 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %29 = accel.add %28, %27 : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
    %30 = accel.mul %0#2, %0#2 : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
    %31 = accel.mul %30, %cst_3 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %32 = accel.mul %arg7, %cst_2 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %33 = accel.add %32, %31 : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
    %34 = accel.sqrt %33 : tensor<6xf32>
    %35 = accel.div %34, %19 : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %36 = accel.add %35, %cst : (tensor<6xf32>, tensor<f32>) -> tensor<6xf32>
    %37 = accel.div %29, %36 : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
    %38 = accel.mul %15, %37 : (tensor<f32>, tensor<6xf32>) -> tensor<6xf32>
    %39 = accel.sub %26, %38 : (tensor<6xf32>, tensor<6xf32>) -> tensor<6xf32>
    %40 = accel.mul %arg2, %3 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %41 = accel.mul %0#3, %cst_5 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %42 = accel.mul %arg8, %cst_4 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %43 = accel.add %42, %41 : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %44 = accel.mul %0#3, %0#3 : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %45 = accel.mul %44, %cst_3 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %46 = accel.mul %arg9, %cst_2 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %47 = accel.add %46, %45 : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %48 = accel.sqrt %47 : tensor<3x6xf32>
    %49 = accel.div %48, %19 : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %50 = accel.add %49, %cst : (tensor<3x6xf32>, tensor<f32>) -> tensor<3x6xf32>
    %51 = accel.div %43, %50 : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %52 = accel.mul %15, %51 : (tensor<f32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %53 = accel.sub %40, %52 : (tensor<3x6xf32>, tensor<3x6xf32>) -> tensor<3x6xf32>
    %54 = accel.mul %arg3, %3 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %55 = accel.mul %0#4, %cst_5 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %56 = accel.mul %arg10, %cst_4 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %57 = accel.add %56, %55 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %58 = accel.mul %0#4, %0#4 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %59 = accel.mul %58, %cst_3 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %60 = accel.mul %arg11, %cst_2 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %61 = accel.add %60, %59 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %62 = accel.sqrt %61 : tensor<3xf32>
    %63 = accel.div %62, %19 : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %64 = accel.add %63, %cst : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
    %65 = accel.div %57, %64 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    %66 = accel.mul %15, %65 : (tensor<f32>, tensor<3xf32>) -> tensor<3xf32>
    %67 = accel.sub %54, %66 : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
    return %0#0, %25, %39, %53, %67, %7, %11, %29, %33, %43, %47, %57, %61 : tensor<f32>, tensor<6x4xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<6xf32>, tensor<6xf32>, tensor<3x6xf32>, tensor<3x6xf32>, tensor<3xf32>, tensor<3xf32>
  }
}

