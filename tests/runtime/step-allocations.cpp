//===- step-allocations.cpp - heap allocations of a training step ---------===//
//
// Loads a compiled @train_step on the CPU driver, runs one step, then
// counts the heap allocations (malloc and its relatives, which operator new
// calls, in every thread) of the next --steps steps. The executor plans all
// its memory when the program is loaded, so a step after the first should
// allocate nothing; the count is printed and the exit code is 1 when it is
// not zero.
//
// A step compiled for N data-parallel ranks (accel-shard) runs as N
// executables joined by the local collectives backend, ranks 1..N-1 on
// threads started before the count; their allocations count too.
//
// oneDNN allocates inside its calls: a convolution primitive builds a map
// of its arguments and a std::function per parallel loop, sgemm its packing
// buffer — allocations accel cannot plan away through oneDNN's API. They
// are counted apart — an allocation with a oneDNN frame on its stack — and
// printed, and only the others must be zero.
//
// --backtraces prints the stack of each allocation counted.
//
// --time-steps N also times N steps and prints the wall time per
// instruction: for a program of tiny tensors, an upper bound on the
// executor's own overhead per instruction.
//
// State is filled with small deterministic values (parameters, buffers,
// optimizer and FP8 state), float inputs likewise, integer inputs with 0
// (a valid class and token everywhere).
//
//===----------------------------------------------------------------------===//

#include "runtime/collectives/LocalCommunicator.h"
#include "runtime/hal/Hal.h"
#include "compiler/lowering/ProgramLoader.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <execinfo.h>
#include <link.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

// glibc's allocator under its internal names: the replacements below count,
// then forward.
extern "C" {
void *__libc_malloc(size_t);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
void __libc_free(void *);
}

namespace {
std::atomic<bool> counting{false};
std::atomic<bool> backtraces{false};
std::atomic<int64_t> allocations{0};
std::atomic<int64_t> dnnlAllocations{0};
thread_local bool inCount = false;
/// Where libdnnl's code is loaded: [dnnlBegin, dnnlEnd).
uintptr_t dnnlBegin = 0, dnnlEnd = 0;

int findDnnl(struct dl_phdr_info *info, size_t, void *) {
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, "libdnnl.so"))
    return 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr) &h = info->dlpi_phdr[i];
    if (h.p_type != PT_LOAD)
      continue;
    uintptr_t begin = info->dlpi_addr + h.p_vaddr, end = begin + h.p_memsz;
    dnnlBegin = dnnlBegin ? std::min(dnnlBegin, begin) : begin;
    dnnlEnd = std::max(dnnlEnd, end);
  }
  return 1;
}

inline void count() {
  if (!counting.load(std::memory_order_relaxed) || inCount)
    return;
  inCount = true;
  void *frames[64];
  int n = backtrace(frames, 64);
  bool inDnnl = false;
  for (int i = 0; i < n && dnnlEnd; ++i) {
    uintptr_t at = reinterpret_cast<uintptr_t>(frames[i]);
    inDnnl = inDnnl || (at >= dnnlBegin && at < dnnlEnd);
  }
  (inDnnl ? dnnlAllocations : allocations)
      .fetch_add(1, std::memory_order_relaxed);
  if (backtraces.load(std::memory_order_relaxed) && !inDnnl) {
    // Where it came from, without allocating (backtrace_symbols_fd writes
    // straight to the descriptor).
    backtrace_symbols_fd(frames, std::min(n, 16), STDERR_FILENO);
    (void)!write(STDERR_FILENO, "--\n", 3);
  }
  inCount = false;
}
} // namespace

extern "C" {
void *malloc(size_t n) {
  count();
  return __libc_malloc(n);
}
void *calloc(size_t n, size_t size) {
  count();
  return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n) {
  count();
  return __libc_realloc(p, n);
}
void free(void *p) { __libc_free(p); }
void *memalign(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
void *aligned_alloc(size_t alignment, size_t n) {
  count();
  return __libc_memalign(alignment, n);
}
int posix_memalign(void **out, size_t alignment, size_t n) {
  count();
  void *p = __libc_memalign(alignment, n);
  if (!p)
    return ENOMEM;
  *out = p;
  return 0;
}
}

using namespace llvm;
using accel::rt::BufferDesc;
using accel::rt::ElementType;

static cl::opt<std::string> stepPath(cl::Positional, cl::Required,
                                     cl::desc("<step.mlir>"));
static cl::opt<int> steps("steps", cl::desc("Steps counted after the first"),
                          cl::init(3));
static cl::opt<int> timeSteps("time-steps",
                              cl::desc("Also time this many steps"),
                              cl::init(0));
static cl::opt<bool> printBacktraces(
    "backtraces", cl::desc("Print the stack of every allocation counted"));
static cl::opt<int> threadCount("worker-threads",
                                cl::desc("Threads of the CPU driver"),
                                cl::init(2));

static int fail(const Twine &message) {
  errs() << "step-allocations: error: " << message << "\n";
  return 1;
}

/// Small values that differ from element to element.
static void fill(accel::rt::hal::Executable &exec, int index) {
  const BufferDesc &b = exec.program().buffers[index];
  int64_t n = b.numElements();
  if (b.type == ElementType::F32) {
    float *p = exec.as<float>(index);
    for (int64_t i = 0; i < n; ++i)
      p[i] = 0.01f * static_cast<float>((i * 7919) % 201 - 100) / 100.0f;
    if (b.role == BufferDesc::Role::Fp8State || b.name.find("exp_avg_sq") !=
                                                    std::string::npos)
      for (int64_t i = 0; i < n; ++i)
        p[i] = std::abs(p[i]) + b.init;
  } else {
    std::memset(exec.data(index), 0, b.bytes());
  }
}

int main(int argc, char **argv) {
  cl::ParseCommandLineOptions(argc, argv,
                              "step-allocations: heap allocations per step\n");
  Expected<accel::rt::Program> program =
      accel::lowering::ProgramLoader().trainStep(stepPath);
  if (!program)
    return fail(toString(program.takeError()));
  size_t instructions = program->code.size();
  int64_t ranks = program->ranks;
  accel::rt::hal::registerBuiltinDrivers();
  std::vector<std::unique_ptr<accel::rt::LocalCommunicator>> comms;
  if (ranks > 1)
    comms = accel::rt::makeLocalGroup(static_cast<int>(ranks),
                                      std::chrono::seconds(60));
  std::vector<std::unique_ptr<accel::rt::hal::Executable>> execs;
  for (int64_t r = 0; r < ranks; ++r) {
    Expected<std::unique_ptr<accel::rt::hal::Executable>> loaded =
        accel::rt::hal::loadOn(
            "cpu", {threadCount, ranks > 1 ? comms[r].get() : nullptr},
            accel::rt::Program(*program));
    if (!loaded)
      return fail(toString(loaded.takeError()));
    execs.push_back(std::move(*loaded));
  }
  std::vector<int> stepArg(ranks, -1), seedArg(ranks, -1);
  for (int64_t r = 0; r < ranks; ++r) {
    accel::rt::hal::Executable &exec = *execs[r];
    for (const auto &[i, b] : llvm::enumerate(exec.program().buffers)) {
      switch (b.role) {
      case BufferDesc::Role::Param:
      case BufferDesc::Role::Buffer:
      case BufferDesc::Role::OptState:
      case BufferDesc::Role::Fp8State:
      case BufferDesc::Role::Input:
        fill(exec, static_cast<int>(i));
        break;
      case BufferDesc::Role::Lr:
        *exec.as<float>(i) = 1e-3f;
        break;
      case BufferDesc::Role::LossScale:
        *exec.as<float>(i) = 1.0f;
        break;
      case BufferDesc::Role::Step:
        stepArg[r] = static_cast<int>(i);
        break;
      case BufferDesc::Role::Seed:
        seedArg[r] = static_cast<int>(i);
        break;
      default:
        break;
      }
    }
  }
  int64_t step = 0;
  std::vector<char> failed(ranks, 0); // one byte per rank: no shared bits
  auto runRank = [&](int64_t r) {
    accel::rt::hal::Executable &exec = *execs[r];
    if (stepArg[r] >= 0)
      *exec.as<int64_t>(stepArg[r]) = step;
    if (seedArg[r] >= 0)
      *exec.as<int64_t>(seedArg[r]) = step;
    if (Error e = exec.run()) {
      // Stop the other ranks' collectives too.
      std::string message = toString(std::move(e));
      errs() << "step-allocations: rank " << r << ": " << message << "\n";
      if (ranks > 1)
        comms[r]->abort(message);
      failed[r] = 1;
      return;
    }
    exec.commitState();
  };
  // Ranks 1.. on threads of their own, started once: each waits for the
  // next step's number (a mutex and a condition variable allocate nothing).
  std::mutex mutex;
  std::condition_variable wake, finished;
  int64_t started = 0, done = 0;
  bool stop = false;
  std::vector<std::thread> others;
  for (int64_t r = 1; r < ranks; ++r)
    others.emplace_back([&, r] {
      for (int64_t seen = 0;;) {
        {
          std::unique_lock<std::mutex> lock(mutex);
          wake.wait(lock, [&] { return stop || started > seen; });
          if (stop)
            return;
          seen = started;
        }
        runRank(r);
        std::lock_guard<std::mutex> lock(mutex);
        ++done;
        finished.notify_all();
      }
    });
  auto runStep = [&]() -> Error {
    ++step;
    {
      std::lock_guard<std::mutex> lock(mutex);
      started = step;
      done = 0;
    }
    wake.notify_all();
    runRank(0);
    {
      std::unique_lock<std::mutex> lock(mutex);
      finished.wait(lock, [&] { return done == ranks - 1; });
    }
    for (int64_t r = 0; r < ranks; ++r)
      if (failed[r])
        return createStringError(inconvertibleErrorCode(),
                                 "rank " + Twine(r) + " failed");
    return Error::success();
  };
  auto joinRanks = [&] {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stop = true;
    }
    wake.notify_all();
    for (std::thread &t : others)
      t.join();
  };
  if (Error e = runStep()) {
    joinRanks();
    return fail("step 1: " + toString(std::move(e)));
  }
  // backtrace() loads its unwinder on first use: not during the count.
  void *frame;
  backtrace(&frame, 1);
  dl_iterate_phdr(findDnnl, nullptr);
  // The replacements must be the ones called (they would not be if the
  // allocator were linked differently): one allocation must count as one.
  // (A call through a volatile pointer: the compiler may not elide it.)
  void *(*volatile allocate)(std::size_t) = ::operator new;
  counting = true;
  void *probe = allocate(64);
  counting = false;
  ::operator delete(probe);
  if (allocations.exchange(0) != 1)
    return fail("the allocation counter does not see operator new");
  backtraces = printBacktraces.getValue();
  counting = true;
  for (int i = 0; i < steps; ++i)
    if (Error e = runStep()) {
      counting = false;
      joinRanks();
      return fail("step " + Twine(step) + ": " + toString(std::move(e)));
    }
  counting = false;
  int64_t counted = allocations.load();
  outs() << counted << " heap allocations in " << steps
         << " steps after the first (" << instructions << " instructions, "
         << threadCount << " threads";
  if (ranks > 1)
    outs() << " per rank, " << ranks << " ranks";
  outs() << ")";
  if (int64_t inDnnl = dnnlAllocations.load())
    outs() << ", and " << inDnnl << " inside oneDNN's calls";
  outs() << "\n";
  if (timeSteps > 0) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < timeSteps; ++i)
      if (Error e = runStep()) {
        joinRanks();
        return fail(toString(std::move(e)));
      }
    double us = std::chrono::duration<double, std::micro>(
                    std::chrono::steady_clock::now() - start)
                    .count() /
                timeSteps;
    outs() << format("%.1f us per step, %.3f us per instruction\n", us,
                     us / static_cast<double>(instructions));
  }
  joinRanks();
  return counted == 0 ? 0 : 1;
}
