//===- ProgramCheckTest.cpp - programs the executor must not run ----------===//

#include "runtime/executor/ProgramCheck.h"

#include "gtest/gtest.h"

namespace accel::rt {
namespace {

using Role = BufferDesc::Role;

/// y = relu(x + c) for f32[4]: an input, a constant, two arena buffers and
/// a view of the last, the loss first among the results.
Program valid() {
  Program p;
  p.arenaBytes = 64;
  p.buffers.push_back({Role::Input, "x", ElementType::F32, {4}});
  BufferDesc c{Role::Constant, "", ElementType::F32, {4}};
  c.constant.assign(16, 0);
  p.buffers.push_back(c);
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {4}, 0});
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {4}, 16});
  BufferDesc view{Role::View, "", ElementType::F32, {2, 2}};
  view.viewOf = 3;
  p.buffers.push_back(view);
  p.code.push_back({Kernel::Add, {0, 1}, {2}, {}, {}});
  p.code.push_back({Kernel::Fused, {2}, {3}, {0}, {}});
  p.fusedBodies.push_back({{{Kernel::Relu, 0}}, {1}});
  p.results.push_back({4});
  return p;
}

std::string check(const Program &p) {
  llvm::Error e = checkProgram(p);
  return e ? llvm::toString(std::move(e)) : "";
}

TEST(ProgramCheckTest, AcceptsAValidProgram) { EXPECT_EQ(check(valid()), ""); }

TEST(ProgramCheckTest, ArenaBuffersLieInsideTheArenaAligned) {
  Program p = valid();
  p.buffers[3].offset = 56;
  EXPECT_EQ(check(p), "invalid program: buffer #3 (16 bytes at offset 56) lies "
                      "outside the 64-byte arena");
  p.buffers[3].offset = ~uint64_t(0) - 4; // offset + bytes wraps around
  EXPECT_NE(check(p), "");
  p.buffers[3].offset = 18;
  EXPECT_EQ(check(p), "invalid program: buffer #3 at offset 18 is not aligned "
                      "to its 4-byte elements");
}

TEST(ProgramCheckTest, ShapesAreNonNegativeAndTheirBytesFit) {
  Program p = valid();
  p.buffers[0].shape = {-1};
  EXPECT_EQ(check(p), "invalid program: buffer #0 ('x') has a negative "
                      "dimension or more bytes than fit in 63 bits");
  p.buffers[0].shape = {int64_t(1) << 40, int64_t(1) << 40};
  EXPECT_NE(check(p), "");
}

TEST(ProgramCheckTest, ViewsAndConstantsMatchTheirBytes) {
  Program p = valid();
  p.buffers[4].shape = {3, 2};
  EXPECT_EQ(check(p), "invalid program: buffer #4 views 24 bytes of a 16-byte "
                      "buffer");
  p = valid();
  p.buffers[4].viewOf = 4;
  EXPECT_NE(check(p), "");
  p = valid();
  p.buffers[1].constant.resize(8);
  EXPECT_EQ(check(p), "invalid program: buffer #1 is a constant of 8 bytes "
                      "for 16 bytes of shape");
}

TEST(ProgramCheckTest, IndicesNameWhatExists) {
  Program p = valid();
  p.code[0].operands[1] = 9;
  EXPECT_EQ(check(p), "invalid program: instruction #0 (Add) names buffer #9 "
                      "of 5");
  p = valid();
  p.results[0].buffer = -1;
  EXPECT_NE(check(p), "");
  p = valid();
  p.code[1].ints[0] = 1;
  EXPECT_EQ(check(p), "invalid program: instruction #1 (Fused) names no fused "
                      "body");
  p = valid();
  p.fusedBodies[0].steps[0].lhs = 1; // its own register
  EXPECT_NE(check(p), "");
  p = valid();
  p.fusedBodies[0].steps[0].kernel = Kernel::Softmax;
  EXPECT_NE(check(p), "");
  p = valid();
  p.fusedBodies[0].results = {5};
  EXPECT_NE(check(p), "");
  p = valid();
  p.results.clear();
  EXPECT_NE(check(p), "");
}

/// ZeRO/FSDP on 3 ranks: a 10-element parameter shard (4 elements) and its
/// optimizer state, a gradient reduce-scattered, the shard gathered.
Program sharded() {
  Program p;
  p.ranks = 3;
  p.arenaBytes = 96;
  BufferDesc param{Role::Param, "w", ElementType::F32, {4}};
  param.shardOf = {2, 5};
  p.buffers.push_back(param);
  BufferDesc state{Role::OptState, "w.exp_avg", ElementType::F32, {4}};
  state.shardOf = {2, 5};
  p.buffers.push_back(state);
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {2, 5}, 0});
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {4}, 40});
  p.buffers.push_back({Role::Arena, "", ElementType::F32, {2, 5}, 56});
  p.code.push_back({Kernel::ReduceScatter, {2}, {3}, {1, 0}, {}});
  p.code.push_back({Kernel::AllGather, {0}, {4}, {1}, {}});
  p.code.push_back({Kernel::LocalShard, {4}, {3}, {3}, {}});
  p.results.push_back({3});
  return p;
}

TEST(ProgramCheckTest, ShardsHaveTheirRankCountsSize) {
  EXPECT_EQ(check(sharded()), "");
  Program p = sharded();
  p.buffers[3].shape = {3}; // ceil(10 / 3) is 4
  EXPECT_EQ(check(p), "invalid program: instruction #0 (ReduceScatter): "
                      "tensor 0 has 10 elements, so its shard over 3 ranks "
                      "has 4, not 3");
  p = sharded();
  p.buffers[1].shardOf = {3, 5};
  EXPECT_EQ(check(p), "invalid program: buffer #1 ('w.exp_avg') is not a "
                      "1-D shard (of a parameter or optimizer state) of its "
                      "whole tensor over the program's ranks");
  p = sharded();
  p.code[2].ints = {2}; // a LocalShard for another rank count
  EXPECT_NE(check(p), "");
  p = sharded();
  p.code[1].ints.clear(); // an AllGather without its bucket
  EXPECT_NE(check(p), "");
  p = sharded();
  p.buffers[2].shardOf = {10}; // an arena buffer is never a shard
  EXPECT_NE(check(p), "");
  p = sharded();
  p.ranks = 0; // shards cannot be sized: refused before they are
  EXPECT_EQ(check(p), "invalid program: ranks must be at least 1, not 0");
}

/// The reduce-scatter of sharded() started at instruction 0 and completed
/// by a Wait after the gather.
Program awaited() {
  Program p = sharded();
  p.code.insert(p.code.begin() + 2, {Kernel::Wait, {3}, {3}, {0}, {}});
  return p;
}

TEST(ProgramCheckTest, AWaitCompletesOneEarlierCollective) {
  EXPECT_EQ(check(awaited()), "");
  Program p = awaited();
  p.code[2].ints = {2}; // itself
  EXPECT_EQ(check(p), "invalid program: instruction #2 (Wait) needs the "
                      "instruction of an earlier collective");
  p = awaited();
  p.code[2].ints = {-1};
  EXPECT_NE(check(p), "");
  p = awaited();
  p.code[2].ints.clear();
  EXPECT_NE(check(p), "");
  p = awaited();
  p.code.push_back({Kernel::Wait, {3}, {3}, {0}, {}}); // twice
  EXPECT_EQ(check(p), "invalid program: instruction #4 (Wait): instruction "
                      "#0 is waited for twice");
  p = awaited();
  p.code.push_back({Kernel::Wait, {3}, {3}, {3}, {}}); // a LocalShard
  EXPECT_EQ(check(p), "invalid program: instruction #4 (Wait) waits for "
                      "instruction #3, which is not a collective");
  p = awaited();
  p.code[2].operands = {4}; // another buffer
  EXPECT_EQ(check(p), "invalid program: instruction #2 (Wait) must read and "
                      "yield exactly instruction #0's results");
  p = awaited();
  p.code[2].results = {};
  EXPECT_NE(check(p), "");
}

TEST(ProgramCheckTest, CollectivesMoveF32Bf16AndF16) {
  Program p = awaited();
  p.buffers[2].type = ElementType::BF16; // a bf16 reduction, awaited
  p.buffers[3].type = ElementType::BF16;
  EXPECT_EQ(check(p), "");
  p = sharded();
  p.buffers[4].type = ElementType::F16; // f32 shards gathered into f16
  EXPECT_EQ(check(p), "");
  p = sharded();
  p.buffers[2].type = ElementType::BF16;
  EXPECT_EQ(check(p), "invalid program: instruction #0 (ReduceScatter): "
                      "tensor 0 changes type (only an all-gather may round "
                      "f32 shards to a 16-bit type)");
  p = sharded();
  p.buffers[0].type = ElementType::BF16; // a gather that would widen
  EXPECT_NE(check(p), "");
  p = sharded();
  p.buffers[2].type = ElementType::I64;
  p.buffers[3].type = ElementType::I64;
  EXPECT_EQ(check(p), "invalid program: instruction #0 (ReduceScatter): "
                      "tensor 0 is not f32, bf16 or f16");
}

} // namespace
} // namespace accel::rt
