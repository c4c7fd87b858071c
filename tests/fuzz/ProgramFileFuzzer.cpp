//===- ProgramFileFuzzer.cpp - the program-file reader under libFuzzer ----===//
//
// A program file's body carries a CRC-32, so mutating its bytes mostly tests
// the checksum. Inputs of even length are repaired first: when the header
// parses, its CRC and version are set to the body's and this accel's, so
// mutations reach the body's tables, enums, kernel names and the program
// checks behind them. Odd lengths are read as they are. Every file that
// reads back must also write and read again to the same bytes.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/ProgramFile.h"
#include "runtime/io/ProgramFile_generated.h"

#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace {

void repair(std::vector<uint8_t> &bytes) {
  if (bytes.size() < 8 || bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return;
  flatbuffers::Verifier::Options options;
  options.check_nested_flatbuffers = false;
  flatbuffers::Verifier header(bytes.data(), bytes.size(), options);
  if (!accel::rt::file::VerifyStepFileBuffer(header))
    return;
  accel::rt::file::StepFile *f =
      accel::rt::file::GetMutableStepFile(bytes.data());
  if (!f->body())
    return;
  // A mutated vtable may place the fields over each other (or over the
  // body's offset): read everything before writing anything.
  auto crc = static_cast<uint32_t>(
      crc32(0L, f->body()->data(), f->body()->size()));
  f->mutate_crc32(crc);
  f->mutate_format_version(accel::rt::kProgramFormatVersion);
}

llvm::StringRef text(const std::vector<uint8_t> &bytes) {
  return {reinterpret_cast<const char *>(bytes.data()), bytes.size()};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<uint8_t> bytes(data, data + size);
  if (size % 2 == 0)
    repair(bytes);
  llvm::Expected<accel::rt::StepPrograms> programs =
      accel::rt::parseProgramFile(text(bytes), "fuzz.accelprog");
  if (!programs) {
    llvm::consumeError(programs.takeError());
    return 0;
  }
  // What was read fits the format: it writes, and reads back the same.
  std::vector<uint8_t> again =
      llvm::cantFail(accel::rt::serializeProgramFile(*programs));
  llvm::Expected<accel::rt::StepPrograms> reread =
      accel::rt::parseProgramFile(text(again), "again.accelprog");
  if (!reread ||
      llvm::cantFail(accel::rt::serializeProgramFile(*reread)) != again)
    __builtin_trap();
  return 0;
}
