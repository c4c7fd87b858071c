//===- Checkpoint.cpp - atomic training checkpoints -----------------------===//

#include "runtime/io/Checkpoint.h"

#include "runtime/io/BoundedJson.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <fcntl.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>

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

} // namespace

llvm::Error writeCheckpoint(llvm::StringRef directory,
                            llvm::ArrayRef<TensorRef> tensors,
                            const CheckpointManifest &manifest) {
  if (std::error_code ec = llvm::sys::fs::create_directories(directory))
    return error("cannot create '" + directory + "': " + ec.message());
  std::string name = stepName(manifest.step);
  llvm::SmallString<256> finalDir(directory), tempDir(directory);
  llvm::sys::path::append(finalDir, name);
  llvm::sys::path::append(tempDir, "." + name + ".tmp");
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
  if (std::error_code ec = llvm::sys::fs::create_directory(tempDir))
    return error("cannot create '" + tempDir + "': " + ec.message());

  llvm::SmallString<256> statePath(tempDir), manifestPath(tempDir);
  llvm::sys::path::append(statePath, "state.safetensors");
  llvm::sys::path::append(manifestPath, "manifest.json");
  if (llvm::Error e = writeSafetensors(statePath, tensors))
    return e;
  llvm::json::Object checksums;
  for (const TensorRef &t : tensors)
    checksums[t.name] = static_cast<int64_t>(checksum(t.bytes));
  llvm::json::Object json{{"step", manifest.step},
                          {"epoch", manifest.epoch},
                          {"batch_in_epoch", manifest.batchInEpoch},
                          {"seed", static_cast<int64_t>(manifest.seed)},
                          {"state", "state.safetensors"},
                          {"crc32", std::move(checksums)}};
  if (!manifest.extra.empty())
    json["extra"] = llvm::json::Object(manifest.extra);
  std::string text;
  llvm::raw_string_ostream(text) << llvm::formatv("{0:2}", llvm::json::Value(std::move(json)));
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

/// Reads and checks the checkpoint in `directory`/`name`.
llvm::Expected<Checkpoint> readCheckpoint(llvm::StringRef directory,
                                          llvm::StringRef name) {
  Checkpoint checkpoint;
  llvm::SmallString<256> stepDir(directory);
  llvm::sys::path::append(stepDir, name);
  checkpoint.path = std::string(stepDir);

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
  checkpoint.state = std::move(*state);
  return checkpoint;
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
  return readCheckpoint(directory, *name);
}

llvm::Expected<Checkpoint>
readNewestIntactCheckpoint(llvm::StringRef directory,
                           std::vector<std::string> &rejected) {
  std::string latest;
  std::vector<std::string> steps = stepDirectories(directory);
  if (llvm::Expected<std::string> name = latestName(directory)) {
    latest = *name;
    llvm::Expected<Checkpoint> c = readCheckpoint(directory, latest);
    if (c)
      return c;
    rejected.push_back(llvm::toString(c.takeError()));
  } else if (steps.empty()) {
    return name.takeError(); // no checkpoint at all
  } else {
    rejected.push_back(llvm::toString(name.takeError()));
  }
  for (const std::string &name : steps) {
    if (name == latest)
      continue;
    llvm::Expected<Checkpoint> c = readCheckpoint(directory, name);
    if (c)
      return c;
    rejected.push_back(llvm::toString(c.takeError()));
  }
  std::string message = "no intact checkpoint in '" + directory.str() + "'";
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
