//===- PluginDriver.cpp - drivers loaded from shared libraries ------------===//

#include "runtime/hal/PluginDriver.h"

#include "runtime/executor/HostMemory.h"
#include "runtime/hal/accel_driver.h"
#include "runtime/io/ProgramFile.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <dlfcn.h>

namespace accel::rt::hal {
namespace {

constexpr llvm::StringLiteral kPrefix = "libaccel_driver_", kSuffix = ".so";

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

void setMessage(accel_error *e, const std::string &message) {
  std::snprintf(e->message, sizeof(e->message), "%s", message.c_str());
}

//===----------------------------------------------------------------------===//
// The host's collectives, offered to drivers through accel_collectives.
//===----------------------------------------------------------------------===//

/// The ABI's buffers hold f32 values only.
template <typename Buffer>
std::vector<Buffer> buffersOf(const accel_collective_buffer *b, size_t n) {
  std::vector<Buffer> list;
  for (size_t i = 0; i < n; ++i)
    list.push_back({b[i].input, b[i].output, b[i].count, ValueType::F32});
  return list;
}

ReduceKind kindOf(int32_t reduction) {
  return reduction == ACCEL_REDUCE_MEAN ? ReduceKind::Mean : ReduceKind::Sum;
}

int report(llvm::Error e, accel_error *out) {
  if (!e)
    return 0;
  setMessage(out, llvm::toString(std::move(e)));
  return 1;
}

int hostAllReduce(void *context, const accel_collective_buffer *buffers,
                  size_t count, int32_t reduction, const char *what,
                  accel_error *out) {
  return report(static_cast<Communicator *>(context)->allReduce(
                    buffersOf<ReduceBuffer>(buffers, count),
                    kindOf(reduction), what),
                out);
}

int hostReduceScatter(void *context, const accel_collective_buffer *buffers,
                      size_t count, int32_t reduction, const char *what,
                      accel_error *out) {
  return report(static_cast<Communicator *>(context)->reduceScatter(
                    buffersOf<ShardBuffer>(buffers, count), kindOf(reduction),
                    what),
                out);
}

int hostAllGather(void *context, const accel_collective_buffer *buffers,
                  size_t count, const char *what, accel_error *out) {
  return report(static_cast<Communicator *>(context)->allGather(
                    buffersOf<ShardBuffer>(buffers, count), what),
                out);
}

void hostAbort(void *context, const char *reason) {
  static_cast<Communicator *>(context)->abort(reason);
}

//===----------------------------------------------------------------------===//
// Adapters
//===----------------------------------------------------------------------===//

/// A plugin's device and the collectives it was given. hal::Device objects
/// may go before the executables they loaded (hal::loadOn returns only the
/// executable), so both share this, and the device is destroyed after its
/// last executable, as the ABI requires.
struct DeviceHandle {
  DeviceHandle(const accel_driver &d, accel_device *device,
               std::unique_ptr<accel_collectives> collectives)
      : d(d), device(device), collectives(std::move(collectives)) {}
  ~DeviceHandle() { d.destroy_device(device); }

  const accel_driver &d;
  accel_device *device;
  std::unique_ptr<accel_collectives> collectives;
};

/// A program loaded by a plugin. Buffers the driver maps are used in place;
/// when it maps none, the host stages a copy of each buffer a runner asks
/// for, lazily, so the state stays on the device: data() reads the
/// buffer from the device unless the host copy is current, and marks it as
/// possibly written; run() writes back only those; a run or commitState
/// makes every copy stale. So a step moves its inputs and the values the
/// runner reads (the loss), and the state only when the runner reads it
/// (saving, checkpoints). A pointer from data() is valid until the next
/// run() or commitState().
class PluginExecutable final : public Executable {
public:
  PluginExecutable(std::shared_ptr<DeviceHandle> device, accel_executable *e,
                   Program p)
      : device(std::move(device)), d(this->device->d), e(e),
        prog(std::move(p)) {}
  ~PluginExecutable() override { d.destroy_executable(e); }

  /// Decides between mapped and staged buffers.
  llvm::Error init() {
    staged = prog.buffers.empty() || d.map_buffer(e, 0) == nullptr;
    copies.resize(prog.buffers.size());
    current.assign(prog.buffers.size(), false);
    written.assign(prog.buffers.size(), false);
    return llvm::Error::success();
  }

  const Program &program() const override { return prog; }

  uint8_t *data(int index) override {
    if (!staged)
      return static_cast<uint8_t *>(d.map_buffer(e, index));
    if (!copies[index]) {
      try {
        copies[index] =
            std::make_unique<HostMemory>(prog.buffers[index].bytes());
      } catch (const std::bad_alloc &) {
        llvm::report_fatal_error(
            llvm::Twine("out of host memory for the staging copy of buffer #") +
            llvm::Twine(index));
      }
    }
    if (!current[index]) {
      if (llvm::Error err = read(index))
        llvm::report_fatal_error(llvm::Twine(llvm::toString(std::move(err))));
      current[index] = true;
    }
    written[index] = true; // the caller may write through the pointer
    return copies[index]->data();
  }

  llvm::Error run() override {
    accel_error message;
    if (staged)
      for (size_t i = 0; i < copies.size(); ++i)
        if (written[i]) {
          if (d.write_buffer(e, static_cast<int32_t>(i), 0, copies[i]->data(),
                             copies[i]->size(), &message) != 0)
            return error(message.message);
          written[i] = false;
        }
    current.assign(current.size(), false);
    if (d.run(e, &message) != 0)
      return error(message.message);
    return llvm::Error::success();
  }

  void commitState() override {
    accel_error message;
    current.assign(current.size(), false);
    if (d.commit_state(e, &message) != 0)
      llvm::report_fatal_error(llvm::Twine("driver '") + d.name +
                               "' failed to commit the state: " +
                               message.message);
  }

  void setProfiling(bool on) override { d.set_profiling(e, on ? 1 : 0); }

  const std::vector<double> &profile() const override {
    times.assign(prog.code.size(), 0.0);
    accel_error message;
    if (d.read_profile(e, times.data(), times.size(), &message) != 0)
      times.assign(prog.code.size(), 0.0);
    return times;
  }

private:
  llvm::Error read(size_t i) {
    accel_error message;
    if (d.read_buffer(e, static_cast<int32_t>(i), 0, copies[i]->data(),
                      copies[i]->size(), &message) != 0)
      return error(message.message);
    return llvm::Error::success();
  }

  std::shared_ptr<DeviceHandle> device;
  const accel_driver &d;
  accel_executable *e;
  Program prog;
  bool staged = false;
  std::vector<std::unique_ptr<HostMemory>> copies;
  /// Per buffer: the host copy holds the device's value; the host may have
  /// written it since the last run.
  std::vector<bool> current, written;
  mutable std::vector<double> times;
};

class HostBuffer final : public Buffer {
public:
  explicit HostBuffer(size_t bytes) : memory(bytes) {}
  size_t size() const override { return memory.size(); }
  uint8_t *host() override { return memory.data(); }

private:
  HostMemory memory;
};

class PluginDevice final : public Device {
public:
  explicit PluginDevice(std::shared_ptr<DeviceHandle> handle)
      : handle(std::move(handle)), d(this->handle->d),
        device(this->handle->device) {}

  std::string name() const override { return d.device_name(device); }

  llvm::Expected<std::unique_ptr<Executable>> load(Program program) override {
    StepPrograms programs;
    programs.trainStep = std::move(program);
    llvm::Expected<std::vector<uint8_t>> file = serializeProgramFile(programs);
    if (!file)
      return file.takeError();
    accel_executable *e = nullptr;
    accel_error message;
    if (d.load_program(device, file->data(), file->size(), &e, &message) != 0)
      return error(message.message);
    auto executable = std::make_unique<PluginExecutable>(
        handle, e, std::move(programs.trainStep));
    if (llvm::Error err = executable->init())
      return std::move(err);
    return executable;
  }

  /// Staging memory for runners: host memory, as the cpu driver's.
  llvm::Expected<std::unique_ptr<Buffer>> allocate(size_t bytes) override {
    try {
      return std::make_unique<HostBuffer>(bytes);
    } catch (const std::bad_alloc &) {
      return error("out of host memory for a " + llvm::Twine(bytes) +
                   "-byte buffer");
    }
  }

  llvm::Expected<DeviceMemory> memory() override {
    DeviceMemory m;
    accel_error message;
    if (d.device_memory(device, &m.total, &m.free, &message) != 0)
      return error(message.message);
    return m;
  }

private:
  std::shared_ptr<DeviceHandle> handle;
  const accel_driver &d;
  accel_device *device;
};

class PluginDriver final : public Driver {
public:
  explicit PluginDriver(const accel_driver &d) : d(d) {}

  DriverSupport support() const override {
    auto list = [](const char *text) {
      std::vector<std::string> items;
      llvm::SmallVector<llvm::StringRef> parts;
      llvm::StringRef(text ? text : "").split(parts, ',', -1, false);
      for (llvm::StringRef p : parts)
        items.push_back(p.trim().str());
      return items;
    };
    return {d.description ? d.description : "", list(d.kernels),
            list(d.element_types)};
  }

  llvm::Expected<std::unique_ptr<Device>>
  createDevice(const DeviceOptions &options) override {
    std::unique_ptr<accel_collectives> collectives;
    if (Communicator *comm = options.communicator)
      collectives.reset(new accel_collectives{
          comm, comm->rank(), comm->size(), hostAllReduce, hostReduceScatter,
          hostAllGather, hostAbort});
    accel_device_options o{sizeof(accel_device_options), options.threads,
                           collectives.get()};
    accel_device *device = nullptr;
    accel_error message;
    if (d.create_device(&o, &device, &message) != 0)
      return error(llvm::Twine("driver '") + d.name +
                   "' cannot open a device: " + message.message);
    return std::make_unique<PluginDevice>(std::make_shared<DeviceHandle>(
        d, device, std::move(collectives)));
  }

private:
  const accel_driver &d;
};

/// Where this program's executable lies, for the search path.
std::string executableDirectory() {
  static int anchor;
  std::string exe = llvm::sys::fs::getMainExecutable(nullptr, &anchor);
  return exe.empty() ? std::string()
                     : llvm::sys::path::parent_path(exe).str();
}

} // namespace

std::vector<std::string> driverSearchPath() {
  std::vector<std::string> path;
  if (const char *env = std::getenv("ACCEL_DRIVER_PATH")) {
    llvm::SmallVector<llvm::StringRef> parts;
    llvm::StringRef(env).split(parts, ':', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef p : parts)
      path.push_back(p.str());
  }
  std::string exe = executableDirectory();
  if (!exe.empty()) {
    path.push_back(exe);
    llvm::SmallString<256> lib(exe);
    llvm::sys::path::append(lib, "..", "lib", "accel");
    path.push_back(std::string(lib.str()));
  }
  return path;
}

std::map<std::string, std::string> findDriverLibraries() {
  std::map<std::string, std::string> found;
  for (const std::string &dir : driverSearchPath()) {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec)) {
      llvm::StringRef file = llvm::sys::path::filename(it->path());
      if (file.size() > kPrefix.size() + kSuffix.size() &&
          file.starts_with(kPrefix) && file.ends_with(kSuffix))
        found.emplace(file.drop_front(kPrefix.size())
                          .drop_back(kSuffix.size())
                          .str(),
                      it->path());
    }
  }
  return found;
}

llvm::Expected<std::unique_ptr<Driver>> loadPluginDriver(llvm::StringRef name,
                                                         llvm::StringRef path) {
  // Libraries stay loaded: their objects may outlive any one driver.
  static std::mutex mutex;
  static std::map<std::string, const accel_driver *> loaded;
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(path.str());
  if (it == loaded.end()) {
    void *library = dlopen(path.str().c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library)
      return error("cannot load driver '" + name + "' from '" + path +
                   "': " + dlerror());
    auto entry = reinterpret_cast<accel_driver_entry_fn>(
        dlsym(library, "accel_driver_entry"));
    if (!entry)
      return error("'" + path + "' is not an accel driver: it does not export "
                   "accel_driver_entry");
    const accel_driver *d = entry(ACCEL_DRIVER_ABI_VERSION);
    if (!d)
      return error("driver '" + name + "' ('" + path +
                   "') returned no driver table");
    if (d->abi_version != ACCEL_DRIVER_ABI_VERSION)
      return error("driver '" + name + "' ('" + path +
                   "') implements driver ABI version " +
                   llvm::Twine(d->abi_version) + "; this accel needs version " +
                   llvm::Twine(ACCEL_DRIVER_ABI_VERSION) +
                   " (rebuild the driver against this accel's accel_driver.h)");
    if (d->struct_size < sizeof(accel_driver) || !d->name)
      return error("driver '" + name + "' ('" + path +
                   "') has an incomplete driver table");
    if (name != d->name)
      return error("'" + path + "' calls itself '" + d->name + "', not '" +
                   name + "'");
    it = loaded.emplace(path.str(), d).first;
  }
  return std::make_unique<PluginDriver>(*it->second);
}

} // namespace accel::rt::hal
