//===- Widening.cpp - f32 shadows of reduced-precision buffers ------------===//

#include "runtime/executor/Widening.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

namespace accel::rt {

bool isReducedFloat(ElementType type) {
  return type == ElementType::BF16 || type == ElementType::F16 ||
         type == ElementType::F8E4M3FN || type == ElementType::F8E5M2 ||
         type == ElementType::F8E8M0FNU;
}

WideningPlan planWidening(Program &p,
                          llvm::function_ref<bool(Kernel)> handlesAnyType) {
  WideningPlan plan;
  plan.perInstruction.assign(p.code.size(), {});
  plan.firstShadow = static_cast<int>(p.buffers.size());
  for (size_t pc = 0; pc < p.code.size(); ++pc) {
    Instruction &in = p.code[pc];
    if (handlesAnyType(in.kernel))
      continue;
    WideningPlan::Shadows &w = plan.perInstruction[pc];
    uint64_t used = 0;
    std::vector<std::pair<int, int>> shadows; // buffer -> shadow, this pc
    auto shadowOf = [&](int buffer) {
      for (auto [b, s] : shadows)
        if (b == buffer)
          return s;
      BufferDesc desc = p.buffers[buffer];
      desc.type = ElementType::F32;
      desc.role = BufferDesc::Role::Arena;
      desc.name.clear();
      desc.viewOf = -1;
      int s = static_cast<int>(p.buffers.size());
      p.buffers.push_back(std::move(desc));
      plan.shadowOffsets.push_back(used);
      used += (p.buffers[s].bytes() + 63) / 64 * 64;
      shadows.push_back({buffer, s});
      return s;
    };
    for (int &operand : in.operands)
      if (isReducedFloat(p.buffers[operand].type)) {
        int s = shadowOf(operand);
        if (!llvm::is_contained(w.in, std::pair{operand, s}))
          w.in.push_back({operand, s});
        operand = s;
      }
    for (int &result : in.results)
      if (isReducedFloat(p.buffers[result].type)) {
        int s = shadowOf(result);
        w.out.push_back({result, s});
        result = s;
      }
    plan.bytes = std::max(plan.bytes, used);
  }
  return plan;
}

} // namespace accel::rt
