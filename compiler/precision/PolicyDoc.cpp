//===- PolicyDoc.cpp - the autocast table as Markdown ---------------------===//
//
// Writes docs/precision-policy.md from AutocastPolicy.def, so the documented
// table is the one the compiler uses (//docs:generated_docs_test compares).
//
//===----------------------------------------------------------------------===//

#include "compiler/precision/AutocastPolicy.h"

#include <iostream>

using namespace accel::precision;

int main() {
  std::cout << "<!-- Generated from compiler/precision/AutocastPolicy.def by "
               "tools/update-docs.sh; do not edit. -->\n\n"
               "# Autocast op policy\n\n"
               "How `accel-autocast` casts each op's floating operands, per "
               "device policy. The list column names torch.autocast's list "
               "(aten/src/ATen/autocast_mode.cpp) whose entry for the aten op "
               "decides; `-` means no list names the op, so it runs in its "
               "inputs' type, promoting mixed inputs as PyTorch does.\n\n"
               "| accel op | aten op | cpu | cuda |\n"
               "|---|---|---|---|\n";
  for (const PolicyEntry &e : policyTable())
    std::cout << "| `" << e.accelOp << "` | `" << e.atenOp << "` | "
              << listName(e.cpu) << " | " << listName(e.cuda) << " |\n";
  std::cout << "| every other op | | - | - |\n";
  return 0;
}
