//===- NestingFuzzer.cpp - the bracket-depth check under libFuzzer ---------===//
//
// The check that guards the MLIR and TorchScript parsers' recursion: any
// text, in either syntax, is measured in one pass without a crash.
//
//===----------------------------------------------------------------------===//

#include "compiler/support/Nesting.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::StringRef text(reinterpret_cast<const char *>(data), size);
  for (accel::SourceSyntax syntax :
       {accel::SourceSyntax::Mlir, accel::SourceSyntax::Python})
    llvm::consumeError(accel::checkNesting(text, "fuzz", syntax, 16));
  return 0;
}
