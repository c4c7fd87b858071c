//===- Hal.cpp - the driver registry --------------------------------------===//

#include "runtime/hal/Hal.h"

#include "runtime/hal/PluginDriver.h"

namespace accel::rt::hal {

DriverRegistry &DriverRegistry::global() {
  static DriverRegistry registry;
  return registry;
}

llvm::Error DriverRegistry::add(llvm::StringRef name, Factory factory) {
  if (!factories.emplace(name.str(), std::move(factory)).second)
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "a driver named '" + name +
                                       "' is already registered");
  return llvm::Error::success();
}

llvm::Expected<std::unique_ptr<Driver>>
DriverRegistry::create(llvm::StringRef name) const {
  auto it = factories.find(name.str());
  if (it != factories.end())
    return it->second();
  std::map<std::string, std::string> plugins = findDriverLibraries();
  if (auto p = plugins.find(name.str()); p != plugins.end())
    return loadPluginDriver(name, p->second);
  std::string known, found, path;
  for (const std::string &n : names())
    known += (known.empty() ? "" : ", ") + n;
  for (const auto &entry : plugins)
    found += (found.empty() ? "" : ", ") + entry.first;
  for (const std::string &dir : driverSearchPath())
    path += (path.empty() ? "" : ":") + dir;
  return llvm::createStringError(
      llvm::inconvertibleErrorCode(),
      "no driver named '" + name + "' (built in: " + known +
          "; plugins found: " + (found.empty() ? "none" : found) +
          ", searching " + path + ")");
}

std::vector<std::string> DriverRegistry::names() const {
  std::vector<std::string> result;
  for (const auto &entry : factories)
    result.push_back(entry.first);
  return result;
}

llvm::Expected<std::unique_ptr<Executable>>
loadOn(llvm::StringRef driverName, const DeviceOptions &options, Program program) {
  llvm::Expected<std::unique_ptr<Driver>> driver =
      DriverRegistry::global().create(driverName);
  if (!driver)
    return driver.takeError();
  llvm::Expected<std::unique_ptr<Device>> device = (*driver)->createDevice(options);
  if (!device)
    return device.takeError();
  return (*device)->load(std::move(program));
}

} // namespace accel::rt::hal
