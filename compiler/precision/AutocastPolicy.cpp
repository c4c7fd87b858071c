//===- AutocastPolicy.cpp - the autocast op lists -------------------------===//

#include "compiler/precision/AutocastPolicy.h"

namespace accel::precision {

const std::vector<PolicyEntry> &policyTable() {
  static const std::vector<PolicyEntry> table = {
#define ACCEL_AUTOCAST(ACCEL_OP, ATEN_OP, CPU_RULE, CUDA_RULE)                 \
  {ACCEL_OP, ATEN_OP, CastRule::CPU_RULE, CastRule::CUDA_RULE},
#include "compiler/precision/AutocastPolicy.def"
  };
  return table;
}

std::optional<PolicyEntry> lookupPolicy(std::string_view accelOp) {
  for (const PolicyEntry &entry : policyTable())
    if (entry.accelOp == accelOp)
      return entry;
  return std::nullopt;
}

std::string_view listName(CastRule rule) {
  switch (rule) {
  case CastRule::LowerPrecision:
    return "lower_precision_fp";
  case CastRule::Fp32:
    return "fp32";
  case CastRule::Promote:
    return "promote";
  case CastRule::Inputs:
    return "-";
  }
  return "-";
}

std::optional<Device> parseDevice(std::string_view name) {
  if (name == "cpu")
    return Device::Cpu;
  if (name == "cuda")
    return Device::Cuda;
  return std::nullopt;
}

std::string_view deviceName(Device device) {
  return device == Device::Cpu ? "cpu" : "cuda";
}

} // namespace accel::precision
