//===- Report.cpp - what the report passes share --------------------------===//

#include "compiler/transforms/Report.h"

#include "llvm/Support/FileSystem.h"

#include <optional>

using namespace mlir;

namespace accel {

std::string sourceOf(Location loc) {
  std::string found = "?";
  loc->walk([&](Location inner) {
    if (auto file = dyn_cast<FileLineColLoc>(inner)) {
      found = file.getFilename().str() + ":" + std::to_string(file.getLine()) +
              ":" + std::to_string(file.getColumn());
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  return found;
}

LogicalResult checkReportFormat(ModuleOp module, llvm::StringRef format) {
  if (format == "table" || format == "json")
    return success();
  return module.emitError() << "unknown report format '" << format
                            << "' (table or json)";
}

LogicalResult writeReport(ModuleOp module, llvm::StringRef output,
                          llvm::function_ref<void(llvm::raw_ostream &)> print) {
  std::optional<llvm::raw_fd_ostream> file;
  if (output != "-") {
    std::error_code ec;
    file.emplace(output, ec, llvm::sys::fs::OF_Text);
    if (ec)
      return module.emitError()
             << "cannot write '" << output << "': " << ec.message();
  }
  llvm::raw_ostream &os = file ? *file : llvm::outs();
  print(os);
  os.flush();
  return success();
}

} // namespace accel
