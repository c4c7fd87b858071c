//===- Report.h - what the report passes share ------------------*- C++ -*-===//
//
// accel-precision-report and accel-comm-report print for people and tools
// alike: each op's place in the user's model, and the report written to
// stdout or a file.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_TRANSFORMS_REPORT_H
#define ACCEL_COMPILER_TRANSFORMS_REPORT_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Location.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace accel {

/// The innermost file location of `loc` ("model.py:12:5"), which for an
/// imported model is its source; "?" when there is none.
std::string sourceOf(mlir::Location loc);

/// Checks a report pass's `format` option (table or json), with an error
/// at `module` otherwise.
mlir::LogicalResult checkReportFormat(mlir::ModuleOp module,
                                      llvm::StringRef format);

/// Runs `print` on `output` ("-": stdout). Fails with an error at `module`
/// when the file cannot be written.
mlir::LogicalResult
writeReport(mlir::ModuleOp module, llvm::StringRef output,
            llvm::function_ref<void(llvm::raw_ostream &)> print);

} // namespace accel

#endif // ACCEL_COMPILER_TRANSFORMS_REPORT_H
