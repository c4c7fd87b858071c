//===- ArchiveFuzzer.cpp - accel-import's archive reader under libFuzzer ---===//
//
// A TorchScript or torch.export archive is a zip whose members carry
// CRC-32s, so mutating its bytes mostly tests the zip reader's checksum. The
// input here is the archive's members instead, and the target zips them
// with LibTorch's own writer before importing: mutations reach the pickles
// (tensor geometry, storage keys, devices), the code (parser depth, unknown
// ops), a torch.export program's JSON (nodes, arguments, signature, weight
// layouts) and the tensor data. Inputs with a `models/model.json` member go
// to the torch.export reader, the others to the TorchScript one.
//
// Input: members, each introduced by a line `#record NAME`; its bytes run
// up to the newline before the next such line. Three names are not members
// but the import's options, one per line as accel-import takes them:
// `accel/input` (input specs), `accel/target` (a target spec) and
// `accel/loss` (mse or cross-entropy). tests/fuzz/make_archive_corpus.py
// writes the seeds from real archives.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/ExportedProgramImporter.h"
#include "compiler/import/TorchScriptImporter.h"

#include "mlir/IR/MLIRContext.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringSet.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/raw_ostream.h"

#include <ATen/ATen.h>
#include <c10/util/Logging.h>
#include <caffe2/serialize/inline_container.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

/// A temporary file with `suffix`, removed at exit.
std::string temporaryPath(const char *suffix) {
  llvm::SmallString<128> p;
  if (llvm::sys::fs::createTemporaryFile("accel-archive-fuzz", suffix, p)) {
    llvm::errs() << "cannot create a temporary file\n";
    std::abort();
  }
  static std::vector<std::string> removeAtExit;
  if (removeAtExit.empty())
    std::atexit([] {
      for (const std::string &path : removeAtExit)
        llvm::sys::fs::remove(path);
    });
  removeAtExit.push_back(std::string(p.str()));
  return std::string(p.str());
}

/// Where the TorchScript importer reads, and (by its suffix) the
/// torch.export one.
const std::string &archivePath(bool exported) {
  static const std::string script = temporaryPath("pt"),
                           program = temporaryPath("pt2");
  return exported ? program : script;
}

struct Record {
  llvm::StringRef name, data;
};

std::vector<Record> splitRecords(llvm::StringRef input) {
  static constexpr llvm::StringLiteral kMarker = "#record ";
  std::vector<Record> records;
  if (!input.consume_front(kMarker))
    return records;
  while (true) {
    auto [name, rest] = input.split('\n');
    size_t next = rest.find("\n#record ");
    records.push_back({name, rest.substr(0, next)});
    if (next == llvm::StringRef::npos)
      return records;
    input = rest.substr(next + 1 + kMarker.size());
  }
}

/// Zips the members; false when the writer refuses them (it throws on a
/// name it has written already, which splitRecords may yield).
bool writeArchive(const std::vector<Record> &records, const std::string &path) {
  try {
    caffe2::serialize::PyTorchStreamWriter writer(path);
    llvm::StringSet<> written;
    for (const Record &r : records) {
      if (r.name.starts_with("accel/") || r.name.empty() ||
          !written.insert(r.name).second)
        continue;
      // The writer adds the format version itself, from this value.
      if (r.name == "version" || r.name == ".data/version") {
        uint64_t version;
        if (!r.data.trim().getAsInteger(10, version))
          writer.setMinVersion(version);
        continue;
      }
      writer.writeRecord(r.name.str(), r.data.data(), r.data.size());
    }
    writer.writeEndOfFile();
  } catch (const std::exception &) {
    return false;
  }
  return true;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***) {
  // Most inputs end in a LibTorch exception, and each c10::Error captures
  // and symbolises a backtrace (a quarter of the time per input); the
  // importer reports only the first line of the message.
  c10::SetStackTraceFetcher([] { return std::string(); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::vector<Record> records = splitRecords(
      llvm::StringRef(reinterpret_cast<const char *>(data), size));
  bool exported = llvm::any_of(
      records, [](const Record &r) { return r.name == "models/model.json"; });
  accel::ImportOptions options;
  options.modelPath = archivePath(exported);
  for (const Record &r : records) {
    llvm::SmallVector<llvm::StringRef> lines;
    r.data.split(lines, '\n', -1, /*KeepEmpty=*/false);
    for (llvm::StringRef line : lines) {
      if (r.name == "accel/loss")
        options.loss = line == "mse"             ? accel::LossKind::Mse
                       : line == "cross-entropy" ? accel::LossKind::CrossEntropy
                                                 : accel::LossKind::None;
      if (r.name != "accel/input" && r.name != "accel/target")
        continue;
      llvm::Expected<accel::InputSpec> spec = accel::InputSpec::parse(line);
      if (!spec) {
        llvm::consumeError(spec.takeError());
        return 0;
      }
      if (r.name == "accel/input")
        options.inputs.push_back(*spec);
      else
        options.target = *spec;
    }
  }
  if (options.loss == accel::LossKind::None)
    options.target.reset();
  if (!writeArchive(records, options.modelPath))
    return 0;

  // One thread: a context's thread pool per input would only add noise.
  mlir::MLIRContext context(mlir::MLIRContext::Threading::DISABLED);
  llvm::Expected<accel::ImportResult> result =
      exported ? accel::importExportedProgram(context, options)
               : accel::importTorchScript(context, options);
  if (!result) {
    llvm::consumeError(result.takeError());
    return 0;
  }
  // What accel-import does next: print the module and write every state
  // tensor's bytes (AddressSanitizer sees a geometry the checks missed).
  std::string text;
  llvm::raw_string_ostream os(text);
  result->module->print(os);
  uint8_t sum = 0;
  for (const accel::ModuleState &s : result->state) {
    at::Tensor t = s.value.detach().contiguous().cpu();
    const auto *bytes = static_cast<const uint8_t *>(t.data_ptr());
    for (int64_t i = 0, n = t.numel() * t.element_size(); i < n; ++i)
      sum += bytes[i];
  }
  volatile uint8_t keep = sum;
  (void)keep;
  return 0;
}
