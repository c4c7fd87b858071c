//===- Float8Recipes.h - what each FP8 recipe quantises ---------*- C++ -*-===//
//
// The FP8 recipes as data: for each of a linear's three GEMMs (output,
// grad_lhs, grad_rhs, all in lhs · rhsᵀ form), the format and scaling of
// each operand, or high precision. accel.scaled_matmul's VJP builds the
// backward GEMMs from it and accel-precision-report prints it, so the two
// cannot disagree. The table follows torchao 0.18's Float8LinearConfig
// recipes (docs/fp8-recipes.md).
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_DIALECT_ACCEL_FLOAT8RECIPES_H
#define ACCEL_DIALECT_ACCEL_FLOAT8RECIPES_H

#include "dialects/accel/AccelOps.h"

#include <string>

namespace accel {

enum class Fp8Format { E4M3FN, E5M2 };

/// How one GEMM operand is quantised.
struct Fp8Cast {
  Fp8Format format;
  Fp8Scaling scaling;
  bool roundScaleToPow2;
  /// Scaled by delayed scaling's state rather than the operand's own amax.
  bool delayed = false;

  mlir::FloatType type(mlir::MLIRContext *context) const;
  /// "e4m3fn rowwise pow2", for reports.
  std::string str() const;
};

/// One GEMM lhs · rhsᵀ: both operands quantised, or neither.
struct Fp8Gemm {
  bool highPrecision;
  Fp8Cast lhs, rhs;
  std::string str() const;
};

/// A linear y = x Wᵀ in lhs · rhsᵀ form: output = x · Wᵀ,
/// grad_lhs (dgrad) = g · (Wᵀ)ᵀ, grad_rhs (wgrad) = gᵀ · (xᵀ)ᵀ. The
/// backward operands are re-quantised from high precision.
struct Fp8RecipePlan {
  Fp8Gemm output, gradLhs, gradRhs;
};

/// The plan of `recipe`; `delayedGrad` is the incoming gradient's format
/// under the delayed recipe (E5M2 with format=hybrid, E4M3FN with e4m3).
Fp8RecipePlan planFor(Fp8Recipe recipe,
                      Fp8Format delayedGrad = Fp8Format::E5M2);

/// The recipe's name on the command line and in reports ("rowwise-gw-hp";
/// the IR's enum spells it with underscores).
std::string recipeName(Fp8Recipe recipe);

/// The scale type of quantising a [rows, cols] matrix with `scaling`:
/// tensor<f32>, tensor<rowsx1xf32>, or tensor<rowsx(cols/32)xf8E8M0FNU>.
mlir::RankedTensorType scaleTypeFor(mlir::MLIRContext *context,
                                    Fp8Scaling scaling, int64_t rows,
                                    int64_t cols);

/// Elements of a row that share one MX scale.
constexpr int64_t kMxBlockSize = 32;

/// Builds `accel.fp8_quantize` of the matrix `x` as `cast` says.
Fp8QuantizeOp buildFp8Quantize(mlir::OpBuilder &b, mlir::Location loc,
                               mlir::Value x, const Fp8Cast &cast);

} // namespace accel

#endif // ACCEL_DIALECT_ACCEL_FLOAT8RECIPES_H
