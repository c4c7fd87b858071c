//===- BoundedJson.h - JSON parsing with a nesting limit --------*- C++ -*-===//
//
// llvm::json::parse recurses once per nesting level, so a file of a few
// hundred kilobytes of `[` overflows the stack (a crash, or a hang when the
// overflow lands inside malloc). Every JSON accel reads from files
// (safetensors headers, checkpoint manifests) goes through this instead: a
// linear scan refuses documents nested deeper than the limit before the
// parser recurses.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_BOUNDEDJSON_H
#define ACCEL_RUNTIME_IO_BOUNDEDJSON_H

#include "llvm/Support/JSON.h"

namespace accel::io {

/// Deeper than any file accel writes or reads needs (safetensors headers
/// nest 3 levels, manifests 2).
constexpr unsigned kMaxJsonDepth = 64;

/// llvm::json::parse, after checking that arrays and objects nest at most
/// `maxDepth` levels (brackets inside strings do not count).
llvm::Expected<llvm::json::Value> parseBoundedJson(llvm::StringRef text,
                                                   unsigned maxDepth = kMaxJsonDepth);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_BOUNDEDJSON_H
