//===- step-allocations.cpp - heap allocations of a training step ---------===//
//
// Loads a compiled @train_step on the CPU driver, runs one step, then
// counts the heap allocations (malloc and its relatives, which operator new
// calls, in every thread) of the next --steps steps. The executor plans all
// its memory when the program is loaded, so a step after the first should
// allocate nothing; the count is printed and the exit code is 1 when it is
// not zero.
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

#include "runtime/hal/Hal.h"
#include "tools/accel-run/ProgramLoader.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <execinfo.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
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
thread_local bool inCount = false;

inline void count() {
  if (!counting.load(std::memory_order_relaxed) || inCount)
    return;
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (backtraces.load(std::memory_order_relaxed)) {
    // Where it came from, without allocating (backtrace_symbols_fd writes
    // straight to the descriptor).
    inCount = true;
    void *frames[16];
    int n = backtrace(frames, 16);
    backtrace_symbols_fd(frames, n, STDERR_FILENO);
    (void)!write(STDERR_FILENO, "--\n", 3);
    inCount = false;
  }
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
      accel::run::ProgramLoader().trainStep(stepPath);
  if (!program)
    return fail(toString(program.takeError()));
  size_t instructions = program->code.size();
  accel::rt::hal::registerBuiltinDrivers();
  Expected<std::unique_ptr<accel::rt::hal::Executable>> loaded =
      accel::rt::hal::loadOn("cpu", {threadCount}, std::move(*program));
  if (!loaded)
    return fail(toString(loaded.takeError()));
  accel::rt::hal::Executable &exec = **loaded;
  int stepArg = -1, seedArg = -1;
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
      stepArg = static_cast<int>(i);
      break;
    case BufferDesc::Role::Seed:
      seedArg = static_cast<int>(i);
      break;
    default:
      break;
    }
  }
  int64_t step = 0;
  auto runStep = [&]() -> Error {
    ++step;
    if (stepArg >= 0)
      *exec.as<int64_t>(stepArg) = step;
    if (seedArg >= 0)
      *exec.as<int64_t>(seedArg) = step;
    if (Error e = exec.run())
      return e;
    exec.commitState();
    return Error::success();
  };
  if (Error e = runStep())
    return fail("step 1: " + toString(std::move(e)));
  // backtrace() loads its unwinder on first use: not during the count.
  void *frame;
  backtrace(&frame, 1);
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
      return fail("step " + Twine(step) + ": " + toString(std::move(e)));
    }
  counting = false;
  int64_t counted = allocations.load();
  outs() << counted << " heap allocations in " << steps
         << " steps after the first (" << instructions << " instructions, "
         << threadCount << " threads)\n";
  if (timeSteps > 0) {
    auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < timeSteps; ++i)
      if (Error e = runStep())
        return fail(toString(std::move(e)));
    double us = std::chrono::duration<double, std::micro>(
                    std::chrono::steady_clock::now() - start)
                    .count() /
                timeSteps;
    outs() << format("%.1f us per step, %.3f us per instruction\n", us,
                     us / static_cast<double>(instructions));
  }
  return counted == 0 ? 0 : 1;
}
