//===- Idx.cpp - IDX array files ------------------------------------------===//

#include "runtime/io/Idx.h"

#include "llvm/Support/MemoryBuffer.h"

#include <zlib.h>

namespace accel::io {
namespace {

llvm::Error error(llvm::StringRef source, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 source + ": " + message);
}

/// gunzips `compressed`, refusing output beyond `limit` bytes.
llvm::Expected<std::vector<uint8_t>> gunzip(llvm::ArrayRef<uint8_t> compressed,
                                            llvm::StringRef source,
                                            size_t limit) {
  z_stream stream{};
  // 16 + MAX_WBITS: expect a gzip header and trailer.
  if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)
    return error(source, "cannot start gzip decompression");
  stream.next_in = const_cast<Bytef *>(compressed.data());
  stream.avail_in = static_cast<uInt>(compressed.size());
  std::vector<uint8_t> out;
  int status = Z_OK;
  while (status == Z_OK) {
    if (out.size() >= limit) {
      inflateEnd(&stream);
      return error(source, "decompresses to more than " + llvm::Twine(limit) +
                               " bytes");
    }
    size_t have = out.size();
    out.resize(std::min(limit, std::max<size_t>(have * 2, 1 << 20)));
    stream.next_out = out.data() + have;
    stream.avail_out = static_cast<uInt>(out.size() - have);
    status = inflate(&stream, Z_NO_FLUSH);
    out.resize(out.size() - stream.avail_out);
    if (status == Z_BUF_ERROR && stream.avail_in == 0)
      break; // input ended before the stream did
  }
  size_t trailing = stream.avail_in;
  inflateEnd(&stream);
  if (status != Z_STREAM_END)
    return error(source, "corrupt or truncated gzip data");
  // A second gzip member or other bytes after the stream would be data the
  // reader silently dropped.
  if (trailing)
    return error(source, llvm::Twine(trailing) +
                             " bytes follow the gzip stream (a second gzip "
                             "member or trailing data)");
  return out;
}

} // namespace

llvm::Expected<IdxBytes> parseIdxBytes(llvm::ArrayRef<uint8_t> bytes,
                                       llvm::StringRef source) {
  if (bytes.size() < 4 || bytes[0] != 0 || bytes[1] != 0)
    return error(source, "not an IDX file (bad magic number)");
  if (bytes[2] != 0x08)
    return error(source, "IDX element type 0x" +
                             llvm::Twine::utohexstr(bytes[2]) +
                             " is not unsigned bytes (0x8)");
  unsigned rank = bytes[3];
  if (rank == 0 || bytes.size() < 4 + 4 * size_t(rank))
    return error(source, "IDX header is truncated");
  IdxBytes array;
  uint64_t count = 1;
  for (unsigned d = 0; d < rank; ++d) {
    const uint8_t *p = bytes.data() + 4 + 4 * d;
    uint64_t size = (uint64_t(p[0]) << 24) | (uint64_t(p[1]) << 16) |
                    (uint64_t(p[2]) << 8) | uint64_t(p[3]);
    array.shape.push_back(static_cast<int64_t>(size));
    if (size != 0 && count > UINT64_MAX / size)
      return error(source, "IDX sizes overflow a 64-bit element count");
    count *= size;
  }
  size_t offset = 4 + 4 * size_t(rank);
  if (bytes.size() - offset != count)
    return error(source, "IDX sizes give " + llvm::Twine(count) +
                             " elements but the file holds " +
                             llvm::Twine(bytes.size() - offset));
  array.data.assign(bytes.begin() + offset, bytes.end());
  return array;
}

llvm::Expected<IdxBytes> readIdxBytes(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return error(path, "cannot read: " + buffer.getError().message());
  return decodeIdxFile(
      llvm::ArrayRef<uint8_t>(
          reinterpret_cast<const uint8_t *>((*buffer)->getBufferStart()),
          (*buffer)->getBufferSize()),
      path);
}

llvm::Expected<IdxBytes> decodeIdxFile(llvm::ArrayRef<uint8_t> file,
                                       llvm::StringRef source, size_t limit) {
  if (file.size() >= 2 && file[0] == 0x1f && file[1] == 0x8b) {
    // Image datasets are well under 4 GiB; the cap stops a zip bomb.
    llvm::Expected<std::vector<uint8_t>> data = gunzip(file, source, limit);
    if (!data)
      return data.takeError();
    return parseIdxBytes(*data, source);
  }
  return parseIdxBytes(file, source);
}

} // namespace accel::io
