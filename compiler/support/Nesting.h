//===- Nesting.h - bracket depth of source text -----------------*- C++ -*-===//
//
// MLIR's parser and TorchScript's recurse once per nested bracket, so text
// nested deeply enough (100,000 levels of `[`) overflows their stack. The
// tools measure the nesting first, in one loop, and refuse text deeper than
// any real program is.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_COMPILER_SUPPORT_NESTING_H
#define ACCEL_COMPILER_SUPPORT_NESTING_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

namespace accel {

/// Deeper than any program accel reads (a rank-8 dense attribute inside a
/// few nested regions needs about 20 levels).
constexpr unsigned kMaxNesting = 512;

/// The syntax the scanner skips: what is not code.
enum class SourceSyntax {
  Mlir,  // "strings" with \ escapes, // comments; < > nest (not ->)
  Python // 'strings' and "strings" with \ escapes, # comments; < > do not nest
};

/// Checks that brackets in `text` nest at most `limit` deep; the error
/// names `name` and the line and column where the limit is passed.
llvm::Error checkNesting(llvm::StringRef text, llvm::StringRef name,
                         SourceSyntax syntax, unsigned limit = kMaxNesting);

} // namespace accel

#endif // ACCEL_COMPILER_SUPPORT_NESTING_H
