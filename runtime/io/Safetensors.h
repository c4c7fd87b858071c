//===- Safetensors.h - safetensors files ------------------------*- C++ -*-===//
//
// The safetensors format: an 8-byte little-endian header length, a JSON
// header mapping each tensor name to {dtype, shape, data_offsets} (plus an
// optional "__metadata__" string map), then the tensor bytes. accel keeps
// parameters, buffers, optimizer state and checkpoints in this format only.
//
// Reading validates what the reference implementation does: a header length
// under 100 MB that fits the file, a UTF-8 JSON object, a known dtype, a byte
// size that matches the shape, offsets that are sorted, contiguous, start at
// zero and cover the data exactly; names are unique.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_SAFETENSORS_H
#define ACCEL_RUNTIME_IO_SAFETENSORS_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace accel::io {

enum class DType { F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8, Bool };

/// The dtype's name in safetensors headers ("F32", "BF16", "F8_E4M3", ...).
llvm::StringRef dtypeName(DType dtype);
/// Parses a header dtype name; nullopt for names outside the allowlist.
std::optional<DType> parseDType(llvm::StringRef name);
/// Bytes per element.
size_t dtypeSize(DType dtype);

/// A tensor to write: the bytes are borrowed, row-major, little-endian.
struct TensorRef {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  llvm::ArrayRef<uint8_t> bytes;
};

/// Writes `tensors` to `path` atomically: a temporary file in the same
/// directory is written, flushed to disk and renamed over `path`, so a reader
/// sees the old file or the new one, never a part. Fails on duplicate names
/// or byte sizes that do not match shapes, before touching the disk.
llvm::Error writeSafetensors(llvm::StringRef path,
                             llvm::ArrayRef<TensorRef> tensors,
                             const std::map<std::string, std::string> &metadata = {});

/// A validated safetensors file held in memory.
class SafetensorsFile {
public:
  struct Tensor {
    DType dtype;
    std::vector<int64_t> shape;
    llvm::ArrayRef<uint8_t> bytes;
  };

  /// Reads and validates the file; errors name the file and the problem.
  static llvm::Expected<SafetensorsFile> read(llvm::StringRef path);
  /// Validates an in-memory image (`source` names it in errors).
  static llvm::Expected<SafetensorsFile> parse(std::vector<uint8_t> contents,
                                               llvm::StringRef source);

  /// Tensor names in file order (by data offset).
  const std::vector<std::string> &names() const { return order; }
  const Tensor *find(llvm::StringRef name) const;
  const std::map<std::string, std::string> &metadata() const { return meta; }

private:
  std::shared_ptr<std::vector<uint8_t>> contents;
  std::map<std::string, Tensor, std::less<>> tensors;
  std::vector<std::string> order;
  std::map<std::string, std::string> meta;
};

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_SAFETENSORS_H
