//===- LoadProbe.cpp - load TorchScript in a helper process first ---------===//
//
// The helper and the importer talk over a socket pair: the importer sends a
// path (its length as a uint32, then its bytes), the helper loads it and
// answers one byte. When the helper dies, the importer reads end-of-file
// and reaps it for the reason.
//
//===----------------------------------------------------------------------===//

#include "compiler/import/LoadProbe.h"

#include "compiler/import/GraphLowering.h"

#include <torch/csrc/jit/serialization/import.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <mutex>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace accel::import {
namespace {

/// One load per helper: a helper must hold exactly the importer's state.
/// LibTorch's loading depends on what the process loaded before (a
/// `__pArameters__` archive crashes the type parser of a fresh process but
/// not of one that has loaded other archives first), so a helper that
/// outlived one load passed archives that then crashed the importer
/// (archive_fuzzer_replay, in bazel's file order).
constexpr int kLoadsPerHelper = 1;

/// Reads exactly `n` bytes; false at end-of-file or on an error.
bool readAll(int fd, void *out, size_t n) {
  auto *p = static_cast<char *>(out);
  while (n > 0) {
    ssize_t got = read(fd, p, n);
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

/// Writes exactly `n` bytes (no SIGPIPE when the other side is gone).
bool sendAll(int fd, const void *data, size_t n) {
  const auto *p = static_cast<const char *>(data);
  while (n > 0) {
    ssize_t sent = send(fd, p, n, MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR)
      continue;
    if (sent <= 0)
      return false;
    p += sent;
    n -= static_cast<size_t>(sent);
  }
  return true;
}

/// The helper's loop: load each path it is sent, answer, and exit when the
/// importer closes its end.
[[noreturn]] void serveLoads(int fd) {
  // A crash report of the helper (LLVM's, a sanitizer's, a fuzzer's) is not
  // the user's concern: the importer says what happened.
  for (int signal : {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT})
    std::signal(signal, SIG_DFL);
  int null = open("/dev/null", O_WRONLY);
  if (null >= 0) {
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
  }
  uint32_t length = 0;
  while (readAll(fd, &length, sizeof(length))) {
    std::string path(length, '\0');
    if (!readAll(fd, path.data(), length))
      break;
    // The importer reports an exception by its what(), and a
    // torch::jit::ErrorReport's what() unpickles the code's debug
    // information on the spot: when that is corrupt it throws out of a
    // noexcept function, which terminates. So the helper asks too.
    try {
      torch::jit::load(path);
    } catch (const c10::Error &) {
    } catch (const std::exception &e) {
      (void)e.what();
    } catch (...) {
    }
    const char done = 1;
    if (!sendAll(fd, &done, 1))
      break;
  }
  _exit(0);
}

/// The importer's side of one helper.
class Helper {
public:
  ~Helper() { stop(); }

  llvm::Error probe(const std::string &path) {
    if (pid > 0 && loads >= kLoadsPerHelper)
      stop();
    if (pid <= 0)
      if (llvm::Error e = start(path))
        return e;
    ++loads;
    uint32_t length = static_cast<uint32_t>(path.size());
    const char *failure = nullptr;
    char done = 0;
    if (!sendAll(fd, &length, sizeof(length)) ||
        !sendAll(fd, path.data(), path.size()))
      failure = "cannot send";
    else if (!readAll(fd, &done, 1))
      failure = "died";
    if (!failure)
      return llvm::Error::success();
    // The helper is gone (or unusable): reap it for the reason.
    int status = 0;
    close(fd);
    fd = -1;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
    std::string how =
        WIFSIGNALED(status)
            ? "signal " + std::to_string(WTERMSIG(status)) + ", " +
                  strsignal(WTERMSIG(status))
            : "exit code " + std::to_string(WEXITSTATUS(status));
    return makeError("'" + path +
                     "' is not a readable TorchScript archive: LibTorch's "
                     "reader crashed on it (" + how + ")");
  }

private:
  llvm::Error start(const std::string &path) {
    int ends[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends) < 0)
      return makeError("cannot start a process to read '" + path +
                       "': " + std::strerror(errno));
    std::fflush(nullptr);
    pid_t child = fork();
    if (child < 0) {
      int error = errno;
      close(ends[0]);
      close(ends[1]);
      return makeError("cannot start a process to read '" + path +
                       "': " + std::strerror(error));
    }
    if (child == 0) {
      close(ends[0]);
      serveLoads(ends[1]);
    }
    close(ends[1]);
    pid = child;
    fd = ends[0];
    loads = 0;
    return llvm::Error::success();
  }

  /// Closing the socket ends the helper's loop.
  void stop() {
    if (pid <= 0)
      return;
    close(fd);
    fd = -1;
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    pid = -1;
  }

  pid_t pid = -1;
  int fd = -1;
  int loads = 0;
};

} // namespace

llvm::Error probeTorchScriptLoad(const std::string &path) {
  static std::mutex mutex;
  static Helper helper;
  std::lock_guard<std::mutex> lock(mutex);
  return helper.probe(path);
}

} // namespace accel::import
