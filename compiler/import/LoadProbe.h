//===- LoadProbe.h - load TorchScript in a helper process first -*- C++ -*-===//
//
// LibTorch's TorchScript front end (its parser, type parser and compiler)
// crashes on some malformed code instead of throwing, and checks before
// loading cannot foresee every such input. So a process forked from the
// importer (its exact state: whether the type parser crashes depends on the
// heap) loads an archive first: if it dies, the archive is refused, and the
// importer loads only archives that loaded there.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_IMPORT_LOADPROBE_H
#define ACCEL_COMPILER_IMPORT_LOADPROBE_H

#include "llvm/Support/Error.h"

#include <string>

namespace accel::import {

/// Loads the TorchScript archive at `path` with torch::jit::load in a helper
/// process forked from this one (so with exactly this process's state) and
/// fails, naming the signal or exit code, when that process dies.
/// LibTorch's exceptions are not errors here: the real load reports them.
/// Calls are serialised.
llvm::Error probeTorchScriptLoad(const std::string &path);

} // namespace accel::import

#endif // ACCEL_COMPILER_IMPORT_LOADPROBE_H
