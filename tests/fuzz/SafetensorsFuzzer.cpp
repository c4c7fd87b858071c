//===- SafetensorsFuzzer.cpp - the safetensors reader under libFuzzer -----===//
//
// Parameters, datasets and checkpoint state are safetensors files: any
// bytes must give a file or an error, never a crash or a hang.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Safetensors.h"

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<accel::io::SafetensorsFile> file =
      accel::io::SafetensorsFile::parse(std::vector<uint8_t>(data, data + size),
                                        "fuzz.safetensors");
  if (!file) {
    llvm::consumeError(file.takeError());
    return 0;
  }
  // Touch every tensor's bytes: they must lie inside the input (the
  // sanitizers see the reads).
  volatile unsigned sum = 0;
  for (const std::string &name : file->names())
    for (uint8_t b : file->find(name)->bytes)
      sum = sum + b;
  return 0;
}
