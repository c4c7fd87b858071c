//===- IdxFuzzer.cpp - the IDX/gzip reader under libFuzzer -----------------===//
//
// Fashion-MNIST's files, gzip-compressed or not: any bytes must give an
// array or an error (decompression capped at 64 MiB here, so that a zip
// bomb is an error within the fuzzer's memory limit).
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Idx.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<accel::io::IdxBytes> array = accel::io::decodeIdxFile(
      llvm::ArrayRef<uint8_t>(data, size), "fuzz.idx", size_t(64) << 20);
  if (!array) {
    llvm::consumeError(array.takeError());
    return 0;
  }
  // An accepted array holds exactly the elements its shape says.
  uint64_t elements = 1;
  for (int64_t d : array->shape)
    elements *= static_cast<uint64_t>(d);
  if (elements != array->data.size())
    __builtin_trap();
  return 0;
}
