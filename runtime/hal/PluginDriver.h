//===- PluginDriver.h - drivers loaded from shared libraries ----*- C++ -*-===//
//
// A driver that is not built in is a shared library implementing the C ABI
// of accel_driver.h, libaccel_driver_<NAME>.so, found on the driver search
// path: the directories in $ACCEL_DRIVER_PATH (':'-separated), then the
// directory of the running program and its ../lib/accel. DriverRegistry
// falls back to it for names it does not know; these adapters make such a
// driver a hal::Driver like any other.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_HAL_PLUGINDRIVER_H
#define ACCEL_RUNTIME_HAL_PLUGINDRIVER_H

#include "runtime/hal/Hal.h"

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace accel::rt::hal {

/// The driver search path, in order.
std::vector<std::string> driverSearchPath();

/// Every driver library on the search path: name -> path (the first found
/// of each name).
std::map<std::string, std::string> findDriverLibraries();

/// Loads the driver library at `path` (once per process; it stays loaded)
/// and checks that it implements this accel's ABI version and calls itself
/// `name`.
llvm::Expected<std::unique_ptr<Driver>> loadPluginDriver(llvm::StringRef name,
                                                         llvm::StringRef path);

} // namespace accel::rt::hal

#endif // ACCEL_RUNTIME_HAL_PLUGINDRIVER_H
