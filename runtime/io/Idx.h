//===- Idx.h - IDX array files ----------------------------------*- C++ -*-===//
//
// The IDX format of MNIST-style datasets: two zero bytes, a type byte, a
// rank byte, one big-endian 32-bit size per dimension, then the elements
// (big-endian). Files may be gzip-compressed, as Debian's
// dataset-fashion-mnist ships them.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_IDX_H
#define ACCEL_RUNTIME_IO_IDX_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace accel::io {

/// An IDX array of unsigned bytes (type 0x08), the only element type the
/// image datasets use.
struct IdxBytes {
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;
};

/// Reads an IDX file of unsigned bytes, gunzipping it when it starts with
/// the gzip magic. Errors name the file and what is wrong (bad magic, other
/// element type, sizes that do not match the data, corrupt compression).
llvm::Expected<IdxBytes> readIdxBytes(llvm::StringRef path);

/// The same for an in-memory (uncompressed) image; `source` names it.
llvm::Expected<IdxBytes> parseIdxBytes(llvm::ArrayRef<uint8_t> bytes,
                                       llvm::StringRef source);

/// The same for a whole file's bytes, gzip-compressed or not, refusing to
/// decompress beyond `limit` bytes (a zip bomb).
llvm::Expected<IdxBytes> decodeIdxFile(llvm::ArrayRef<uint8_t> file,
                                       llvm::StringRef source,
                                       size_t limit = size_t(4) << 30);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_IDX_H
