//===- ReplayMain.cpp - run a fuzz target over files -----------------------===//
//
// The fuzz targets built with the project's compiler and without libFuzzer:
// every file under the given directories (the seed corpus, and inputs that
// once crashed a target) goes through LLVMFuzzerTestOneInput once, so
// `bazel test` keeps the targets building and every regression input
// passing. tools/fuzz.sh runs the same targets under libFuzzer.
//
//===----------------------------------------------------------------------===//

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
// Optional, as under libFuzzer: a target's one-time set-up.
extern "C" __attribute__((weak)) int LLVMFuzzerInitialize(int *argc,
                                                          char ***argv);

int main(int argc, char **argv) {
  if (LLVMFuzzerInitialize)
    LLVMFuzzerInitialize(&argc, &argv);
  int files = 0;
  for (int i = 1; i < argc; ++i) {
    std::error_code ec;
    for (llvm::sys::fs::recursive_directory_iterator it(argv[i], ec), end;
         it != end && !ec; it.increment(ec)) {
      // Runfiles are symbolic links: follow them.
      if (!llvm::sys::fs::is_regular_file(it->path()))
        continue;
      auto buffer = llvm::MemoryBuffer::getFile(it->path());
      if (!buffer) {
        llvm::errs() << "cannot read " << it->path() << "\n";
        return 1;
      }
      LLVMFuzzerTestOneInput(
          reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
          (*buffer)->getBufferSize());
      ++files;
    }
    if (ec) {
      llvm::errs() << "cannot list " << argv[i] << ": " << ec.message() << "\n";
      return 1;
    }
  }
  llvm::outs() << files << " inputs ran\n";
  return files > 0 ? 0 : 1;
}
