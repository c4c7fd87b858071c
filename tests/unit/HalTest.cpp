//===- HalTest.cpp - the driver registry and the cpu driver ---------------===//

#include "runtime/hal/Hal.h"

#include <gtest/gtest.h>

using namespace accel::rt;

namespace {

TEST(Hal, RegistryNamesDriversAndRejectsUnknownOnes) {
  hal::registerBuiltinDrivers();
  hal::registerBuiltinDrivers(); // idempotent
  EXPECT_EQ(hal::DriverRegistry::global().names(), std::vector<std::string>{"cpu"});
  llvm::Expected<std::unique_ptr<hal::Driver>> missing =
      hal::DriverRegistry::global().create("tpu");
  ASSERT_FALSE(static_cast<bool>(missing));
  // Not built in, and no libaccel_driver_tpu.so on the search path (beside
  // the test, then ../lib/accel).
  EXPECT_EQ(llvm::StringRef(llvm::toString(missing.takeError()))
                .split(", searching ")
                .first,
            "no driver named 'tpu' (built in: cpu; plugins found: none");

  hal::DriverRegistry local;
  auto factory = [] { return std::unique_ptr<hal::Driver>(); };
  EXPECT_FALSE(static_cast<bool>(local.add("x", factory)));
  llvm::Error again = local.add("x", factory);
  EXPECT_EQ(llvm::toString(std::move(again)), "a driver named 'x' is already registered");
}

TEST(Hal, CpuDeviceRunsAProgramAndCommitsState) {
  // p' = p + x, returned as the new value of state "p".
  Program program;
  program.buffers = {
      {BufferDesc::Role::Param, "p", ElementType::F32, {3}},
      {BufferDesc::Role::Input, "x", ElementType::F32, {3}},
      {BufferDesc::Role::Arena, "", ElementType::F32, {3}, /*offset=*/0},
  };
  program.arenaBytes = 12;
  program.code = {{Kernel::Add, {0, 1}, {2}, {}, {}}};
  ProgramResult result;
  result.buffer = 2;
  result.kind = ProgramResult::Kind::State;
  result.role = BufferDesc::Role::Param;
  result.name = "p";
  program.results = {result};

  hal::registerBuiltinDrivers();
  llvm::Expected<std::unique_ptr<hal::Executable>> exec =
      hal::loadOn("cpu", {/*threads=*/2}, program);
  ASSERT_TRUE(static_cast<bool>(exec)) << llvm::toString(exec.takeError());
  float *p = (*exec)->as<float>(0), *x = (*exec)->as<float>(1);
  for (int i = 0; i < 3; ++i) {
    p[i] = static_cast<float>(i);
    x[i] = 10.0f;
  }
  for (int step = 0; step < 2; ++step) {
    ASSERT_FALSE(static_cast<bool>((*exec)->run()));
    (*exec)->commitState();
  }
  EXPECT_EQ(p[0], 20.0f);
  EXPECT_EQ(p[2], 22.0f);
}

TEST(Hal, CpuBuffersAreZeroedAndAligned) {
  hal::registerBuiltinDrivers();
  llvm::Expected<std::unique_ptr<hal::Driver>> driver =
      hal::DriverRegistry::global().create("cpu");
  ASSERT_TRUE(static_cast<bool>(driver));
  llvm::Expected<std::unique_ptr<hal::Device>> device = (*driver)->createDevice({});
  ASSERT_TRUE(static_cast<bool>(device));
  EXPECT_EQ((*device)->name(), "cpu");
  for (size_t bytes : {0, 1, 100, 4096}) {
    llvm::Expected<std::unique_ptr<hal::Buffer>> buffer = (*device)->allocate(bytes);
    ASSERT_TRUE(static_cast<bool>(buffer));
    EXPECT_EQ((*buffer)->size(), bytes);
    EXPECT_EQ(reinterpret_cast<uintptr_t>((*buffer)->host()) % 64, 0u);
    for (size_t i = 0; i < bytes; ++i)
      ASSERT_EQ((*buffer)->host()[i], 0);
  }
  // The machine's memory: some, and no more free than there is.
  llvm::Expected<hal::DeviceMemory> memory = (*device)->memory();
  ASSERT_TRUE(static_cast<bool>(memory));
  EXPECT_GT(memory->total, 0u);
  EXPECT_LE(memory->free, memory->total);
}

} // namespace
