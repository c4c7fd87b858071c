//===- PickleCheck.h - a pickle's structure checked first -------*- C++ -*-===//
//
// LibTorch 1.13's unpickler trusts what a pickle says. A string opcode
// claiming 4 GB reserves 4 GB before it reads the 6 bytes that follow; a
// memo index of 4 billion grows the memo table to 4 billion entries; an
// opcode that pops more than the stack holds pops an empty vector (heap
// corruption, found by tests/fuzz/ArchiveFuzzer.cpp). A TorchScript archive
// of a few kilobytes could so exhaust memory or crash the importer.
//
// So the importer runs every pickle of an archive through this check first:
// one pass over the opcodes (Python's pickle protocols 0-5, laid out as
// Python's pickletools describes them) that follows the stack depth, the
// marks and the memo the way the unpickler would, without building objects.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_SUPPORT_PICKLECHECK_H
#define ACCEL_COMPILER_SUPPORT_PICKLECHECK_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace accel {

/// Checks `pickle` up to its STOP: every argument lies inside the pickle
/// (a length, a frame, a line), every memo index is below the pickle's size
/// and is stored before it is read, every opcode finds the objects and the
/// mark it pops, and STOP leaves one object and no mark. An opcode it does
/// not know ends the check (the unpickler rejects it itself). The error
/// names `name`, the opcode and its byte offset.
llvm::Error checkPickle(llvm::StringRef pickle, llvm::StringRef name);

} // namespace accel

#endif // ACCEL_COMPILER_SUPPORT_PICKLECHECK_H
