//===- LoadProbe.h - load TorchScript in a helper process first -*- C++ -*-===//
//
// LibTorch's TorchScript front end (its parser, type parser and compiler)
// crashes on some malformed code instead of throwing, its unpickler on some
// malformed pickles, and checks before loading cannot foresee every such
// input. So a process forked from the importer (its exact state: whether
// LibTorch crashes depends on the heap) reads and loads an archive first:
// if it dies, the archive is refused, and the importer reads and loads
// only archives that were read and loaded there.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_LOADPROBE_H
#define ACCEL_COMPILER_IMPORT_LOADPROBE_H

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/Support/Error.h"

#include <string>

namespace accel::import {

/// Runs `checks` and then, if they pass, loads the TorchScript archive at
/// `path` with torch::jit::load, in a helper process forked from this one
/// (so with exactly this process's state), and fails, naming the signal or
/// exit code, when that process dies. The checks are the importer's own
/// reading of the archive before it loads it (LibTorch's unpickler reads
/// its pickles, and can crash there too); their errors and LibTorch's
/// exceptions are not errors here: the importer, doing the same next,
/// reports them. Calls are serialised.
llvm::Error probeTorchScriptLoad(const std::string &path,
                                 llvm::function_ref<llvm::Error()> checks);

} // namespace accel::import

#endif // ACCEL_COMPILER_IMPORT_LOADPROBE_H
