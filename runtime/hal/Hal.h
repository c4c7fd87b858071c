//===- Hal.h - devices, executables and the driver registry -----*- C++ -*-===//
//
// The runtime's hardware abstraction: a Driver (found by name in the
// DriverRegistry) opens a Device, which loads a lowered Program into an
// Executable. Runners (accel-run, the benchmarks) see only these
// interfaces, so a new back end is a new Driver: the built-in `cpu` driver,
// or a plugin (a shared library with the C ABI of accel_driver.h) loaded by
// name.
//
// Buffers are host-visible through Executable::data: state, batch inputs
// and scalars are written there between steps and results read back. A
// driver whose memory is not host-visible stages them around run().
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_HAL_H
#define ACCEL_RUNTIME_HAL_HAL_H

#include "runtime/collectives/Communicator.h"
#include "runtime/executor/Program.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace accel::rt::hal {

/// Memory on a device. host() is its bytes for a host-visible buffer
/// (every cpu buffer), null for one the driver must stage.
class Buffer {
public:
  virtual ~Buffer() = default;
  virtual size_t size() const = 0;
  virtual uint8_t *host() = 0;
};

/// A Program loaded on a device, with every buffer allocated once.
class Executable {
public:
  virtual ~Executable() = default;

  virtual const Program &program() const = 0;

  /// The bytes of buffer `index` of the program, host-visible.
  virtual uint8_t *data(int index) = 0;
  template <typename T> T *as(int index) {
    return reinterpret_cast<T *>(data(index));
  }

  /// Runs the program once.
  virtual llvm::Error run() = 0;

  /// Makes every state result the new value of the state it replaces.
  virtual void commitState() = 0;

  /// With profiling on, run() accumulates each instruction's wall time in
  /// profile()[instruction index].
  virtual void setProfiling(bool on) = 0;
  virtual const std::vector<double> &profile() const = 0;
};

struct DeviceOptions {
  /// Worker threads (CPU) or host threads feeding the device; 0: the
  /// driver's default.
  int threads = 0;
  /// This rank's end of its job's collectives (not owned); null for a job
  /// of one rank.
  Communicator *communicator = nullptr;
};

/// A device's memory, in bytes.
struct DeviceMemory {
  uint64_t total = 0;
  uint64_t free = 0;
};

class Device {
public:
  virtual ~Device() = default;
  /// "cpu", "cuda:0", ...
  virtual std::string name() const = 0;
  /// Allocates the program's buffers on this device. Fails when the
  /// program uses a kernel the driver does not have.
  virtual llvm::Expected<std::unique_ptr<Executable>> load(Program program) = 0;
  /// A buffer of `bytes` zeroed bytes (for staging data, collectives, ...).
  virtual llvm::Expected<std::unique_ptr<Buffer>> allocate(size_t bytes) = 0;
  /// The memory the device has, and has free.
  virtual llvm::Expected<DeviceMemory> memory() = 0;
};

/// What a driver runs, for listings (accel-run --list-drivers).
struct DriverSupport {
  std::string description;
  std::vector<std::string> kernels;      // kernelName()s
  std::vector<std::string> elementTypes; // elementTypeName()s
};

class Driver {
public:
  virtual ~Driver() = default;
  virtual DriverSupport support() const = 0;
  virtual llvm::Expected<std::unique_ptr<Device>>
  createDevice(const DeviceOptions &options) = 0;
};

/// Drivers by name. Built-in drivers register through
/// registerBuiltinDrivers(); a name no driver registered is looked up as a
/// plugin, libaccel_driver_<name>.so on the driver search path
/// (PluginDriver.h, accel_driver.h).
class DriverRegistry {
public:
  using Factory = std::function<std::unique_ptr<Driver>()>;

  static DriverRegistry &global();

  /// Adds a driver; a second driver of the same name is an error.
  llvm::Error add(llvm::StringRef name, Factory factory);
  /// The driver called `name` (registered, or a plugin), or an error
  /// listing the registered drivers and the plugins found.
  llvm::Expected<std::unique_ptr<Driver>> create(llvm::StringRef name) const;
  std::vector<std::string> names() const;

private:
  std::map<std::string, Factory> factories;
};

/// Registers the drivers compiled into this build ("cpu"); idempotent.
void registerBuiltinDrivers();

/// The usual path: registry -> driver -> device -> executable.
llvm::Expected<std::unique_ptr<Executable>>
loadOn(llvm::StringRef driver, const DeviceOptions &options, Program program);

} // namespace accel::rt::hal

#endif // ACCEL_RUNTIME_HAL_HAL_H
