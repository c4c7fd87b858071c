//===- FutureAbiDriver.cpp - a driver of another ABI version --------------===//
//
// libaccel_driver_future.so: a driver library built for the next driver ABI
// version, which accel-run must refuse by its version before calling
// anything in it (tests/lit/run/plugin.test).
//
//===----------------------------------------------------------------------===//

#include "runtime/hal/accel_driver.h"

namespace {
accel_driver makeTable() {
  accel_driver d{};
  d.abi_version = ACCEL_DRIVER_ABI_VERSION + 1;
  d.struct_size = sizeof(accel_driver);
  d.name = "future";
  d.description = "a driver of the next ABI version (a test fixture)";
  return d;
}
const accel_driver kDriver = makeTable();
} // namespace

extern "C" const accel_driver *accel_driver_entry(uint32_t) {
  return &kDriver;
}
