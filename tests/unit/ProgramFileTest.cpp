//===- ProgramFileTest.cpp - the lowered step as a file --------------------===//
//
// Round trips of every field a program has, and the files a reader must
// refuse: truncated at every length, of another format version, with a
// damaged body, naming a kernel or an enum value this runtime lacks, or
// describing a program checkProgram rejects. (Programs lowered from real
// models round-trip in tests/lit/run/program-file.test.)
//
//===----------------------------------------------------------------------===//

#include "runtime/io/ProgramFile.h"
#include "runtime/io/ProgramFile_generated.h"

#include "llvm/ADT/StringExtras.h"

#include "gtest/gtest.h"

#include <zlib.h>

namespace accel::rt {
namespace {

using Role = BufferDesc::Role;

/// Two data-parallel ranks (ZeRO-1) of a small step with every kind of
/// buffer, a fused body, each result kind and both index-bound forms.
Program richProgram() {
  Program p;
  p.ranks = 2;
  p.strategy = "zero1";
  p.microBatches = 2;
  p.defaultLr = 0.125;
  p.initialLossScale = 65536;
  p.arenaBytes = 64;
  p.buffers.push_back({Role::Param, "w", ElementType::F32, {4}}); // 0
  BufferDesc moment{Role::OptState, "w.exp_avg", ElementType::F32, {2}};
  moment.shardOf = {4};
  p.buffers.push_back(moment);                                     // 1
  p.buffers.push_back({Role::Input, "x", ElementType::BF16, {2, 4}}); // 2
  p.buffers.push_back({Role::Input, "y", ElementType::I64, {2}});  // 3
  BufferDesc scale{Role::Fp8State, "fp8.scale", ElementType::F32, {1}};
  scale.init = 1.5f;
  p.buffers.push_back(scale);                                      // 4
  BufferDesc c{Role::Constant, "", ElementType::F32, {4}};
  c.constant = {0, 0, 128, 63, 0, 0, 0, 64, 0, 0, 64, 64, 0, 0, 128, 64};
  p.buffers.push_back(c);                                          // 5
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {4}, 0}); // 6
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {4}, 16}); // 7
  BufferDesc view{Role::View, "", ElementType::F32, {2, 2}};
  view.viewOf = 7;
  p.buffers.push_back(view);                                       // 8
  p.buffers.push_back({Role::Lr, "lr", ElementType::F32, {}});     // 9
  p.code.push_back({Kernel::Add, {0, 5}, {6}, {}, {}});
  p.code.push_back({Kernel::Fused, {6, 9}, {7}, {0}, {}});
  p.code.push_back({Kernel::Clamp, {7}, {6}, {3}, {-0.5, 0.25}});
  p.fusedBodies.push_back(
      {{{Kernel::Mul, 0, 1}, {Kernel::Gelu, 2, -1, ElementType::BF16}}, {3}});
  p.results.push_back({8});
  ProgramResult state{6, ProgramResult::Kind::State, Role::Param, "w"};
  p.results.push_back(state);
  p.results.push_back({7, ProgramResult::Kind::Grad, Role::Arena, "w"});
  p.results.push_back({9, ProgramResult::Kind::Metric, Role::Arena, "gnorm"});
  p.indexBounds.push_back({"y", 10, -100, "the cross-entropy's classes"});
  p.indexBounds.push_back({"y", 10, std::nullopt, "an embedding table"});
  return p;
}

StepPrograms richPrograms() {
  StepPrograms s;
  s.trainStep = richProgram();
  s.classifier = EvalProgram{richProgram(), "y", -1};
  s.forwardGradError = "'step.mlir' has no @forward_grad";
  return s;
}

std::vector<uint8_t> serialize(const StepPrograms &programs) {
  return llvm::cantFail(serializeProgramFile(programs));
}

std::string read(const std::vector<uint8_t> &bytes) {
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size());
  llvm::Expected<StepPrograms> p = parseProgramFile(text, "step.accelprog");
  return p ? "" : llvm::toString(p.takeError());
}

void expectSame(const Program &a, const Program &b) {
  ASSERT_EQ(a.buffers.size(), b.buffers.size());
  for (size_t i = 0; i < a.buffers.size(); ++i) {
    const BufferDesc &x = a.buffers[i], &y = b.buffers[i];
    EXPECT_EQ(x.role, y.role) << i;
    EXPECT_EQ(x.name, y.name) << i;
    EXPECT_EQ(x.type, y.type) << i;
    EXPECT_EQ(x.shape, y.shape) << i;
    EXPECT_EQ(x.offset, y.offset) << i;
    EXPECT_EQ(x.constant, y.constant) << i;
    EXPECT_EQ(x.viewOf, y.viewOf) << i;
    EXPECT_EQ(x.init, y.init) << i;
    EXPECT_EQ(x.shardOf, y.shardOf) << i;
  }
  ASSERT_EQ(a.code.size(), b.code.size());
  for (size_t i = 0; i < a.code.size(); ++i) {
    EXPECT_EQ(a.code[i].kernel, b.code[i].kernel) << i;
    EXPECT_EQ(a.code[i].operands, b.code[i].operands) << i;
    EXPECT_EQ(a.code[i].results, b.code[i].results) << i;
    EXPECT_EQ(a.code[i].ints, b.code[i].ints) << i;
    EXPECT_EQ(a.code[i].floats, b.code[i].floats) << i;
  }
  ASSERT_EQ(a.fusedBodies.size(), b.fusedBodies.size());
  for (size_t i = 0; i < a.fusedBodies.size(); ++i) {
    const FusedBody &x = a.fusedBodies[i], &y = b.fusedBodies[i];
    ASSERT_EQ(x.steps.size(), y.steps.size());
    for (size_t s = 0; s < x.steps.size(); ++s) {
      EXPECT_EQ(x.steps[s].kernel, y.steps[s].kernel);
      EXPECT_EQ(x.steps[s].lhs, y.steps[s].lhs);
      EXPECT_EQ(x.steps[s].rhs, y.steps[s].rhs);
      EXPECT_EQ(x.steps[s].round, y.steps[s].round);
    }
    EXPECT_EQ(x.results, y.results);
  }
  ASSERT_EQ(a.results.size(), b.results.size());
  for (size_t i = 0; i < a.results.size(); ++i) {
    EXPECT_EQ(a.results[i].buffer, b.results[i].buffer);
    EXPECT_EQ(a.results[i].kind, b.results[i].kind);
    EXPECT_EQ(a.results[i].role, b.results[i].role);
    EXPECT_EQ(a.results[i].name, b.results[i].name);
  }
  ASSERT_EQ(a.indexBounds.size(), b.indexBounds.size());
  for (size_t i = 0; i < a.indexBounds.size(); ++i) {
    EXPECT_EQ(a.indexBounds[i].input, b.indexBounds[i].input);
    EXPECT_EQ(a.indexBounds[i].limit, b.indexBounds[i].limit);
    EXPECT_EQ(a.indexBounds[i].exempt, b.indexBounds[i].exempt);
    EXPECT_EQ(a.indexBounds[i].use, b.indexBounds[i].use);
  }
  EXPECT_EQ(a.arenaBytes, b.arenaBytes);
  EXPECT_EQ(a.microBatches, b.microBatches);
  EXPECT_EQ(a.ranks, b.ranks);
  EXPECT_EQ(a.strategy, b.strategy);
  EXPECT_EQ(a.defaultLr, b.defaultLr);
  EXPECT_EQ(a.initialLossScale, b.initialLossScale);
}

TEST(ProgramFileTest, EveryFieldRoundTrips) {
  std::vector<uint8_t> bytes = serialize(richPrograms());
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()),
                       bytes.size());
  ASSERT_TRUE(isProgramFile(text));
  llvm::Expected<StepPrograms> back = parseProgramFile(text, "step.accelprog");
  ASSERT_TRUE(bool(back)) << llvm::toString(back.takeError());
  expectSame(back->trainStep, richProgram());
  ASSERT_TRUE(back->classifier.has_value());
  expectSame(back->classifier->program, richProgram());
  EXPECT_EQ(back->classifier->labelsInput, "y");
  EXPECT_EQ(back->classifier->ignoreIndex, -1);
  EXPECT_EQ(back->classifierError, "");
  EXPECT_FALSE(back->forwardGrad.has_value());
  EXPECT_EQ(back->forwardGradError, "'step.mlir' has no @forward_grad");
  // Writing what was read gives the same bytes.
  EXPECT_EQ(serialize(*back), bytes);
}

TEST(ProgramFileTest, ProgramsTooLargeForTheFormatAreRefused) {
  // The estimate of richPrograms' file, against a limit just below it
  // (the real limit, 1 GiB, would need a gigabyte of constants).
  StepPrograms s = richPrograms();
  EXPECT_TRUE(bool(serializeProgramFile(s, 60000)));
  BufferDesc big{Role::Constant, "", ElementType::F32, {4096}};
  big.constant.resize(4 * 4096);
  s.trainStep.buffers.push_back(big);
  llvm::Expected<std::vector<uint8_t>> bytes = serializeProgramFile(s, 60000);
  ASSERT_FALSE(bool(bytes));
  EXPECT_NE(llvm::toString(bytes.takeError())
                .find("the program is too large for a program file"),
            std::string::npos);
}

TEST(ProgramFileTest, MlirTextIsNotAProgramFile) {
  EXPECT_FALSE(isProgramFile("module {\n}\n"));
  EXPECT_FALSE(isProgramFile("ACPG"));
  EXPECT_EQ(read({'m', 'o', 'd', 'u', 'l', 'e', ' ', '{', '}'}),
            "'step.accelprog' is not an accel program file (it lacks the "
            "identifier 'ACPG' at byte 4)");
}

TEST(ProgramFileTest, EveryTruncationIsRefused) {
  std::vector<uint8_t> bytes = serialize(richPrograms());
  for (size_t n = 0; n < bytes.size(); ++n)
    EXPECT_NE(read({bytes.begin(), bytes.begin() + n}), "") << n;
}

TEST(ProgramFileTest, EveryFlippedBitIsRefusedOrHarmless) {
  // A flip in the body breaks its CRC; one in the header breaks the
  // header's structure, the version or the CRC itself. A few header bits
  // are padding or unused offsets' high bits: reading those files must
  // still give exactly the original programs.
  std::vector<uint8_t> bytes = serialize(richPrograms());
  int refused = 0;
  for (size_t i = 0; i < bytes.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      std::vector<uint8_t> flipped = bytes;
      flipped[i] ^= uint8_t(1u << bit);
      llvm::StringRef text(reinterpret_cast<const char *>(flipped.data()),
                           flipped.size());
      llvm::Expected<StepPrograms> p = parseProgramFile(text, "f");
      if (!p) {
        llvm::consumeError(p.takeError());
        ++refused;
        continue;
      }
      EXPECT_EQ(serialize(*p), bytes) << "byte " << i;
    }
  EXPECT_GT(refused, static_cast<int>(bytes.size()) * 8 * 9 / 10);
}

/// A file whose body is `body` (a Programs buffer), with `version` and the
/// body's CRC, or `crc` when given.
std::vector<uint8_t> wrap(const uint8_t *body, size_t size, uint32_t version,
                          std::optional<uint32_t> crc = std::nullopt) {
  flatbuffers::FlatBufferBuilder b;
  b.ForceVectorAlignment(size, 1, 8);
  auto bytes = b.CreateVector(body, size);
  uint32_t sum = crc ? *crc : static_cast<uint32_t>(::crc32(0L, body, size));
  file::FinishStepFileBuffer(b, file::CreateStepFile(b, version, sum, bytes));
  return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
}

std::vector<uint8_t> bodyOf(const std::vector<uint8_t> &bytes) {
  const file::StepFile *f = file::GetStepFile(bytes.data());
  return {f->body()->begin(), f->body()->end()};
}

TEST(ProgramFileTest, AnotherFormatVersionIsRefusedByName) {
  std::vector<uint8_t> body = bodyOf(serialize(richPrograms()));
  EXPECT_EQ(read(wrap(body.data(), body.size(), kProgramFormatVersion)), "");
  EXPECT_EQ(read(wrap(body.data(), body.size(), kProgramFormatVersion + 1)),
            "'step.accelprog' is a program file of format version 2; this "
            "accel reads version 1: lower the step again (accel-opt ... "
            "--accel-lower)");
  EXPECT_EQ(read(wrap(body.data(), body.size(), kProgramFormatVersion, 7)),
            "'step.accelprog' is damaged: its body's CRC-32 is " +
                llvm::utohexstr(::crc32(0L, body.data(), body.size())) +
                ", the file records 7");
}

/// A file of one program built by `edit` on the generated tables.
template <typename Edit> std::vector<uint8_t> fileOf(Edit edit) {
  flatbuffers::FlatBufferBuilder b;
  flatbuffers::Offset<file::Programs> root = edit(b);
  b.Finish(root);
  return wrap(b.GetBufferPointer(), b.GetSize(), kProgramFormatVersion);
}

/// One f32[1] input returned as the loss by one Copy kernel named `kernel`,
/// its buffer of role `role`.
flatbuffers::Offset<file::Programs>
tinyProgram(flatbuffers::FlatBufferBuilder &b, const char *kernel,
            file::Role role = file::Role_Input, uint16_t kernelIndex = 0) {
  std::vector<int64_t> shape = {1};
  std::vector<flatbuffers::Offset<file::BufferDesc>> buffers = {
      file::CreateBufferDescDirect(b, role, "x", file::ElementType_F32,
                                   &shape),
      file::CreateBufferDescDirect(b, file::Role_Input, "y",
                                   file::ElementType_F32, &shape)};
  std::vector<int32_t> in = {0}, out = {1};
  std::vector<flatbuffers::Offset<file::Instruction>> code = {
      file::CreateInstructionDirect(b, kernelIndex, &in, &out)};
  std::vector<flatbuffers::Offset<file::ProgramResult>> results = {
      file::CreateProgramResult(b, 1)};
  auto program = file::CreateProgramDirect(b, &buffers, &code, &results);
  std::vector<flatbuffers::Offset<flatbuffers::String>> kernels = {
      b.CreateString(kernel)};
  return file::CreateProgramsDirect(b, "test", &kernels, program);
}

TEST(ProgramFileTest, KernelsAndEnumsMustBeKnown) {
  EXPECT_EQ(read(fileOf([](auto &b) { return tinyProgram(b, "Copy"); })), "");
  EXPECT_EQ(read(fileOf([](auto &b) { return tinyProgram(b, "Teleport"); })),
            "'step.accelprog' uses the kernel 'Teleport', which this runtime "
            "does not have");
  EXPECT_EQ(read(fileOf([](auto &b) {
              return tinyProgram(b, "Copy", file::Role_Input, 1);
            })),
            "'step.accelprog' names kernel #1 in its training step, past its "
            "table of 1");
  EXPECT_EQ(read(fileOf([](auto &b) {
              return tinyProgram(b, "Copy", static_cast<file::Role>(200));
            })),
            "'step.accelprog' has a buffer of an unknown role or element type "
            "in its training step");
}

TEST(ProgramFileTest, ProgramsAreCheckedAsAnyProgram) {
  Program p = richProgram();
  p.code[0].operands[1] = 99;
  StepPrograms s;
  s.trainStep = p;
  EXPECT_EQ(read(serialize(s)),
            "'step.accelprog' holds a broken training step: invalid program: "
            "instruction #0 (Add) names buffer #99 of 10");
  EXPECT_EQ(read(fileOf([](auto &b) {
              return file::CreateProgramsDirect(b, "test");
            })),
            "'step.accelprog' has no training step");
}

} // namespace
} // namespace accel::rt
