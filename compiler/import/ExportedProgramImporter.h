//===- ExportedProgramImporter.h - torch.export to accel --------*- C++ -*-===//
//
// Reads an archive written by torch.export.save (a `.pt2` file) in C++ —
// its program as JSON (`models/model.json`), its weights as raw bytes
// (`data/weights/`) — and builds the same `func.func @forward` as the
// TorchScript importer, through the same aten op table.
//
// Unlike a TorchScript file, a `.pt2` archive holds no code: reading one runs
// nothing from it.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_EXPORTEDPROGRAMIMPORTER_H
#define ACCEL_COMPILER_IMPORT_EXPORTEDPROGRAMIMPORTER_H

#include "compiler/import/TorchScriptImporter.h"

namespace accel {

/// Imports the program of a torch.export archive. `options.method` must be
/// "forward". Errors (a corrupt archive or JSON, an unknown schema version,
/// pickled or missing weights, wrong dtype codes or sizes, inputs that do
/// not match the exported shapes, unsupported ops) come back as one
/// llvm::Error.
llvm::Expected<ImportResult> importExportedProgram(mlir::MLIRContext &context,
                                                   const ImportOptions &options);

/// True when `path` names a torch.export archive (by its `.pt2` suffix).
bool isExportedProgramPath(llvm::StringRef path);

} // namespace accel

#endif // ACCEL_COMPILER_IMPORT_EXPORTEDPROGRAMIMPORTER_H
