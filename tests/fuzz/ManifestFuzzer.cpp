//===- ManifestFuzzer.cpp - checkpoint manifests under libFuzzer -----------===//
//
// manifest.json of a checkpoint in step-000000005/ (positions, and a
// layout of files and tensor parts): any text must give a checked manifest
// or an error.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Checkpoint.h"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  llvm::Expected<accel::io::ParsedManifest> manifest = accel::io::parseManifest(
      llvm::StringRef(reinterpret_cast<const char *>(data), size),
      "step-000000005", "fuzz/manifest.json");
  if (!manifest) {
    llvm::consumeError(manifest.takeError());
    return 0;
  }
  // What an accepted manifest promises the resumed run.
  if (manifest->manifest.step != 5 || manifest->manifest.epoch < 0 ||
      manifest->manifest.batchInEpoch < 0)
    __builtin_trap();
  // What an accepted layout promises the reader: every part in a file that
  // exists, the parts contiguous over every element.
  if (const auto &layout = manifest->layout) {
    if (layout->files.empty() || layout->ranks < 1)
      __builtin_trap();
    for (const accel::io::StateTensor &t : layout->tensors) {
      int64_t next = 0;
      for (const accel::io::TensorPart &p : t.parts) {
        if (p.file < 0 || p.file >= static_cast<int64_t>(layout->files.size()) ||
            p.begin != next || p.end < p.begin)
          __builtin_trap();
        next = p.end;
      }
      if (t.parts.empty() || next != t.numElements())
        __builtin_trap();
    }
  }
  return 0;
}
