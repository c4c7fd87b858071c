//===- LoadProbeTest.cpp - TorchScript loaded in a helper process first ---===//
//
// Each archive is loaded by a helper forked for it.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/LoadProbe.h"

#include "gtest/gtest.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/FileSystem.h"

#include <caffe2/serialize/inline_container.h>
#include <torch/script.h>

#include <csignal>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace accel::import {
namespace {

/// Runs `write` in a child process: defining and saving a module registers
/// its classes in the process, and loading depends on what a process holds
/// (the misspelt archive below crashes LibTorch's type parser only in a
/// process that has loaded the good one), so the test controls it.
template <typename F> void inChild(F write) {
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    write();
    _exit(0);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

std::string temporaryPath(const char *name) {
  llvm::SmallString<128> path;
  EXPECT_FALSE(llvm::sys::fs::createTemporaryFile(name, "pt", path));
  return std::string(path.str());
}

/// A scripted module with a parameter, saved by LibTorch.
std::string saveModule() {
  std::string path = temporaryPath("probe-good");
  inChild([&] {
    torch::jit::Module module("__torch__.Scale");
    module.register_parameter("weight", torch::ones({2}), false);
    module.define("def forward(self, x):\n  return x * self.weight\n");
    module.save(path);
  });
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

std::string probe(
    const std::string &path, llvm::function_ref<llvm::Error()> checks = [] {
      return llvm::Error::success();
    }) {
  llvm::Error e = probeTorchScriptLoad(path, checks);
  return e ? llvm::toString(std::move(e)) : "";
}

// The importer's checks run in the helper before the load: a crash there
// (LibTorch's unpickler reads the pickles for them) refuses the archive
// instead of ending the importer; a refusal is left to the importer.
TEST(LoadProbeTest, RefusesWhatCrashesTheChecks) {
  std::string good = saveModule();
  std::string answer = probe(good, [] {
    std::raise(SIGSEGV);
    return llvm::Error::success();
  });
  EXPECT_TRUE(llvm::StringRef(answer).contains(
      "LibTorch's reader crashed on it (signal 11"))
      << answer;
  EXPECT_EQ(probe(good,
                  [] {
                    return llvm::createStringError(
                        llvm::inconvertibleErrorCode(), "refused");
                  }),
            "");
}

// Whether LibTorch's type parser crashes on the misspelt archive depends on
// the process's heap (it reads freed or stray memory), so the crash itself
// is tested on the fuzz regressions and tests/lit/import/errors-asan.test;
// here, that archives that load are passed and a helper serves each one.
TEST(LoadProbeTest, PassesWhatLoadsWithAHelperPerArchive) {
  std::string good = saveModule();
  std::string crash = saveCrashing(good);
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(probe(good), "") << "load " << i;
  // A refused archive (or not) leaves the next probe unaffected.
  std::string answer = probe(crash);
  EXPECT_TRUE(answer.empty() ||
              llvm::StringRef(answer).contains("LibTorch's reader crashed on it"))
      << answer;
  EXPECT_EQ(probe(good), "");
  // LibTorch's exceptions are the real load's to report.
  EXPECT_EQ(probe(good + ".missing"), "");
  llvm::sys::fs::remove(good);
  llvm::sys::fs::remove(crash);
}

} // namespace
} // namespace accel::import
