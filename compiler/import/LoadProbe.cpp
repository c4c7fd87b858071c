//===- LoadProbe.cpp - load TorchScript in a helper process first ---------===//
//
// A child process forked for each archive reads and loads it and exits; the
// importer reads how it ended.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/LoadProbe.h"

#include "compiler/import/GraphLowering.h"

#include <torch/csrc/jit/serialization/import.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace accel::import {

// A fork per archive, not a helper kept across archives: the helper must
// hold exactly the importer's state. Whether LibTorch's type parser crashes
// on a `__pArameters__` archive depends on the process's heap and on what
// it loaded before, so a long-lived helper passed archives that then
// crashed the importer (archive_fuzzer_replay, in bazel's file order).
llvm::Error probeTorchScriptLoad(const std::string &path,
                                 llvm::function_ref<llvm::Error()> checks) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::fflush(nullptr);
  pid_t child = fork();
  if (child < 0)
    return makeError("cannot start a process to read '" + path +
                     "': " + std::strerror(errno));
  if (child == 0) {
    // A crash report of the child (LLVM's, a sanitizer's, a fuzzer's) is
    // not the user's concern: the importer says what happened.
    for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
      std::signal(signal, SIG_DFL);
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
      dup2(null, STDOUT_FILENO);
      dup2(null, STDERR_FILENO);
    }
    // The importer reports an exception by its what(), and a
    // torch::jit::ErrorReport's what() unpickles the code's debug
    // information on the spot: when that is corrupt it throws out of a
    // noexcept function, which terminates. So the child asks too.
    try {
      // A refusal by the checks is the importer's to report; the archive
      // is then not loaded there either.
      if (llvm::Error refused = checks()) {
        llvm::consumeError(std::move(refused));
        _exit(0);
      }
      torch::jit::load(path);
    } catch (const c10::Error &) {
    } catch (const std::exception &e) {
      (void)e.what();
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  while (waitpid(child, &status, 0) < 0)
    if (errno != EINTR)
      return makeError("cannot wait for the process reading '" + path +
                       "': " + std::strerror(errno));
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
    return llvm::Error::success();
  std::string how =
      WIFSIGNALED(status)
          ? "signal " + std::to_string(WTERMSIG(status)) + ", " +
                strsignal(WTERMSIG(status))
          : "exit code " + std::to_string(WEXITSTATUS(status));
  return makeError("'" + path +
                   "' is not a readable TorchScript archive: LibTorch's "
                   "reader crashed on it (" + how + ")");
}

} // namespace accel::import
