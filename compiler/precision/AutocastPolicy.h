//===- AutocastPolicy.h - the autocast op lists -----------------*- C++ -*-===//
//
// Lookup over AutocastPolicy.def. Plain C++ over op names, so tools that
// print the table (docs/precision.md) need no MLIR.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_PRECISION_AUTOCASTPOLICY_H
#define ACCEL_COMPILER_PRECISION_AUTOCASTPOLICY_H

#include <optional>
#include <string_view>
#include <vector>

namespace accel::precision {

/// How an op's floating operands are cast under autocast.
enum class CastRule { LowerPrecision, Fp32, Promote, Inputs };

/// Which device's lists apply (torch.autocast's device_type).
enum class Device { Cpu, Cuda };

struct PolicyEntry {
  std::string_view accelOp; // "accel.linear"
  std::string_view atenOp;  // "linear": the list entry it mirrors
  CastRule cpu;
  CastRule cuda;

  CastRule rule(Device device) const {
    return device == Device::Cpu ? cpu : cuda;
  }
};

/// Every row of the table, in its order.
const std::vector<PolicyEntry> &policyTable();

/// The row of `accelOp`, or nullopt for an op no list names (it runs in
/// its inputs' type).
std::optional<PolicyEntry> lookupPolicy(std::string_view accelOp);

/// The name PyTorch's source uses for a rule's list: "lower_precision_fp",
/// "fp32", "promote", or "-" for Inputs.
std::string_view listName(CastRule rule);

std::optional<Device> parseDevice(std::string_view name);
std::string_view deviceName(Device device);

} // namespace accel::precision

#endif // ACCEL_COMPILER_PRECISION_AUTOCASTPOLICY_H
