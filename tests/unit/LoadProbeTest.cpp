//===- LoadProbeTest.cpp - TorchScript loaded in a helper process first ---===//
//
// One helper serves many archives; one that crashes LibTorch is refused and
// the next is served by a new helper.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/LoadProbe.h"

#include "gtest/gtest.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <string>

namespace accel::import {
namespace {

std::string temporaryPath(const char *name) {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile(name, "pt", path));
  return std::string(path.str());
}

/// A scripted module with a parameter, saved by LibTorch.
std::string saveModule() {
  torch::jit::Module module("__torch__.Scale");
  module.register_parameter("weight", torch::ones({2}), false);
  module.define("def forward(self, x):\n  return x * self.weight\n");
  std::string path = temporaryPath("probe-good");
  module.save(path);
  return path;
}

/// `source` with `__parameters__` misspelt in its code, on which LibTorch
/// 1.13's type parser dies with SIGSEGV (found by the archive fuzzer).
std::string saveCrashing(const std::string &source) {
  caffe2::serialize::PyTorchStreamReader reader(source);
  std::string path = temporaryPath("probe-crash");
  caffe2::serialize::PyTorchStreamWriter writer(path);
  writer.setMinVersion(reader.version());
  bool edited = false;
  for (const std::string &name : reader.getAllRecords()) {
    if (llvm::StringRef(name).ends_with("version"))
      continue;
    auto [data, size] = reader.getRecord(name);
    std::string bytes(static_cast<const char *>(data.get()), size);
    size_t at = bytes.find("__parameters__ = [");
    if (llvm::StringRef(name).ends_with(".py") && at != std::string::npos) {
      bytes[at + 3] = 'A';
      edited = true;
    }
    writer.writeRecord(name, bytes.data(), bytes.size());
  }
  writer.writeEndOfFile();
  EXPECT_TRUE(edited);
  return path;
}

std::string probe(const std::string &path) {
  llvm::Error e = probeTorchScriptLoad(path);
  return e ? llvm::toString(std::move(e)) : "";
}

TEST(LoadProbeTest, RefusesWhatCrashesLibTorchAndGoesOn) {
  std::string good = saveModule();
  std::string crash = saveCrashing(good);
  EXPECT_EQ(probe(good), "");
  EXPECT_EQ(probe(crash),
            "'" + crash + "' is not a readable TorchScript archive: "
            "LibTorch's reader crashed on it (signal 11, Segmentation fault)");
  // A new helper serves the next archive, and more than one helper's quota
  // of loads.
  for (int i = 0; i < 300; ++i)
    ASSERT_EQ(probe(good), "") << "load " << i;
  EXPECT_EQ(probe(crash).empty(), false);
  EXPECT_EQ(probe(good), "");
  // LibTorch's exceptions are the real load's to report.
  std::string missing = good + ".missing";
  EXPECT_EQ(probe(missing), "");
  llvm::sys::fs::remove(good);
  llvm::sys::fs::remove(crash);
}

} // namespace
} // namespace accel::import
