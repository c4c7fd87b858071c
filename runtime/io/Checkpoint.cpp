//===- Checkpoint.cpp - atomic training checkpoints -----------------------===//

#include "runtime/io/Checkpoint.h"

#include "runtime/io/BoundedJson.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cassert>
#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace accel::io {
namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// fsyncs a file or directory by path.
llvm::Error syncPath(llvm::StringRef path) {
  int fd = ::open(path.str().c_str(), O_RDONLY);
  if (fd < 0)
    return error("cannot open '" + path + "' to sync it");
  int status = ::fsync(fd);
  ::close(fd);
  if (status != 0)
    return error("fsync of '" + path + "' failed");
  return llvm::Error::success();
}

/// Writes `text` to `path` via a synced temporary file and a rename.
llvm::Error writeTextAtomically(llvm::StringRef path, llvm::StringRef text) {
  llvm::SmallString<256> temp(path);
  temp += ".tmp";
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(temp, ec);
    if (ec)
      return error("cannot write '" + temp + "': " + ec.message());
    os << text;
    os.close();
    if (os.has_error()) {
      std::error_code failure = os.error();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return error("cannot write '" + temp + "': " + failure.message());
    }
  }
  if (llvm::Error e = syncPath(temp))
    return e;
  if (std::error_code ec = llvm::sys::fs::rename(temp, path))
    return error("cannot rename '" + temp + "': " + ec.message());
  return syncPath(llvm::sys::path::parent_path(path));
}

/// CRC-32 (zlib's) of `bytes`.
uint32_t checksum(llvm::ArrayRef<uint8_t> bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc32_z(0, nullptr, 0), bytes.data(), bytes.size()));
}

/// The step and rewrite count a checkpoint directory's name holds
/// ("step-000000040" -> (40, 0), "step-000000040.2" -> (40, 2)).
std::optional<std::pair<int64_t, int64_t>> parseStepName(llvm::StringRef name) {
  if (!name.consume_front("step-"))
    return std::nullopt;
  auto [step, rewrite] = name.split('.');
  int64_t s = 0, k = 0;
  if (step.getAsInteger(10, s) || s < 0 ||
      (!rewrite.empty() && (rewrite.getAsInteger(10, k) || k < 1)))
    return std::nullopt;
  return std::pair{s, k};
}

/// The checkpoint directories under `directory`, newest first.
std::vector<std::string> stepDirectories(llvm::StringRef directory) {
  std::vector<std::pair<std::pair<int64_t, int64_t>, std::string>> found;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(directory, ec), end;
       it != end && !ec; it.increment(ec)) {
    std::string entry = llvm::sys::path::filename(it->path()).str();
    if (auto key = parseStepName(entry))
      found.push_back({*key, entry});
  }
  std::sort(found.begin(), found.end(), std::greater<>());
  std::vector<std::string> names;
  for (auto &f : found)
    names.push_back(f.second);
  return names;
}

std::string stepName(int64_t step) {
  std::string name;
  llvm::raw_string_ostream(name)
      << llvm::format("step-%09lld", static_cast<long long>(step));
  return name;
}

/// The temporary directory a checkpoint of `step` is written in.
llvm::SmallString<256> tempDirectory(llvm::StringRef directory, int64_t step) {
  llvm::SmallString<256> temp(directory);
  llvm::sys::path::append(temp, "." + stepName(step) + ".tmp");
  return temp;
}

std::string rankFileName(int64_t rank, int64_t ranks) {
  std::string name;
  llvm::raw_string_ostream(name)
      << llvm::format("rank-%05lld-of-%05lld.safetensors",
                      static_cast<long long>(rank),
                      static_cast<long long>(ranks));
  return name;
}

/// Checks that the safetensors file `file` (at `path`) holds exactly the
/// parts `layout` puts in file `index`, each of its tensor's dtype and
/// size, and (when `crcs` is set) of the CRC-32 recorded; otherwise records
/// the CRC-32 of each into `computed`.
llvm::Error checkFile(const CheckpointLayout &layout, size_t index,
                      const SafetensorsFile &file, llvm::StringRef path,
                      llvm::StringRef manifestPath, bool verify,
                      std::map<std::pair<size_t, size_t>, uint32_t> *computed) {
  size_t expected = 0;
  for (auto [t, tensor] : llvm::enumerate(layout.tensors))
    for (auto [k, part] : llvm::enumerate(tensor.parts)) {
      if (part.file != static_cast<int64_t>(index))
        continue;
      ++expected;
      const SafetensorsFile::Tensor *stored = file.find(tensor.name);
      if (!stored)
        return error("'" + path + "' lacks \"" + tensor.name +
                     "\", which '" + manifestPath + "' puts there");
      std::vector<int64_t> shape =
          tensor.whole() ? tensor.shape
                         : std::vector<int64_t>{part.end - part.begin};
      if (stored->dtype != tensor.dtype || stored->shape != shape)
        return error("'" + path + "': \"" + tensor.name +
                     "\" is not of the dtype and shape '" + manifestPath +
                     "' records");
      uint32_t got = checksum(stored->bytes);
      if (verify && got != part.crc32)
        return error("'" + path + "' is corrupt: \"" + tensor.name +
                     "\" has CRC-32 " + llvm::Twine(got) +
                     ", the manifest says " + llvm::Twine(part.crc32));
      if (computed)
        (*computed)[{t, k}] = got;
    }
  if (file.names().size() != expected)
    return error("'" + path + "' holds " + llvm::Twine(file.names().size()) +
                 " tensors, '" + manifestPath + "' lists " +
                 llvm::Twine(expected));
  return llvm::Error::success();
}

/// manifest.json's text: indented, but each part one line
/// ([file, begin, end, crc32], as the shape), so that a many-rank layout stays readable.
std::string manifestText(const CheckpointLayout &layout,
                         const CheckpointManifest &manifest) {
  std::string text;
  llvm::raw_string_ostream os(text);
  llvm::json::OStream json(os, 2);
  json.object([&] {
    json.attribute("step", manifest.step);
    json.attribute("epoch", manifest.epoch);
    json.attribute("batch_in_epoch", manifest.batchInEpoch);
    json.attribute("seed", static_cast<int64_t>(manifest.seed));
    if (!manifest.extra.empty())
      json.attribute("extra", llvm::json::Object(manifest.extra));
    json.attribute("ranks", layout.ranks);
    json.attribute("strategy", layout.strategy);
    json.attributeArray("files", [&] {
      for (const std::string &f : layout.files)
        json.value(f);
    });
    // An array, not an object: the tensors keep their order.
    json.attributeArray("tensors", [&] {
      for (const StateTensor &t : layout.tensors)
        json.object([&] {
          json.attribute("name", t.name);
          json.attribute("role", t.role);
          json.attribute("dtype", dtypeName(t.dtype));
          json.attributeBegin("shape");
          json.rawValue("[" +
                        llvm::join(llvm::map_range(t.shape,
                                                   [](int64_t d) {
                                                     return std::to_string(d);
                                                   }),
                                   ", ") +
                        "]");
          json.attributeEnd();
          json.attributeArray("parts", [&] {
            for (const TensorPart &p : t.parts)
              json.rawValue(llvm::formatv("[{0}, {1}, {2}, {3}]", p.file,
                                          p.begin, p.end, p.crc32)
                                .str());
          });
        });
    });
  });
  os << "\n";
  return text;
}

} // namespace

int64_t StateTensor::numElements() const {
  // A zero anywhere first: a checked file's other dimensions may multiply
  // past 64 bits before it.
  if (llvm::is_contained(shape, 0))
    return 0;
  int64_t n = 1;
  for (int64_t d : shape)
    n *= d;
  return n;
}

const StateTensor *CheckpointLayout::find(llvm::StringRef name) const {
  for (const StateTensor &t : tensors)
    if (t.name == name)
      return &t;
  return nullptr;
}

CheckpointLayout checkpointLayout(llvm::ArrayRef<StateTensorSpec> tensors,
                                  int64_t ranks, llvm::StringRef strategy) {
  CheckpointLayout layout;
  layout.ranks = ranks;
  layout.strategy = strategy.str();
  bool sharded = llvm::any_of(tensors, [](auto &t) { return t.sharded; });
  if (!sharded || ranks == 1)
    layout.files = {"state.safetensors"};
  else
    for (int64_t r = 0; r < ranks; ++r)
      layout.files.push_back(rankFileName(r, ranks));
  for (const StateTensorSpec &spec : tensors) {
    StateTensor t{spec.name, spec.role, spec.dtype, spec.shape, {}};
    int64_t n = t.numElements();
    if (spec.sharded && layout.files.size() > 1) {
      int64_t shard = (n + ranks - 1) / ranks;
      for (int64_t r = 0; r < ranks && r * shard < n; ++r)
        t.parts.push_back({r, r * shard, std::min(n, (r + 1) * shard)});
    }
    if (t.parts.empty())
      t.parts.push_back({0, 0, n});
    layout.tensors.push_back(std::move(t));
  }
  return layout;
}

llvm::Error beginCheckpoint(llvm::StringRef directory, int64_t step) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return error("cannot create '" + directory + "': " + ec.message());
  // Killed writers leave their temporary directories; one writer owns a
  // checkpoint directory, so any found now is stale.
  {
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(directory, ec), end;
         it != end && !ec; it.increment(ec)) {
      llvm::StringRef entry = llvm::sys::path::filename(it->path());
      if (entry.starts_with(".step-") && entry.ends_with(".tmp"))
        llvm::sys::fs::remove_directories(it->path());
    }
  }
  llvm::SmallString<256> temp = tempDirectory(directory, step);
  if (std::error_code ec = llvm::sys::fs::create_directory(temp))
    return error("cannot create '" + temp + "': " + ec.message());
  return llvm::Error::success();
}

namespace {

/// Reads file `f` of the checkpoint being written in `tempDir` back and
/// returns the checksums of its parts, in layout order.
llvm::Expected<PartChecksums> checksumFile(llvm::StringRef tempDir,
                                           const CheckpointLayout &layout,
                                           size_t f) {
  llvm::SmallString<256> path(tempDir), manifestPath(tempDir);
  llvm::sys::path::append(path, layout.files[f]);
  llvm::sys::path::append(manifestPath, "manifest.json");
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::read(path);
  if (!file)
    return file.takeError();
  std::map<std::pair<size_t, size_t>, uint32_t> crcs;
  if (llvm::Error e = checkFile(layout, f, *file, path, manifestPath,
                                /*verify=*/false, &crcs))
    return std::move(e);
  PartChecksums ordered; // the map's order: tensor, then part
  for (auto &[at, crc] : crcs)
    ordered.push_back(crc);
  return ordered;
}

} // namespace

size_t partsInFile(const CheckpointLayout &layout, size_t file) {
  size_t n = 0;
  for (const StateTensor &t : layout.tensors)
    for (const TensorPart &part : t.parts)
      n += part.file == static_cast<int64_t>(file);
  return n;
}

llvm::Expected<PartChecksums>
writeCheckpointFile(llvm::StringRef directory, int64_t step,
                    const CheckpointLayout &layout, size_t file,
                    PartBytes bytes) {
  std::vector<TensorRef> tensors;
  for (const StateTensor &t : layout.tensors)
    for (const TensorPart &part : t.parts)
      if (part.file == static_cast<int64_t>(file))
        tensors.push_back(
            {t.name, t.dtype,
             t.whole() ? t.shape : std::vector<int64_t>{part.end - part.begin},
             bytes(t, part)});
  llvm::SmallString<256> tempDir = tempDirectory(directory, step);
  llvm::SmallString<256> path(tempDir);
  llvm::sys::path::append(path, layout.files[file]);
  // writeSafetensors fsyncs the file and its directory.
  if (llvm::Error e = writeSafetensors(path, tensors))
    return std::move(e);
  return checksumFile(tempDir, layout, file);
}

llvm::Error commitCheckpoint(llvm::StringRef directory,
                             const CheckpointLayout &layout,
                             const CheckpointManifest &manifest,
                             llvm::ArrayRef<PartChecksums> checksums) {
  std::string name = stepName(manifest.step);
  llvm::SmallString<256> tempDir = tempDirectory(directory, manifest.step);
  llvm::SmallString<256> finalDir(directory), manifestPath(tempDir);
  llvm::sys::path::append(finalDir, name);
  llvm::sys::path::append(manifestPath, "manifest.json");
  // Every part as it reached the disk: the writers' checksums of the files
  // they read back, or, without them, each file read back here.
  if (!checksums.empty() && checksums.size() != layout.files.size())
    return error("checkpoint of step " + llvm::Twine(manifest.step) + ": " +
                 llvm::Twine(checksums.size()) + " files' checksums for " +
                 llvm::Twine(layout.files.size()) + " files");
  CheckpointLayout committed = layout;
  for (size_t f = 0; f < layout.files.size(); ++f) {
    PartChecksums read;
    if (checksums.empty()) {
      llvm::Expected<PartChecksums> c = checksumFile(tempDir, layout, f);
      if (!c)
        return c.takeError();
      read = std::move(*c);
    }
    const PartChecksums &crcs = checksums.empty() ? read : checksums[f];
    if (crcs.size() != partsInFile(layout, f))
      return error("checkpoint of step " + llvm::Twine(manifest.step) + ": '" +
                   layout.files[f] + "' has " +
                   llvm::Twine(partsInFile(layout, f)) + " parts but " +
                   llvm::Twine(crcs.size()) + " checksums");
    size_t next = 0;
    for (StateTensor &t : committed.tensors)
      for (TensorPart &part : t.parts)
        if (part.file == static_cast<int64_t>(f))
          part.crc32 = crcs[next++];
  }
  std::string text = manifestText(committed, manifest);
  if (llvm::Error e = writeTextAtomically(manifestPath, text))
    return e;
  if (llvm::Error e = syncPath(tempDir))
    return e;

  // Publish under a name no checkpoint has: an older checkpoint of the same
  // step (a rerun after resuming) stays intact, and possibly `latest`, until
  // the new one is complete and `latest` points at it.
  std::string published = name;
  for (int k = 1; llvm::sys::fs::exists(finalDir); ++k) {
    published = name + "." + std::to_string(k);
    finalDir = directory;
    llvm::sys::path::append(finalDir, published);
  }
  if (std::error_code ec = llvm::sys::fs::rename(tempDir, finalDir))
    return error("cannot rename '" + tempDir + "': " + ec.message());
  if (llvm::Error e = syncPath(directory))
    return e;
  llvm::SmallString<256> latest(directory);
  llvm::sys::path::append(latest, "latest");
  if (llvm::Error e = writeTextAtomically(latest, published + "\n"))
    return e;
  // Only now may the superseded checkpoints of this step go.
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(directory, ec), end;
       it != end && !ec; it.increment(ec)) {
    llvm::StringRef entry = llvm::sys::path::filename(it->path());
    if (entry != published &&
        (entry == name || entry.starts_with(name + ".")))
      llvm::sys::fs::remove_directories(it->path());
  }
  return llvm::Error::success();
}

llvm::Error writeCheckpoint(llvm::StringRef directory,
                            const CheckpointLayout &layout, PartBytes bytes,
                            const CheckpointManifest &manifest) {
  if (llvm::Error e = beginCheckpoint(directory, manifest.step))
    return e;
  std::vector<PartChecksums> checksums;
  for (size_t f = 0; f < layout.files.size(); ++f) {
    llvm::Expected<PartChecksums> c =
        writeCheckpointFile(directory, manifest.step, layout, f, bytes);
    if (!c)
      return c.takeError();
    checksums.push_back(std::move(*c));
  }
  return commitCheckpoint(directory, layout, manifest, checksums);
}

llvm::Error writeCheckpoint(llvm::StringRef directory,
                            llvm::ArrayRef<TensorRef> tensors,
                            const CheckpointManifest &manifest) {
  std::vector<StateTensorSpec> specs;
  for (const TensorRef &t : tensors)
    specs.push_back({t.name, "", t.dtype, t.shape, false});
  CheckpointLayout layout = checkpointLayout(specs, 1, "");
  return writeCheckpoint(
      directory, layout,
      [&](const StateTensor &t, const TensorPart &) {
        for (const TensorRef &ref : tensors)
          if (ref.name == t.name)
            return ref.bytes;
        return llvm::ArrayRef<uint8_t>();
      },
      manifest);
}

namespace {

/// A manifest's layout: the files (plain names, one or one per rank) and
/// every tensor's role, dtype, shape and parts (contiguous, covering its
/// elements, in files that exist).
llvm::Expected<CheckpointLayout> parseLayout(const llvm::json::Object &root,
                                             llvm::StringRef source) {
  auto bad = [&](const llvm::Twine &what) {
    return error("'" + source + "': " + what);
  };
  CheckpointLayout layout;
  std::optional<int64_t> ranks = root.getInteger("ranks");
  std::optional<llvm::StringRef> strategy = root.getString("strategy");
  const llvm::json::Array *files = root.getArray("files");
  const llvm::json::Array *tensors = root.getArray("tensors");
  if (!ranks || *ranks < 1 || *ranks > (1 << 24) || !strategy || !files ||
      !tensors)
    return bad("a layout needs ranks (a positive count), strategy, files "
               "and tensors");
  if (!llvm::is_contained({"", "ddp", "zero1", "zero2", "fsdp"}, *strategy))
    return bad("unknown strategy '" + *strategy + "'");
  layout.ranks = *ranks;
  layout.strategy = strategy->str();
  if (files->size() != 1 && static_cast<int64_t>(files->size()) != *ranks)
    return bad("there are " + llvm::Twine(files->size()) +
               " files for " + llvm::Twine(*ranks) + " ranks (one, or one "
               "per rank)");
  for (const llvm::json::Value &f : *files) {
    std::optional<llvm::StringRef> name = f.getAsString();
    // Names inside the step directory only.
    if (!name || name->empty() || name->starts_with(".") ||
        name->find_first_of("/\\") != llvm::StringRef::npos ||
        !name->ends_with(".safetensors") ||
        llvm::is_contained(layout.files, *name))
      return bad("a file name is not a plain, unique '*.safetensors' name");
    layout.files.push_back(name->str());
  }
  int64_t fileCount = static_cast<int64_t>(layout.files.size());
  std::set<std::string> names;
  for (const llvm::json::Value &value : *tensors) {
    const llvm::json::Object *t = value.getAsObject();
    std::optional<llvm::StringRef> key = t ? t->getString("name") : std::nullopt;
    if (!key || key->empty() || !names.insert(key->str()).second)
      return bad("a tensor has no name, or one another tensor has");
    std::string name = key->str();
    std::optional<llvm::StringRef> role = t ? t->getString("role") : std::nullopt;
    std::optional<llvm::StringRef> dtypeText =
        t ? t->getString("dtype") : std::nullopt;
    std::optional<DType> dtype =
        dtypeText ? parseDType(*dtypeText) : std::nullopt;
    const llvm::json::Array *shape = t ? t->getArray("shape") : nullptr;
    const llvm::json::Array *parts = t ? t->getArray("parts") : nullptr;
    if (!role || !dtype || !shape || !parts || parts->empty() ||
        !llvm::is_contained({"", "param", "buffer", "opt_state", "fp8_state"},
                            *role))
      return bad("\"" + name + "\" needs a known role, a dtype, a shape and "
                 "parts");
    StateTensor tensor{name, role->str(), *dtype, {}, {}};
    // Element counts stay below 2^62, so no part arithmetic overflows.
    int64_t elements = 1;
    for (const llvm::json::Value &d : *shape) {
      std::optional<int64_t> size = d.getAsInteger();
      if (!size || *size < 0 ||
          (*size > 0 && elements > (int64_t(1) << 62) / *size))
        return bad("\"" + name + "\" has an invalid shape");
      elements *= *size;
      tensor.shape.push_back(*size);
    }
    int64_t next = 0;
    for (const llvm::json::Value &p : *parts) {
      const llvm::json::Array *fields = p.getAsArray();
      std::optional<int64_t> v[4];
      for (size_t k = 0; fields && fields->size() == 4 && k < 4; ++k)
        v[k] = (*fields)[k].getAsInteger();
      if (!v[0] || !v[1] || !v[2] || !v[3] || *v[0] < 0 ||
          *v[0] >= fileCount || *v[1] != next || *v[2] < *v[1] ||
          *v[2] > elements || *v[3] < 0 || *v[3] > 0xffffffffLL)
        return bad("the parts of \"" + name + "\" are not [file, begin, "
                   "end, crc32] rows, contiguous over its elements");
      tensor.parts.push_back(
          {*v[0], *v[1], *v[2], static_cast<uint32_t>(*v[3])});
      next = *v[2];
    }
    if (next != elements)
      return bad("the parts of \"" + name + "\" cover " + llvm::Twine(next) +
                 " of its " + llvm::Twine(elements) + " elements");
    // A file holds one part of a tensor at most (its name is the key).
    for (size_t a = 0; a < tensor.parts.size(); ++a)
      for (size_t b = a + 1; b < tensor.parts.size(); ++b)
        if (tensor.parts[a].file == tensor.parts[b].file)
          return bad("two parts of \"" + name + "\" lie in one file");
    layout.tensors.push_back(std::move(tensor));
  }
  return layout;
}

} // namespace

llvm::Expected<ParsedManifest> parseManifest(llvm::StringRef text,
                                             llvm::StringRef directoryName,
                                             llvm::StringRef source) {
  llvm::Expected<llvm::json::Value> json = parseBoundedJson(text);
  if (!json)
    return error("'" + source + "' is not valid JSON: " +
                 llvm::toString(json.takeError()));
  const llvm::json::Object *root = json->getAsObject();
  std::optional<int64_t> step = root ? root->getInteger("step") : std::nullopt;
  std::optional<int64_t> epoch = root ? root->getInteger("epoch") : std::nullopt;
  std::optional<int64_t> batch =
      root ? root->getInteger("batch_in_epoch") : std::nullopt;
  std::optional<int64_t> seed = root ? root->getInteger("seed") : std::nullopt;
  if (!step || !epoch || !batch || !seed)
    return error("'" + source + "' lacks step, epoch, batch_in_epoch or seed");
  // The manifest must agree with the directory it sits in (written
  // together; a rewritten step's directory is step-<N>.<k>), and positions
  // are never negative: a resumed run indexes its data with them.
  std::optional<std::pair<int64_t, int64_t>> dirStep =
      parseStepName(directoryName);
  if (!dirStep || *step != dirStep->first)
    return error("'" + source + "' says step " + llvm::Twine(*step) +
                 ", but it is in '" + directoryName + "'");
  if (*step < 0 || *epoch < 0 || *batch < 0 || *seed < 0)
    return error("'" + source +
                 "' has a negative step, epoch, batch_in_epoch or seed");
  ParsedManifest parsed;
  parsed.manifest.step = *step;
  parsed.manifest.epoch = *epoch;
  parsed.manifest.batchInEpoch = *batch;
  parsed.manifest.seed = static_cast<uint64_t>(*seed);
  if (const llvm::json::Object *extra = root->getObject("extra"))
    parsed.manifest.extra = *extra;
  if (root->get("tensors")) {
    llvm::Expected<CheckpointLayout> layout = parseLayout(*root, source);
    if (!layout)
      return layout.takeError();
    parsed.layout = std::move(*layout);
    return parsed;
  }
  if (const llvm::json::Value *crcs = root->get("crc32")) {
    const llvm::json::Object *table = crcs->getAsObject();
    if (!table)
      return error("'" + source + "': crc32 is not an object");
    parsed.crc32.emplace();
    for (const auto &[name, value] : *table) {
      std::optional<int64_t> crc = value.getAsInteger();
      if (!crc || *crc < 0 || *crc > 0xffffffffLL)
        return error("'" + source + "': the checksum of \"" + name.str() +
                     "\" is not a CRC-32");
      (*parsed.crc32)[name.str()] = static_cast<uint32_t>(*crc);
    }
  }
  return parsed;
}

namespace {

/// Reads and checks the checkpoint in the step directory `stepDir` (only
/// the files `needed` selects, when given).
llvm::Expected<Checkpoint> readCheckpoint(llvm::StringRef stepDir,
                                          const NeededFiles &needed = nullptr) {
  Checkpoint checkpoint;
  // "DIR/step-N/" names step-N too.
  while (stepDir.size() > 1 && llvm::sys::path::is_separator(stepDir.back()))
    stepDir = stepDir.drop_back();
  checkpoint.path = stepDir.str();
  llvm::StringRef name = llvm::sys::path::filename(stepDir);

  llvm::SmallString<256> manifestPath(stepDir);
  llvm::sys::path::append(manifestPath, "manifest.json");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> text =
      llvm::MemoryBuffer::getFile(manifestPath);
  if (!text)
    return error("cannot read '" + manifestPath + "': " +
                 text.getError().message());
  llvm::Expected<ParsedManifest> parsed =
      parseManifest((*text)->getBuffer(), name, manifestPath);
  if (!parsed)
    return parsed.takeError();
  checkpoint.manifest = std::move(parsed->manifest);

  if (parsed->layout) {
    checkpoint.layout = std::move(*parsed->layout);
    std::vector<bool> wanted(checkpoint.layout.files.size(), true);
    if (needed)
      wanted = needed(checkpoint.layout);
    for (auto [f, fileName] : llvm::enumerate(checkpoint.layout.files)) {
      checkpoint.loaded.push_back(f < wanted.size() && wanted[f]);
      if (!checkpoint.loaded.back()) {
        checkpoint.files.emplace_back();
        continue;
      }
      llvm::SmallString<256> path(stepDir);
      llvm::sys::path::append(path, fileName);
      llvm::Expected<SafetensorsFile> file = SafetensorsFile::read(path);
      if (!file)
        return file.takeError();
      if (llvm::Error e = checkFile(checkpoint.layout, f, *file, path,
                                    manifestPath, /*verify=*/true, nullptr))
        return std::move(e);
      checkpoint.files.push_back(std::move(*file));
    }
    return checkpoint;
  }

  // Written before layouts: state.safetensors of whole tensors.
  llvm::SmallString<256> statePath(stepDir);
  llvm::sys::path::append(statePath, "state.safetensors");
  llvm::Expected<SafetensorsFile> state = SafetensorsFile::read(statePath);
  if (!state)
    return state.takeError();
  // Every tensor's bytes as they were written, and the same set of tensors.
  if (const auto &crcs = parsed->crc32) {
    for (const std::string &tensor : state->names()) {
      auto want = crcs->find(tensor);
      if (want == crcs->end())
        return error("'" + manifestPath + "' has no checksum of \"" + tensor +
                     "\", which '" + statePath + "' holds");
      uint32_t got = checksum(state->find(tensor)->bytes);
      if (want->second != got)
        return error("'" + statePath + "' is corrupt: \"" + tensor +
                     "\" has CRC-32 " + llvm::Twine(got) +
                     ", the manifest says " + llvm::Twine(want->second));
    }
    if (crcs->size() != state->names().size())
      return error("'" + statePath + "' lacks tensors the manifest lists (" +
                   llvm::Twine(state->names().size()) + " of " +
                   llvm::Twine(crcs->size()) + ")");
  }
  checkpoint.layout.ranks = 0; // not recorded
  checkpoint.layout.files = {"state.safetensors"};
  for (const std::string &tensor : state->names()) {
    const SafetensorsFile::Tensor *t = state->find(tensor);
    StateTensor entry{tensor, "", t->dtype, t->shape, {}};
    entry.parts.push_back({0, 0, entry.numElements(),
                           static_cast<uint32_t>(checksum(t->bytes))});
    checkpoint.layout.tensors.push_back(std::move(entry));
  }
  checkpoint.files.push_back(std::move(*state));
  checkpoint.loaded.push_back(true);
  return checkpoint;
}

llvm::Expected<Checkpoint> readCheckpoint(llvm::StringRef directory,
                                          llvm::StringRef name,
                                          const NeededFiles &needed) {
  llvm::SmallString<256> stepDir(directory);
  llvm::sys::path::append(stepDir, name);
  return readCheckpoint(stepDir, needed);
}

/// The directory name `latest` holds.
llvm::Expected<std::string> latestName(llvm::StringRef directory) {
  llvm::SmallString<256> latest(directory);
  llvm::sys::path::append(latest, "latest");
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> pointer =
      llvm::MemoryBuffer::getFile(latest);
  if (!pointer)
    return error("no checkpoint in '" + directory + "' (cannot read '" +
                 latest + "': " + pointer.getError().message() + ")");
  llvm::StringRef name = (*pointer)->getBuffer().trim();
  if (!name.starts_with("step-") || name.contains('/'))
    return error("'" + latest + "' does not name a checkpoint");
  return name.str();
}

} // namespace

llvm::Expected<Checkpoint> readLatestCheckpoint(llvm::StringRef directory) {
  llvm::Expected<std::string> name = latestName(directory);
  if (!name)
    return name.takeError();
  return readCheckpoint(directory, *name, nullptr);
}

llvm::Expected<Checkpoint> readCheckpointAt(llvm::StringRef path) {
  return readCheckpoint(path);
}

void Checkpoint::read(const StateTensor &tensor, int64_t begin, int64_t end,
                      uint8_t *out) const {
  size_t size = dtypeSize(tensor.dtype);
  for (const TensorPart &part : tensor.parts) {
    int64_t from = std::max(begin, part.begin), to = std::min(end, part.end);
    if (from >= to)
      continue;
    assert(loaded[part.file] && "a part in a file the reader did not need");
    const SafetensorsFile::Tensor *stored = files[part.file].find(tensor.name);
    std::memcpy(out + (from - begin) * size,
                stored->bytes.data() + (from - part.begin) * size,
                (to - from) * size);
  }
}

llvm::Expected<Checkpoint>
readNewestIntactCheckpoint(llvm::StringRef directory,
                           std::vector<std::string> &rejected,
                           const NeededFiles &needed, int64_t atMostStep) {
  auto tooNew = [&](llvm::StringRef name) {
    std::optional<std::pair<int64_t, int64_t>> key = parseStepName(name);
    return key && key->first > atMostStep;
  };
  std::string latest;
  std::vector<std::string> steps = stepDirectories(directory);
  if (llvm::Expected<std::string> name = latestName(directory)) {
    latest = *name;
    if (!tooNew(latest)) {
      llvm::Expected<Checkpoint> c = readCheckpoint(directory, latest, needed);
      if (c)
        return c;
      rejected.push_back(llvm::toString(c.takeError()));
    }
  } else if (steps.empty()) {
    return name.takeError(); // no checkpoint at all
  } else {
    rejected.push_back(llvm::toString(name.takeError()));
  }
  for (const std::string &name : steps) {
    if (name == latest || tooNew(name))
      continue;
    llvm::Expected<Checkpoint> c = readCheckpoint(directory, name, needed);
    if (c)
      return c;
    rejected.push_back(llvm::toString(c.takeError()));
  }
  std::string message = "no intact checkpoint in '" + directory.str() + "'";
  if (atMostStep != INT64_MAX)
    message += " at step " + std::to_string(atMostStep) + " or before";
  for (const std::string &r : rejected)
    message += "\n  " + r;
  return error(message);
}

llvm::Error pruneCheckpoints(llvm::StringRef directory, unsigned keep) {
  if (keep == 0)
    return llvm::Error::success();
  llvm::Expected<std::string> latest = latestName(directory);
  if (!latest)
    return latest.takeError();
  std::vector<std::string> names = stepDirectories(directory);
  for (size_t i = keep; i < names.size(); ++i) {
    if (names[i] == *latest)
      continue;
    llvm::SmallString<256> path(directory);
    llvm::sys::path::append(path, names[i]);
    if (std::error_code ec = llvm::sys::fs::remove_directories(path))
      return error("cannot remove the old checkpoint '" + path +
                   "': " + ec.message());
  }
  return llvm::Error::success();
}

} // namespace accel::io
