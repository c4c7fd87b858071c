//===- Safetensors.cpp - safetensors files --------------------------------===//

#include "runtime/io/Safetensors.h"

#include "runtime/io/BoundedJson.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/ConvertUTF.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace accel::io {

namespace {

// The reference implementation's cap on the JSON header, which keeps a
// corrupt length field from allocating gigabytes.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

struct DTypeInfo {
  DType dtype;
  llvm::StringLiteral name;
  size_t size;
};

constexpr DTypeInfo kDTypes[] = {
    {DType::F64, "F64", 8},         {DType::F32, "F32", 4},
    {DType::F16, "F16", 2},         {DType::BF16, "BF16", 2},
    {DType::F8_E4M3, "F8_E4M3", 1}, {DType::F8_E5M2, "F8_E5M2", 1},
    {DType::I64, "I64", 8},         {DType::I32, "I32", 4},
    {DType::I16, "I16", 2},         {DType::I8, "I8", 1},
    {DType::U8, "U8", 1},           {DType::Bool, "BOOL", 1},
};

const DTypeInfo &info(DType dtype) {
  return *llvm::find_if(kDTypes,
                        [&](const DTypeInfo &i) { return i.dtype == dtype; });
}

llvm::Error error(llvm::StringRef source, const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 source + ": " + message);
}

/// Number of elements, or nullopt on a negative dimension or overflow.
std::optional<uint64_t> elementCount(llvm::ArrayRef<int64_t> shape) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0 || (d != 0 && n > UINT64_MAX / static_cast<uint64_t>(d)))
      return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

/// The keys of the top-level JSON object in `text`, in order, decoded.
/// `text` must already have parsed as JSON; llvm::json keeps only the last
/// of duplicate keys, and safetensors names must be unique.
std::vector<std::string> topLevelKeys(llvm::StringRef text) {
  std::vector<std::string> keys;
  int depth = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      size_t start = i++;
      for (; text[i] != '"'; ++i)
        if (text[i] == '\\')
          ++i;
      llvm::StringRef literal = text.slice(start, i + 1);
      size_t next = text.find_first_not_of(" \t\r\n", i + 1);
      if (depth == 1 && next != llvm::StringRef::npos && text[next] == ':') {
        llvm::Expected<llvm::json::Value> key = llvm::json::parse(literal);
        if (key && key->getAsString())
          keys.push_back(key->getAsString()->str());
        else
          llvm::consumeError(key.takeError());
      }
    }
  }
  return keys;
}

} // namespace

llvm::StringRef dtypeName(DType dtype) { return info(dtype).name; }

std::optional<DType> parseDType(llvm::StringRef name) {
  for (const DTypeInfo &i : kDTypes)
    if (i.name == name)
      return i.dtype;
  return std::nullopt;
}

size_t dtypeSize(DType dtype) { return info(dtype).size; }

llvm::Error writeSafetensors(llvm::StringRef path,
                             llvm::ArrayRef<TensorRef> tensors,
                             const std::map<std::string, std::string> &metadata) {
  llvm::StringSet<> names;
  llvm::json::Object header;
  if (!metadata.empty()) {
    llvm::json::Object meta;
    for (const auto &[key, value] : metadata)
      meta[key] = value;
    header["__metadata__"] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const TensorRef &t : tensors) {
    if (t.name == "__metadata__" || !names.insert(t.name).second)
      return error(path, "tensor name \"" + t.name + "\" is " +
                             (t.name == "__metadata__" ? "reserved"
                                                       : "used twice"));
    std::optional<uint64_t> count = elementCount(t.shape);
    if (!count || *count * dtypeSize(t.dtype) != t.bytes.size())
      return error(path, "tensor \"" + t.name + "\" has " +
                             llvm::Twine(t.bytes.size()) +
                             " bytes, which does not match its shape");
    header[t.name] = llvm::json::Object{
        {"dtype", dtypeName(t.dtype)},
        {"shape", llvm::json::Array(t.shape)},
        {"data_offsets", llvm::json::Array{offset, offset + t.bytes.size()}}};
    offset += t.bytes.size();
  }
  std::string json;
  llvm::raw_string_ostream(json) << llvm::json::Value(std::move(header));
  // Pad with spaces so the data starts 8-byte aligned, as the reference
  // writer does; readers accept trailing whitespace in the header.
  json.append((8 - json.size() % 8) % 8, ' ');

  llvm::SmallString<256> temp;
  int fd = -1;
  llvm::StringRef dir = llvm::sys::path::parent_path(path);
  llvm::SmallString<256> model(dir.empty() ? "." : dir);
  llvm::sys::path::append(model, "." + llvm::sys::path::filename(path) +
                                     ".tmp-%%%%%%");
  if (std::error_code ec = llvm::sys::fs::createUniqueFile(model, fd, temp))
    return error(path, "cannot create a temporary file: " + ec.message());
  auto fail = [&](const llvm::Twine &what) {
    ::close(fd);
    llvm::sys::fs::remove(temp);
    return error(path, what);
  };
  auto writeAll = [&](const void *data, size_t size) {
    const char *p = static_cast<const char *>(data);
    while (size > 0) {
      ssize_t n = ::write(fd, p, size);
      if (n < 0) {
        if (errno == EINTR)
          continue;
        return false;
      }
      p += n;
      size -= static_cast<size_t>(n);
    }
    return true;
  };
  uint8_t length[8];
  for (int i = 0; i < 8; ++i)
    length[i] = static_cast<uint8_t>(static_cast<uint64_t>(json.size()) >> (8 * i));
  if (!writeAll(length, 8) || !writeAll(json.data(), json.size()))
    return fail("write failed: " + llvm::Twine(std::strerror(errno)));
  for (const TensorRef &t : tensors)
    if (!writeAll(t.bytes.data(), t.bytes.size()))
      return fail("write failed: " + llvm::Twine(std::strerror(errno)));
  if (::fsync(fd) != 0)
    return fail("fsync failed: " + llvm::Twine(std::strerror(errno)));
  ::close(fd);
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return error(path, "cannot rename the temporary file: " + ec.message());
  }
  // Make the rename itself durable.
  int dirFd = ::open(dir.empty() ? "." : dir.str().c_str(), O_RDONLY);
  if (dirFd >= 0) {
    ::fsync(dirFd);
    ::close(dirFd);
  }
  return llvm::Error::success();
}

llvm::Expected<SafetensorsFile> SafetensorsFile::read(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> buffer =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!buffer)
    return error(path, "cannot read: " + buffer.getError().message());
  llvm::StringRef data = (*buffer)->getBuffer();
  return parse(std::vector<uint8_t>(data.bytes_begin(), data.bytes_end()),
               path);
}

llvm::Expected<SafetensorsFile>
SafetensorsFile::parse(std::vector<uint8_t> bytes, llvm::StringRef source) {
  if (bytes.size() < 8)
    return error(source, "not a safetensors file: " + llvm::Twine(bytes.size()) +
                             " bytes, shorter than the 8-byte header length");
  uint64_t headerSize = 0;
  for (int i = 7; i >= 0; --i)
    headerSize = (headerSize << 8) | bytes[i];
  if (headerSize > kMaxHeaderBytes)
    return error(source, "header length " + llvm::Twine(headerSize) +
                             " exceeds the limit of " +
                             llvm::Twine(kMaxHeaderBytes) + " bytes");
  if (headerSize > bytes.size() - 8)
    return error(source, "header length " + llvm::Twine(headerSize) +
                             " runs past the end of the file (" +
                             llvm::Twine(bytes.size()) + " bytes)");
  llvm::StringRef text(reinterpret_cast<const char *>(bytes.data()) + 8,
                       headerSize);
  if (!llvm::json::isUTF8(text))
    return error(source, "header is not valid UTF-8");
  llvm::Expected<llvm::json::Value> json = parseBoundedJson(text);
  if (!json)
    return error(source, "header is not valid JSON: " +
                             llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  if (!root)
    return error(source, "header is not a JSON object");
  llvm::StringSet<> seen;
  for (const std::string &key : topLevelKeys(text))
    if (!seen.insert(key).second)
      return error(source, "tensor \"" + key + "\" appears twice in the header");

  SafetensorsFile file;
  file.contents = std::make_shared<std::vector<uint8_t>>(std::move(bytes));
  const uint8_t *data = file.contents->data() + 8 + headerSize;
  uint64_t dataSize = file.contents->size() - 8 - headerSize;

  struct Extent {
    uint64_t begin, end;
    std::string name;
  };
  std::vector<Extent> extents;
  for (const auto &[key, value] : *root) {
    std::string name = key.str();
    if (name == "__metadata__") {
      const llvm::json::Object *meta = value.getAsObject();
      if (!meta)
        return error(source, "__metadata__ is not an object");
      for (const auto &[mk, mv] : *meta) {
        std::optional<llvm::StringRef> s = mv.getAsString();
        if (!s)
          return error(source, "__metadata__ value of \"" + mk.str() +
                                   "\" is not a string");
        file.meta[mk.str()] = s->str();
      }
      continue;
    }
    const llvm::json::Object *entry = value.getAsObject();
    if (!entry)
      return error(source, "tensor \"" + name + "\" is not an object");
    std::optional<llvm::StringRef> dtypeText = entry->getString("dtype");
    const llvm::json::Array *shapeJson = entry->getArray("shape");
    const llvm::json::Array *offsets = entry->getArray("data_offsets");
    if (!dtypeText || !shapeJson || !offsets)
      return error(source, "tensor \"" + name +
                               "\" needs dtype, shape and data_offsets");
    std::optional<DType> dtype = parseDType(*dtypeText);
    if (!dtype)
      return error(source, "tensor \"" + name + "\" has unsupported dtype \"" +
                               *dtypeText + "\"");
    std::vector<int64_t> shape;
    // Sizes and offsets are JSON integers: llvm::json would also read an
    // integral float (`4.0`) as one, which the format's reference reader
    // rejects, so they are read as unsigned integers only.
    auto unsignedInt = [](const llvm::json::Value &v) -> std::optional<int64_t> {
      std::optional<uint64_t> u = v.getAsUINT64();
      if (!u || *u > uint64_t(INT64_MAX))
        return std::nullopt;
      return static_cast<int64_t>(*u);
    };
    for (const llvm::json::Value &d : *shapeJson) {
      std::optional<int64_t> v = unsignedInt(d);
      if (!v)
        return error(source, "tensor \"" + name +
                                 "\" has a shape entry that is not a "
                                 "non-negative integer");
      shape.push_back(*v);
    }
    std::optional<int64_t> begin =
        offsets->size() == 2 ? unsignedInt((*offsets)[0]) : std::nullopt;
    std::optional<int64_t> end =
        offsets->size() == 2 ? unsignedInt((*offsets)[1]) : std::nullopt;
    if (!begin || !end || *end < *begin)
      return error(source, "tensor \"" + name +
                               "\" has invalid data_offsets");
    std::optional<uint64_t> count = elementCount(shape);
    uint64_t span = static_cast<uint64_t>(*end - *begin);
    if (!count || *count > UINT64_MAX / dtypeSize(*dtype) ||
        *count * dtypeSize(*dtype) != span)
      return error(source, "tensor \"" + name + "\" spans " +
                               llvm::Twine(span) +
                               " bytes, which does not match its dtype and "
                               "shape");
    extents.push_back({static_cast<uint64_t>(*begin),
                       static_cast<uint64_t>(*end), name});
    file.tensors[name] = Tensor{*dtype, std::move(shape), {}};
  }

  // Offsets must tile [0, dataSize) exactly: no gaps, overlaps or slack.
  llvm::sort(extents, [](const Extent &a, const Extent &b) {
    return a.begin < b.begin || (a.begin == b.begin && a.end < b.end);
  });
  uint64_t expected = 0;
  for (const Extent &e : extents) {
    if (e.begin != expected)
      return error(source, "tensor \"" + e.name + "\" starts at byte " +
                               llvm::Twine(e.begin) + ", expected " +
                               llvm::Twine(expected) +
                               " (data must be contiguous)");
    expected = e.end;
    Tensor &t = file.tensors[e.name];
    t.bytes = llvm::ArrayRef<uint8_t>(data + e.begin, e.end - e.begin);
    file.order.push_back(e.name);
  }
  if (expected != dataSize)
    return error(source, "tensors cover " + llvm::Twine(expected) +
                             " bytes but the file holds " +
                             llvm::Twine(dataSize) + " bytes of data");
  return file;
}

const SafetensorsFile::Tensor *
SafetensorsFile::find(llvm::StringRef name) const {
  auto it = tensors.find(name);
  return it == tensors.end() ? nullptr : &it->second;
}

} // namespace accel::io
