//===- CpuPlugin.cpp - the CPU executor behind the driver ABI -------------===//
//
// libaccel_driver_cpu-plugin.so: the built-in `cpu` driver's executor, built
// as a plugin and reached only through accel_driver.h. It is the ABI's
// conformance driver: a run on `--device cpu-plugin` must be bit for bit a
// run on `cpu`, so every call of the ABI (program files, buffer mapping,
// staging, collectives through the host's callbacks, profiles, errors) is
// tested against the in-process driver with the same kernels.
//
// ACCEL_CPU_PLUGIN_HOST_VISIBLE=0 in the environment makes map_buffer
// return NULL, so the host stages every buffer through read_buffer and
// write_buffer, as it must for a GPU's memory: the staging path is tested
// on this driver too.
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/accel_driver.h"

#include "runtime/collectives/Communicator.h"
#include "runtime/executor/Executor.h"
#include "runtime/executor/HostMemory.h"
#include "runtime/io/ProgramFile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <new>
#include <string>
#include <thread>
#include <vector>

namespace {

using accel::rt::Communicator;
using accel::rt::ReduceBuffer;
using accel::rt::ReduceKind;
using accel::rt::ShardBuffer;

int fail(accel_error *error, const std::string &message) {
  std::snprintf(error->message, sizeof(error->message), "%s", message.c_str());
  return 1;
}

int fail(accel_error *error, llvm::Error e) {
  return fail(error, llvm::toString(std::move(e)));
}

/// The executor's Communicator over the host's callbacks.
class HostCollectives final : public Communicator {
public:
  explicit HostCollectives(const accel_collectives &c) : c(c) {}

  int rank() const override { return c.rank; }
  int size() const override { return c.size; }

  llvm::Error allReduce(llvm::ArrayRef<ReduceBuffer> buffers, ReduceKind kind,
                        llvm::StringRef what) override {
    return call(c.all_reduce, buffers, kind, what);
  }
  llvm::Error reduceScatter(llvm::ArrayRef<ShardBuffer> buffers,
                            ReduceKind kind, llvm::StringRef what) override {
    return call(c.reduce_scatter, buffers, kind, what);
  }
  llvm::Error allGather(llvm::ArrayRef<ShardBuffer> buffers,
                        llvm::StringRef what) override {
    llvm::Expected<std::vector<accel_collective_buffer>> list =
        convert(buffers, what);
    if (!list)
      return list.takeError();
    accel_error error;
    if (c.all_gather(c.context, list->data(), list->size(), what.str().c_str(),
                     &error) != 0)
      return message(error);
    count(buffers);
    return llvm::Error::success();
  }
  void abort(llvm::StringRef reason) override {
    c.abort(c.context, reason.str().c_str());
  }

private:
  /// The ABI's collectives carry f32 values only.
  template <typename Buffer>
  llvm::Expected<std::vector<accel_collective_buffer>>
  convert(llvm::ArrayRef<Buffer> buffers, llvm::StringRef what) const {
    std::vector<accel_collective_buffer> list;
    for (const Buffer &b : buffers) {
      if (b.type != accel::rt::ValueType::F32)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            what + " on rank " + llvm::Twine(c.rank) +
                ": the driver ABI's collectives carry f32 values only");
      list.push_back({static_cast<const float *>(b.input),
                      static_cast<float *>(b.output), b.count});
    }
    return list;
  }

  template <typename Fn, typename Buffer>
  llvm::Error call(Fn fn, llvm::ArrayRef<Buffer> buffers, ReduceKind kind,
                   llvm::StringRef what) {
    llvm::Expected<std::vector<accel_collective_buffer>> list =
        convert(buffers, what);
    if (!list)
      return list.takeError();
    accel_error error;
    int32_t reduction =
        kind == ReduceKind::Mean ? ACCEL_REDUCE_MEAN : ACCEL_REDUCE_SUM;
    if (fn(c.context, list->data(), list->size(), reduction, what.str().c_str(),
           &error) != 0)
      return message(error);
    count(buffers);
    return llvm::Error::success();
  }

  static llvm::Error message(const accel_error &error) {
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   error.message);
  }

  accel_collectives c;
};

bool hostVisible() {
  const char *v = std::getenv("ACCEL_CPU_PLUGIN_HOST_VISIBLE");
  return !v || std::strcmp(v, "0") != 0;
}

} // namespace

struct accel_device {
  int threads;
  std::unique_ptr<HostCollectives> collectives;
};

struct accel_executable {
  std::unique_ptr<accel::rt::Executor> executor;
  bool mapped;
};

namespace {

int createDevice(const accel_device_options *options, accel_device **device,
                 accel_error *error) {
  if (!options || options->struct_size < sizeof(accel_device_options))
    return fail(error, "cpu-plugin: device options of an older ABI");
  auto d = std::make_unique<accel_device>();
  d->threads = options->threads > 0
                   ? options->threads
                   : static_cast<int>(
                         std::max(1u, std::thread::hardware_concurrency()));
  if (options->collectives)
    d->collectives = std::make_unique<HostCollectives>(*options->collectives);
  *device = d.release();
  return 0;
}

void destroyDevice(accel_device *device) { delete device; }

const char *deviceName(accel_device *) { return "cpu-plugin"; }

int deviceMemory(accel_device *, uint64_t *total, uint64_t *free,
                 accel_error *error) {
  if (!accel::rt::machineMemory(*total, *free))
    return fail(error, "cpu-plugin: cannot read the machine's memory size");
  return 0;
}

int loadProgram(accel_device *device, const uint8_t *bytes, size_t size,
                accel_executable **executable, accel_error *error) {
  llvm::Expected<accel::rt::StepPrograms> programs =
      accel::rt::parseProgramFile(
          llvm::StringRef(reinterpret_cast<const char *>(bytes), size),
          "the program");
  if (!programs)
    return fail(error, programs.takeError());
  int ranks = device->collectives ? device->collectives->size() : 1;
  if (programs->trainStep.ranks != ranks)
    return fail(error, "the step was compiled for " +
                           std::to_string(programs->trainStep.ranks) +
                           " data-parallel rank(s) but runs on " +
                           std::to_string(ranks));
  try {
    auto e = std::make_unique<accel_executable>();
    e->executor = std::make_unique<accel::rt::Executor>(
        std::move(programs->trainStep), device->threads,
        device->collectives.get());
    e->mapped = hostVisible();
    *executable = e.release();
    return 0;
  } catch (const std::bad_alloc &) {
    return fail(error, "cpu-plugin: out of host memory loading the step");
  }
}

void destroyExecutable(accel_executable *executable) { delete executable; }

bool inRange(accel_executable *e, int32_t index, uint64_t offset,
             uint64_t bytes) {
  const accel::rt::Program &p = e->executor->program();
  if (index < 0 || static_cast<size_t>(index) >= p.buffers.size())
    return false;
  uint64_t size = p.buffers[index].bytes();
  return offset <= size && bytes <= size - offset;
}

void *mapBuffer(accel_executable *e, int32_t index) {
  if (!e->mapped || !inRange(e, index, 0, 0))
    return nullptr;
  return e->executor->data(index);
}

int readBuffer(accel_executable *e, int32_t index, uint64_t offset,
               void *destination, uint64_t bytes, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error, "cpu-plugin: read outside buffer #" +
                           std::to_string(index));
  std::memcpy(destination, e->executor->data(index) + offset, bytes);
  return 0;
}

int writeBuffer(accel_executable *e, int32_t index, uint64_t offset,
                const void *source, uint64_t bytes, accel_error *error) {
  if (!inRange(e, index, offset, bytes))
    return fail(error, "cpu-plugin: write outside buffer #" +
                           std::to_string(index));
  std::memcpy(e->executor->data(index) + offset, source, bytes);
  return 0;
}

int run(accel_executable *e, accel_error *error) {
  if (llvm::Error err = e->executor->run())
    return fail(error, std::move(err));
  return 0;
}

int commitState(accel_executable *e, accel_error *) {
  e->executor->commitState();
  return 0;
}

void setProfiling(accel_executable *e, int32_t on) {
  e->executor->setProfiling(on != 0);
}

int readProfile(accel_executable *e, double *seconds, uint64_t count,
                accel_error *error) {
  const std::vector<double> &times = e->executor->profile();
  if (count > times.size())
    return fail(error, "cpu-plugin: the profile has " +
                           std::to_string(times.size()) + " instructions");
  std::copy(times.begin(), times.begin() + count, seconds);
  return 0;
}

/// Every kernel and element type: the executor runs them all.
std::string joined(bool kernels) {
  std::string list;
  int count = kernels ? accel::rt::kKernelCount : accel::rt::kElementTypeCount;
  for (int i = 0; i < count; ++i)
    list += std::string(i ? "," : "") +
            (kernels ? accel::rt::kernelName(static_cast<accel::rt::Kernel>(i))
                     : accel::rt::elementTypeName(
                           static_cast<accel::rt::ElementType>(i)));
  return list;
}
const std::string kKernels = joined(true), kElementTypes = joined(false);

const accel_driver kDriver = {
    ACCEL_DRIVER_ABI_VERSION,
    sizeof(accel_driver),
    "cpu-plugin",
    "the CPU executor behind the plugin ABI (its conformance driver)",
    createDevice,
    destroyDevice,
    deviceName,
    deviceMemory,
    loadProgram,
    destroyExecutable,
    mapBuffer,
    readBuffer,
    writeBuffer,
    run,
    commitState,
    setProfiling,
    readProfile,
    kKernels.c_str(),
    kElementTypes.c_str(),
};

} // namespace

extern "C" __attribute__((visibility("default"))) const accel_driver *
accel_driver_entry(uint32_t) {
  return &kDriver;
}
