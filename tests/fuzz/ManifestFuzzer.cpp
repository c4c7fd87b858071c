//===- ManifestFuzzer.cpp - checkpoint manifests under libFuzzer -----------===//
//
// manifest.json of a checkpoint in step-000000005/: any text must give a
// checked manifest or an error.
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
  return 0;
}
