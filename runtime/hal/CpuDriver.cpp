//===- CpuDriver.cpp - the `cpu` driver -----------------------------------===//
//
// Host memory, the kernels and the thread pool: the Executor is the cpu
// driver's Executable.
//
//===----------------------------------------------------------------------===//

#include "runtime/executor/Executor.h"
#include "runtime/executor/HostMemory.h"
#include "runtime/hal/Hal.h"

#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <new>
#include <thread>

namespace accel::rt::hal {
namespace {

std::string mib(uint64_t bytes) {
  return llvm::formatv("{0:F1} MiB", bytes / 1048576.0).str();
}

/// The error of an allocation the host refused.
llvm::Error outOfMemory(llvm::StringRef what, uint64_t bytes,
                        llvm::StringRef detail) {
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "out of host memory: " + what + " needs " + mib(bytes) + detail +
          " and the allocation failed (see `ulimit -v` and free memory)");
}

class CpuExecutable final : public Executable {
public:
  CpuExecutable(Program program, int threads, Communicator *comm)
      : executor(std::move(program), threads, comm) {}

  const Program &program() const override { return executor.program(); }
  uint8_t *data(int index) override { return executor.data(index); }
  llvm::Error run() override { return executor.run(); }
  void commitState() override { executor.commitState(); }
  void setProfiling(bool on) override { executor.setProfiling(on); }
  const std::vector<double> &profile() const override {
    return executor.profile();
  }

private:
  Executor executor;
};

class CpuBuffer final : public Buffer {
public:
  explicit CpuBuffer(size_t bytes) : memory(bytes) {}
  size_t size() const override { return memory.size(); }
  uint8_t *host() override { return memory.data(); }

private:
  HostMemory memory;
};

class CpuDevice final : public Device {
public:
  CpuDevice(int threads, Communicator *comm) : threads(threads), comm(comm) {}
  std::string name() const override { return "cpu"; }
  llvm::Expected<std::unique_ptr<Executable>> load(Program program) override {
    uint64_t arena = program.arenaBytes, owned = program.ownedBytes();
    int ranks = comm ? comm->size() : 1;
    if (program.ranks != ranks)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "the step was compiled for " + llvm::Twine(program.ranks) +
              " data-parallel rank(s) but runs on " + llvm::Twine(ranks) +
              " (accel-run --ranks)");
    try {
      return std::make_unique<CpuExecutable>(std::move(program), threads, comm);
    } catch (const std::bad_alloc &) {
      return outOfMemory("the step", arena + owned,
                         " (arena " + mib(arena) + ", state and inputs " +
                             mib(owned) + ", plus scratch)");
    }
  }
  llvm::Expected<std::unique_ptr<Buffer>> allocate(size_t bytes) override {
    try {
      return std::make_unique<CpuBuffer>(bytes);
    } catch (const std::bad_alloc &) {
      return outOfMemory("a buffer", bytes, "");
    }
  }

  llvm::Expected<DeviceMemory> memory() override {
    DeviceMemory m;
    if (!machineMemory(m.total, m.free))
      return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                     "cannot read the machine's memory size");
    return m;
  }

private:
  int threads;
  Communicator *comm;
};

class CpuDriver final : public Driver {
public:
  DriverSupport support() const override {
    DriverSupport s{"the CPU executor (oneDNN products and convolutions, "
                    "vectorised kernels, a thread pool), in process",
                    {},
                    {}};
    for (int k = 0; k < kKernelCount; ++k)
      s.kernels.push_back(kernelName(static_cast<Kernel>(k)));
    for (int t = 0; t < kElementTypeCount; ++t)
      s.elementTypes.push_back(elementTypeName(static_cast<ElementType>(t)));
    return s;
  }

  llvm::Expected<std::unique_ptr<Device>>
  createDevice(const DeviceOptions &options) override {
    int threads = options.threads > 0
                      ? options.threads
                      : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return std::make_unique<CpuDevice>(threads, options.communicator);
  }
};

} // namespace

void registerBuiltinDrivers() {
  static bool once = [] {
    llvm::cantFail(DriverRegistry::global().add(
        "cpu", [] { return std::make_unique<CpuDriver>(); }));
    return true;
  }();
  (void)once;
}

} // namespace accel::rt::hal
