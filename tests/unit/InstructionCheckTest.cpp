//===- InstructionCheckTest.cpp - instructions their kernels cannot run ---===//
//
// Each case is one instruction that a program file could hold (its buffer
// indices valid, the file well-formed) but that would make its kernel read
// outside a buffer or divide by zero: checkProgram must refuse it, naming
// it, and accept the same instruction made right.
//
//===----------------------------------------------------------------------===//

#include "runtime/executor/ProgramCheck.h"

#include "gtest/gtest.h"

#include <string>
#include <vector>

namespace accel::rt {
namespace {

using Role = BufferDesc::Role;
using F = ElementType;

/// A program of input buffers and one instruction.
class OneInstruction {
public:
  int buffer(ElementType type, std::vector<int64_t> shape) {
    p.buffers.push_back({Role::Input, "", type, std::move(shape)});
    return static_cast<int>(p.buffers.size()) - 1;
  }
  int f32(std::vector<int64_t> shape) {
    return buffer(F::F32, std::move(shape));
  }

  /// checkProgram's message for a program running `in`, or "".
  std::string check(Instruction in) {
    p.code = {in};
    p.results = {{in.results.empty() ? 0 : in.results[0]}};
    if (in.kernel == Kernel::Fused && p.fusedBodies.empty())
      p.fusedBodies.push_back({{{Kernel::Relu, 0}}, {1}});
    llvm::Error e = checkProgram(p);
    return e ? llvm::toString(std::move(e)) : "";
  }

private:
  Program p;
};

TEST(InstructionCheckTest, OperandAndResultCounts) {
  OneInstruction b;
  int x = b.f32({4, 3}), w = b.f32({2, 3}), y = b.f32({4, 2});
  EXPECT_EQ(b.check({Kernel::Linear, {x}, {y}, {}, {}}),
            "invalid program: instruction #0 (Linear) has 1 operands; its "
            "kernel takes 2 to 3");
  EXPECT_EQ(b.check({Kernel::Linear, {x, w}, {}, {}, {}}),
            "invalid program: instruction #0 (Linear) has 0 results; its "
            "kernel makes 1");
  EXPECT_EQ(b.check({Kernel::Linear, {x, w}, {y}, {}, {}}), "");
  EXPECT_EQ(b.check({Kernel::Slice, {x}, {y}, {1, 0, 2}, {}}),
            "invalid program: instruction #0 (Slice) carries 3 ints and 0 "
            "floats; its kernel reads 4 and 0");
  EXPECT_EQ(b.check({Kernel::Clamp, {x}, {x}, {}, {0.0}}),
            "invalid program: instruction #0 (Clamp) carries 0 ints and 1 "
            "floats; its kernel reads 0 and 2");
  EXPECT_EQ(b.check({Kernel::BatchedMatmul, {x, w}, {y}, {1}, {}}),
            "invalid program: instruction #0 (BatchedMatmul) carries 1 ints; "
            "its kernel reads two transpose flags or none");
}

TEST(InstructionCheckTest, ElementTypes) {
  OneInstruction b;
  int table = b.f32({10, 4}), idx = b.buffer(F::I64, {6}), y = b.f32({6, 4});
  int flag = b.buffer(F::I1, {1}), small = b.buffer(F::I1, {6});
  EXPECT_EQ(b.check({Kernel::Embedding, {table, y}, {y}, {}, {}}),
            "invalid program: instruction #0 (Embedding) operand 1 is f32; "
            "its kernel reads i64");
  EXPECT_EQ(b.check({Kernel::Embedding, {table, idx}, {y}, {}, {}}), "");
  // A float kernel reading a 1-byte buffer as floats would overrun it.
  EXPECT_EQ(b.check({Kernel::Relu, {small}, {small}, {}, {}}),
            "invalid program: instruction #0 (Relu) operand 0 is i1; its "
            "kernel reads a float type");
  EXPECT_EQ(b.check({Kernel::AllFinite, {y}, {y}, {}, {}}),
            "invalid program: instruction #0 (AllFinite) result 0 is f32; its "
            "kernel reads i1");
  EXPECT_EQ(b.check({Kernel::Select, {flag, y, y}, {y}, {}, {}}), "");
  int bf16 = b.buffer(F::BF16, {6, 4}); // runs on an f32 copy
  EXPECT_EQ(b.check({Kernel::Relu, {bf16}, {y}, {}, {}}), "");
}

TEST(InstructionCheckTest, Products) {
  OneInstruction b;
  int x = b.f32({4, 3}), w = b.f32({2, 3}), y = b.f32({4, 2});
  int wide = b.f32({2, 5}), bias = b.f32({3}), empty = b.f32({0, 3});
  EXPECT_EQ(b.check({Kernel::Linear, {x, wide}, {y}, {}, {}}),
            "invalid program: instruction #0 (Linear) multiplies [4x3] by "
            "weight [2x5] into [4x2]");
  EXPECT_EQ(b.check({Kernel::Linear, {x, w, bias}, {y}, {}, {}}),
            "invalid program: instruction #0 (Linear) has a bias of 3 "
            "elements for 2 outputs");
  EXPECT_NE(b.check({Kernel::Linear, {x, empty}, {y}, {}, {}}), "");
  int a = b.f32({5, 4, 3}), c = b.f32({3, 2}), out = b.f32({5, 4, 2});
  EXPECT_EQ(b.check({Kernel::BatchedMatmul, {a, c}, {out}, {}, {}}), "");
  EXPECT_EQ(b.check({Kernel::BatchedMatmul, {a, c}, {out}, {0, 1}, {}}),
            "invalid program: instruction #0 (BatchedMatmul) multiplies "
            "[5x4x3] by [3x2]^T into [5x4x2]");
}

TEST(InstructionCheckTest, SlicesConcatenationsPermutations) {
  OneInstruction b;
  int x = b.f32({2, 6, 3}), y = b.f32({2, 2, 3}), z = b.f32({2, 4, 3});
  EXPECT_EQ(b.check({Kernel::Slice, {x}, {y}, {1, 1, 5, 2}, {}}), "");
  EXPECT_EQ(b.check({Kernel::Slice, {x}, {y}, {1, 1, 9, 2}, {}}),
            "invalid program: instruction #0 (Slice) slices 1:9:2 of a "
            "dimension of 6");
  EXPECT_EQ(b.check({Kernel::Slice, {x}, {y}, {3, 0, 1, 1}, {}}),
            "invalid program: instruction #0 (Slice) slices dimension 3 of a "
            "rank-3 tensor");
  EXPECT_EQ(b.check({Kernel::Slice, {x}, {y}, {1, 0, 6, 0}, {}}),
            "invalid program: instruction #0 (Slice) slices 0:6:0 of a "
            "dimension of 6");
  EXPECT_EQ(b.check({Kernel::SliceGrad, {y}, {x}, {1, 1, 5, 2}, {}}), "");
  EXPECT_EQ(b.check({Kernel::SliceGrad, {z}, {x}, {1, 1, 5, 2}, {}}),
            "invalid program: instruction #0 (SliceGrad) its gradient is "
            "[2x4x3], not [2x2x3]");
  EXPECT_EQ(b.check({Kernel::Concat, {y, z}, {x}, {1}, {}}), "");
  EXPECT_EQ(b.check({Kernel::Concat, {y, y}, {x}, {1}, {}}),
            "invalid program: instruction #0 (Concat) joins 4 rows into 6");
  EXPECT_NE(b.check({Kernel::Concat, {y, z}, {x}, {3}, {}}), "");
  int t = b.f32({3, 2, 6});
  EXPECT_EQ(b.check({Kernel::Permute, {x}, {t}, {2, 0, 1}, {}}), "");
  // Indices past the rank are refused before any shape is read by them.
  EXPECT_EQ(b.check({Kernel::Permute, {x}, {t}, {5, 0, 1}, {}}),
            "invalid program: instruction #0 (Permute) does not permute "
            "[2x6x3] into [3x2x6]");
  EXPECT_NE(b.check({Kernel::Permute, {x}, {t}, {0, 0, 1}, {}}), "");
}

TEST(InstructionCheckTest, ReductionsNormsAndLosses) {
  OneInstruction b;
  int x = b.f32({4, 5}), row = b.f32({5}), col = b.f32({4}), one = b.f32({1});
  EXPECT_EQ(b.check({Kernel::Sum, {x}, {row}, {0}, {}}), "");
  EXPECT_EQ(b.check({Kernel::Sum, {x}, {row}, {0, 0}, {}}),
            "invalid program: instruction #0 (Sum) reduces dimension 0 of "
            "[4x5] (out of range, or twice)");
  EXPECT_NE(b.check({Kernel::Sum, {x}, {col}, {0}, {}}), "");
  int empty = b.f32({4, 0});
  EXPECT_EQ(b.check({Kernel::Softmax, {empty}, {empty}, {}, {}}),
            "invalid program: instruction #0 (Softmax) normalises rows of "
            "[4x0]; rows must have an element");
  int labels = b.buffer(F::I64, {4}), few = b.buffer(F::I64, {3});
  EXPECT_EQ(
      b.check({Kernel::CrossEntropy, {x, labels}, {one}, {1, -100}, {0.0}}),
      "");
  EXPECT_EQ(b.check({Kernel::CrossEntropy, {x, few}, {one}, {1, -100}, {0.0}}),
            "invalid program: instruction #0 (CrossEntropy) takes logits "
            "[4x5] with 3 targets");
  EXPECT_NE(
      b.check({Kernel::CrossEntropy, {x, labels}, {one}, {0, -100}, {0.0}}),
      "");
  EXPECT_EQ(b.check({Kernel::MseLoss, {x, x}, {one}, {1}, {}}), "");
  EXPECT_NE(b.check({Kernel::MseLoss, {x, row}, {one}, {1}, {}}), "");
  EXPECT_EQ(b.check({Kernel::LayerNorm, {x, row, row}, {x}, {1, 1, 5}, {1e-5}}),
            "");
  EXPECT_EQ(b.check({Kernel::LayerNorm, {x, row}, {x}, {1, 1, 5}, {1e-5}}),
            "invalid program: instruction #0 (LayerNorm) has 2 operands for "
            "its weight and bias flags");
  int three = b.f32({3});
  EXPECT_EQ(b.check({Kernel::LayerNorm, {x, three}, {x}, {1, 0, 3}, {1e-5}}),
            "invalid program: instruction #0 (LayerNorm) normalises 20 "
            "elements in rows of 3");
  EXPECT_EQ(b.check({Kernel::LayerNorm, {x, col}, {x}, {1, 0, 5}, {1e-5}}),
            "invalid program: instruction #0 (LayerNorm) has a weight or bias "
            "of 4 elements for rows of 5");
  EXPECT_EQ(b.check({Kernel::LayerNormGrad,
                     {x, x, row},
                     {x, row, row},
                     {1, 1, 5},
                     {1e-5}}),
            "");
}

TEST(InstructionCheckTest, ConvolutionsPoolsAndBatchNorms) {
  OneInstruction b;
  int x = b.f32({2, 4, 8, 8}), w = b.f32({6, 2, 3, 3}), y = b.f32({2, 6, 6, 6});
  std::vector<int64_t> conv = {1, 1, 0, 0, 1, 1, 2}; // groups 2
  EXPECT_EQ(b.check({Kernel::Conv2d, {x, w}, {y}, conv, {}}), "");
  std::vector<int64_t> oneGroup = {1, 1, 0, 0, 1, 1, 1};
  EXPECT_EQ(b.check({Kernel::Conv2d, {x, w}, {y}, oneGroup, {}}),
            "invalid program: instruction #0 (Conv2d) convolves [2x4x8x8] "
            "with [6x2x3x3] in 1 groups into [2x6x6x6]");
  std::vector<int64_t> noStride = {0, 1, 0, 0, 1, 1, 2};
  EXPECT_NE(b.check({Kernel::Conv2d, {x, w}, {y}, noStride, {}}), "");
  EXPECT_EQ(b.check({Kernel::Conv2dGradWeight, {y, x}, {w}, conv, {}}), "");
  int pooled = b.f32({2, 4, 4, 4}), other = b.f32({2, 3, 4, 4});
  std::vector<int64_t> pool = {2, 2, 2, 2, 0, 0, 1, 1, 0};
  EXPECT_EQ(b.check({Kernel::MaxPool2d, {x}, {pooled}, pool, {}}), "");
  EXPECT_EQ(b.check({Kernel::MaxPool2d, {x}, {other}, pool, {}}),
            "invalid program: instruction #0 (MaxPool2d) pools [2x4x8x8] into "
            "[2x3x4x4]");
  EXPECT_EQ(b.check({Kernel::MaxPool2dGrad, {pooled, x}, {x}, pool, {}}), "");
  int c = b.f32({4}), c6 = b.f32({6});
  EXPECT_EQ(
      b.check(
          {Kernel::BatchNorm, {x, c, c, c, c}, {x, c, c}, {1}, {1e-5, 0.1}}),
      "");
  EXPECT_EQ(
      b.check(
          {Kernel::BatchNorm, {x, c, c6, c, c}, {x, c, c}, {1}, {1e-5, 0.1}}),
      "invalid program: instruction #0 (BatchNorm) has operand 2 of 6 "
      "elements for 4 channels");
}

TEST(InstructionCheckTest, Fp8ScalesFitTheirGroups) {
  OneInstruction b;
  int x = b.f32({4, 64}), q = b.buffer(F::F8E4M3FN, {4, 64});
  int one = b.f32({}), rows = b.f32({4}),
      blocks = b.buffer(F::F8E8M0FNU, {4, 2});
  EXPECT_EQ(b.check({Kernel::Fp8Quantize, {x}, {q, one}, {0, 0}, {448.0}}), "");
  EXPECT_EQ(b.check({Kernel::Fp8Quantize, {x}, {q, rows}, {1, 1}, {448.0}}),
            "");
  EXPECT_EQ(b.check({Kernel::Fp8Quantize, {x}, {q, blocks}, {2, 0}, {448.0}}),
            "");
  EXPECT_EQ(b.check({Kernel::Fp8Quantize, {x}, {q, one}, {1, 1}, {448.0}}),
            "invalid program: instruction #0 (Fp8Quantize) has 1 scales for 4 "
            "groups");
  EXPECT_EQ(b.check({Kernel::Fp8Quantize, {x}, {q, one}, {3, 0}, {448.0}}),
            "invalid program: instruction #0 (Fp8Quantize) has scaling 3 (0 "
            "tensorwise, 1 rowwise, 2 MX blocks)");
  int odd = b.f32({4, 48}), oddQ = b.buffer(F::F8E4M3FN, {4, 48});
  EXPECT_EQ(
      b.check({Kernel::Fp8Quantize, {odd}, {oddQ, blocks}, {2, 0}, {448.0}}),
      "invalid program: instruction #0 (Fp8Quantize) scales blocks of 32 "
      "along rows of 48");
  int wq = b.buffer(F::F8E4M3FN, {8, 64}), wScales = b.f32({8}),
      out = b.f32({4, 8});
  EXPECT_EQ(
      b.check(
          {Kernel::ScaledMatmul, {q, rows, wq, wScales}, {out}, {1, 1, 0}, {}}),
      "");
  EXPECT_EQ(
      b.check(
          {Kernel::ScaledMatmul, {q, rows, wq, rows}, {out}, {1, 1, 0}, {}}),
      "invalid program: instruction #0 (ScaledMatmul) has 4 and 4 "
      "scales for 4 and 8 groups");
  int history = b.f32({16});
  EXPECT_EQ(b.check({Kernel::Fp8ScaleUpdate,
                     {history, one, one},
                     {history, one},
                     {0, 0},
                     {448.0}}),
            "");
  EXPECT_NE(b.check({Kernel::Fp8ScaleUpdate,
                     {history, one, one},
                     {history, one},
                     {2, 0},
                     {448.0}}),
            "");
}

TEST(InstructionCheckTest, MovesMasksAndGradients) {
  OneInstruction b;
  int x = b.f32({4, 3}), small = b.f32({2, 3}), row = b.f32({3});
  int flag = b.buffer(F::I1, {1}), mask = b.buffer(F::I1, {4, 3});
  int seed = b.buffer(F::I64, {1}), none = b.buffer(F::I1, {0});
  EXPECT_EQ(b.check({Kernel::Copy, {small}, {x}, {}, {}}),
            "invalid program: instruction #0 (Copy) copies 48 bytes from a "
            "24-byte buffer");
  EXPECT_EQ(b.check({Kernel::Select, {flag, small, x}, {x}, {}, {}}),
            "invalid program: instruction #0 (Select) chooses between buffers "
            "smaller than its result, or has no flag");
  EXPECT_EQ(b.check({Kernel::BroadcastTo, {row}, {x}, {}, {}}), "");
  EXPECT_EQ(b.check({Kernel::BroadcastTo, {small}, {x}, {}, {}}),
            "invalid program: instruction #0 (BroadcastTo) broadcasts [2x3] "
            "to [4x3]");
  EXPECT_EQ(b.check({Kernel::MaskedFill, {x, mask}, {x}, {}, {0.0}}), "");
  EXPECT_EQ(b.check({Kernel::MaskedFill, {x, flag}, {small}, {}, {0.0}}),
            "invalid program: instruction #0 (MaskedFill) combines [4x3] and "
            "[1] into [2x3]");
  EXPECT_EQ(b.check({Kernel::Dropout, {x, seed}, {x}, {0, 0, 0}, {0.1}}), "");
  EXPECT_EQ(
      b.check(
          {Kernel::Dropout, {x, b.buffer(F::I64, {0})}, {x}, {0, 0, 0}, {0.1}}),
      "invalid program: instruction #0 (Dropout) draws a mask without a "
      "seed");
  EXPECT_EQ(b.check({Kernel::AllFinite, {x}, {none}, {}, {}}),
            "invalid program: instruction #0 (AllFinite) has no flag to "
            "write");
  EXPECT_EQ(b.check({Kernel::Fused, {x, row}, {x}, {0}, {}}),
            "invalid program: instruction #0 (Fused) has operand 1 of 3 "
            "elements for results of 12");
  int idx = b.buffer(F::I64, {4}), table = b.f32({10, 3});
  EXPECT_EQ(b.check({Kernel::EmbeddingGrad, {x, idx}, {table}, {}, {}}), "");
  EXPECT_EQ(b.check({Kernel::EmbeddingGrad, {small, idx}, {table}, {}, {}}),
            "invalid program: instruction #0 (EmbeddingGrad) scatters [2x3] by "
            "4 indices into [10x3]");
  int grad = b.f32({}), perSample = b.f32({4});
  EXPECT_EQ(b.check({Kernel::CrossEntropyGrad,
                     {perSample, x, idx},
                     {x},
                     {0, -100},
                     {0.0}}),
            "");
  EXPECT_EQ(
      b.check(
          {Kernel::CrossEntropyGrad, {grad, x, idx}, {x}, {0, -100}, {0.0}}),
      "invalid program: instruction #0 (CrossEntropyGrad) has a loss "
      "gradient of 1 elements");
  int c4 = b.f32({4});
  EXPECT_EQ(b.check({Kernel::LayerNormGrad,
                     {x, x, row},
                     {x, row, c4},
                     {1, 0, 3},
                     {1e-5}}),
            "invalid program: instruction #0 (LayerNormGrad) has a parameter "
            "gradient of 4 elements for rows of 3");
  int images = b.f32({2, 4, 3, 3});
  EXPECT_EQ(b.check({Kernel::BatchNormGrad,
                     {images, images, c4, c4, c4},
                     {images, c4, c4},
                     {1},
                     {1e-5}}),
            "");
  EXPECT_EQ(b.check({Kernel::BatchNormGrad,
                     {images, images, c4, c4, c4},
                     {images, c4, row},
                     {1},
                     {1e-5}}),
            "invalid program: instruction #0 (BatchNormGrad) has per-channel "
            "results of other sizes than its 4 channels");
}

TEST(InstructionCheckTest, HostileIntsAndShapes) {
  OneInstruction b;
  // Shapes whose products overflow 64 bits (the buffers hold no element).
  int huge = b.f32({0, int64_t(1) << 40, int64_t(1) << 40});
  int none = b.f32({0});
  EXPECT_EQ(b.check({Kernel::Sum, {huge}, {none}, {0}, {}}),
            "invalid program: instruction #0 (Sum) reduces [0x1099511627776x"
            "1099511627776] into 0 elements");
  // Geometry past 2^31 would overflow the kernels' index arithmetic.
  int x = b.f32({1, 1, 4, 4}), k = b.f32({1, 1, 3, 3}), y = b.f32({1, 1, 2, 2});
  EXPECT_EQ(b.check({Kernel::Conv2d, {x, k}, {y}, {1, 1, 0, 0, 1, 1, 1}, {}}),
            "");
  EXPECT_EQ(b.check({Kernel::Conv2d,
                     {x, k},
                     {y},
                     {2, 2, int64_t(1) << 62, 0, 1, 1, 1},
                     {}}),
            "invalid program: instruction #0 (Conv2d) has strides and "
            "dilations below 1, negative padding or no groups, or one above "
            "2^31");
  EXPECT_NE(b.check({Kernel::MaxPool2d,
                     {x},
                     {y},
                     {2, 2, int64_t(1) << 62, 2, 0, 0, 1, 1, 0},
                     {}}),
            "");
  int row = b.f32({4});
  EXPECT_EQ(b.check({Kernel::Slice,
                     {row},
                     {b.f32({1})},
                     {0, 0, 4, int64_t(1) << 62},
                     {}}),
            "invalid program: instruction #0 (Slice) slices "
            "0:4:4611686018427387904 of a dimension of 4");
  // Rows of no element: the tensorwise amax would have nowhere to go.
  int empty = b.f32({4, 0}), q = b.buffer(F::F8E4M3FN, {4, 0});
  EXPECT_NE(
      b.check({Kernel::Fp8Quantize, {empty}, {q, b.f32({})}, {0, 0}, {448.0}}),
      "");
  int scale = b.f32({});
  EXPECT_EQ(b.check({Kernel::Fp8ScaleUpdate,
                     {none, scale, scale},
                     {none, scale},
                     {0, 0},
                     {448.0}}),
            "invalid program: instruction #0 (Fp8ScaleUpdate) has an empty "
            "history, scale or amax");
  // A fused instruction's results fill a fixed array of registers.
  std::vector<int> many(65, row);
  EXPECT_EQ(b.check({Kernel::Fused, {row}, many, {0}, {}}),
            "invalid program: instruction #0 (Fused) has more than 64 operands "
            "or results");
}

} // namespace
} // namespace accel::rt
