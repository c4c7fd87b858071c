//===- accel-run.cpp - train a compiled step ------------------------------===//
//
//   accel-run STEP.mlir|STEP.accelprog --params INIT.safetensors --data TRAIN
//             [--steps N | --epochs E] [--lr X] [--seed S] [--no-shuffle]
//             [--threads T] [--save-params OUT.safetensors]
//             [--metrics metrics.jsonl]
//             [--checkpoint-dir DIR --checkpoint-every K] [--resume]
//             [--keep-checkpoints K]
//             [--eval-data TEST] [--dump-grads GRADS.safetensors]
//             [--device cpu|NAME] [--profile] [--list-drivers]
//             [--ranks N] [--collectives local|mpi] [--deterministic]
//             [--collective-timeout S]
//
// Loads @train_step (lowering it to the runtime program, or reading the
// program file accel-opt --accel-lower wrote), the parameters,
// and the data (a safetensors file whose tensors are named after the step's
// inputs, or a Fashion-MNIST directory), then runs the steps on a runtime
// driver (runtime/hal: `cpu`, built in, or a plugin loaded by name).
//
//===----------------------------------------------------------------------===//

#include "compiler/lowering/FusedChainJit.h"
#include "compiler/lowering/ProgramLoader.h"
#include "runtime/collectives/LocalCommunicator.h"
#include "runtime/collectives/MpiCommunicator.h"
#include "runtime/hal/Hal.h"
#include "runtime/hal/PluginDriver.h"
#include "runtime/io/Checkpoint.h"
#include "runtime/io/Dataset.h"
#include "runtime/io/ProgramFile.h"
#include "runtime/io/Safetensors.h"
#include "tools/accel-run/LossPlot.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Support/xxhash.h"

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <new>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

using namespace llvm;
using accel::rt::hal::Executable;
using accel::rt::BufferDesc;

static cl::OptionCategory category("accel-run options");
static cl::opt<std::string> stepPath(cl::Positional,
                                     cl::desc("<step.mlir | step.accelprog>"),
                                     cl::cat(category));
static cl::opt<std::string> paramsPath("params",
                                       cl::desc("Initial parameters and buffers"),
                                       cl::value_desc("INIT.safetensors"),
                                       cl::cat(category));
static cl::opt<std::string>
    dataPath("data",
             cl::desc("Training data: a safetensors file with one tensor per "
                      "input (first dimension = samples), or a Fashion-MNIST "
                      "directory"),
             cl::value_desc("TRAIN"), cl::cat(category));
static cl::opt<int64_t> steps("steps", cl::desc("Number of steps"),
                              cl::init(0), cl::cat(category));
static cl::opt<int64_t> epochs("epochs", cl::desc("Number of epochs"),
                               cl::init(0), cl::cat(category));
static cl::opt<double> lr("lr",
                          cl::desc("Learning rate (default: the one the step "
                                   "was compiled with)"),
                          cl::init(-1.0), cl::cat(category));
static cl::opt<uint64_t> seed("seed", cl::desc("Shuffling and dropout seed"),
                              cl::init(0), cl::cat(category));
static cl::opt<std::string> device(
    "device",
    cl::desc("Runtime driver to train on: cpu (built in, the default) or a "
             "plugin, libaccel_driver_NAME.so on $ACCEL_DRIVER_PATH or "
             "beside accel-run (docs/devices.md)"),
    cl::value_desc("driver"), cl::init("cpu"), cl::cat(category));
static cl::opt<bool> listDrivers(
    "list-drivers",
    cl::desc("List the drivers (built in, and plugins on the driver search "
             "path) and the kernels and element types each runs, as "
             "Markdown tables, and exit"),
    cl::cat(category));
static cl::opt<int64_t> ranksOption(
    "ranks",
    cl::desc("Data-parallel ranks (default: as many as the step was compiled "
             "for with accel-shard)"),
    cl::init(0), cl::value_desc("N"), cl::cat(category));
static cl::opt<std::string> collectives(
    "collectives",
    cl::desc("How the ranks communicate: local (threads of this process) or "
             "mpi (one process per rank: mpirun -np N accel-run ...)"),
    cl::init("local"), cl::cat(category));
static cl::opt<bool> deterministic(
    "deterministic",
    cl::desc("mpi: add the ranks' values in rank order (the same bits as "
             "local), not in the order MPI's all-reduce chooses"),
    cl::cat(category));
static cl::opt<double> collectiveTimeout(
    "collective-timeout",
    cl::desc("Seconds a rank waits for the others in a collective before the "
             "run fails naming the missing ranks (default 300)"),
    cl::init(300.0), cl::value_desc("S"), cl::cat(category));
static cl::opt<bool> overlapCollectives(
    "overlap-collectives",
    cl::desc("Start each collective as soon as its operands exist and run it "
             "on a communication thread while the rank computes (the "
             "default; the same bits either way); =false runs each where "
             "the step places it. MLIR steps only: a program file keeps "
             "what accel-opt --accel-lower chose"),
    cl::init(true), cl::cat(category));
static cl::opt<bool> profile(
    "profile",
    cl::desc("Time every kernel and print where the step's time goes"),
    cl::cat(category));
static cl::opt<std::string> fusedChains(
    "fused-chains",
    cl::desc("cpu: how fused elementwise chains run: compiled (to machine code "
             "at load, each chain of exact IEEE arithmetic such as an "
             "optimizer update; the default) or interpreted (the same bits, "
             "slower)"),
    cl::init("compiled"), cl::value_desc("compiled|interpreted"), cl::cat(category));
static cl::opt<bool> noShuffle("no-shuffle",
                               cl::desc("Take samples in file order"),
                               cl::cat(category));
static cl::opt<std::string> saveParams("save-params",
                                       cl::desc("Write the final parameters"),
                                       cl::value_desc("OUT.safetensors"),
                                       cl::cat(category));
static cl::opt<std::string> metricsPath("metrics",
                                        cl::desc("Write one JSON line per step"),
                                        cl::value_desc("metrics.jsonl"),
                                        cl::cat(category));

static cl::opt<std::string>
    evalData("eval-data",
             cl::desc("Report classification accuracy on this data after "
                      "every epoch and at the end (same formats as --data; a "
                      "Fashion-MNIST directory means its test split)"),
             cl::value_desc("TEST"), cl::cat(category));
static cl::opt<std::string>
    dumpGrads("dump-grads",
              cl::desc("Write the gradients of the first step, named as the "
                       "parameters"),
              cl::value_desc("GRADS.safetensors"), cl::cat(category));
static cl::opt<std::string>
    checkpointDir("checkpoint-dir",
                  cl::desc("Write crash-safe checkpoints under this directory"),
                  cl::value_desc("DIR"), cl::cat(category));
static cl::opt<int64_t> checkpointEvery("checkpoint-every",
                                        cl::desc("Steps between checkpoints"),
                                        cl::init(0), cl::value_desc("K"),
                                        cl::cat(category));
static cl::opt<bool> resume("resume",
                            cl::desc("Continue from the newest intact "
                                     "checkpoint in --checkpoint-dir"),
                            cl::cat(category));
static cl::opt<unsigned> keepCheckpoints(
    "keep-checkpoints",
    cl::desc("Keep the newest K checkpoints, removing older ones after each "
             "new one is committed (0: keep all; default 3)"),
    cl::init(3), cl::value_desc("K"), cl::cat(category));

static cl::opt<int64_t> maxNonFinite(
    "max-nonfinite-steps",
    cl::desc("Stop with an error after this many consecutive steps whose "
             "loss is inf or NaN (0: never; default 20)"),
    cl::init(20), cl::value_desc("K"), cl::cat(category));

static cl::opt<std::string> plotLabel(
    "plot-label", cl::desc("This run's name in the loss-curve legend"),
    cl::init("accel"), cl::cat(category));
static cl::list<std::string> plotCompare(
    "plot-compare",
    cl::desc("Also draw another run's curve, from its metrics, in the "
             "loss-curve plot (repeatable)"),
    cl::value_desc("LABEL=METRICS.jsonl"), cl::cat(category));

/// This process's rank of an MPI job, once it has joined one: an error
/// then ends the whole job, as the other ranks cannot go on without it.
static accel::rt::MpiCommunicator *mpiJob = nullptr;

static int fail(const Twine &message) {
  if (mpiJob && mpiJob->size() > 1)
    mpiJob->abort(message.str()); // does not return
  WithColor::error(errs(), "accel-run") << message << "\n";
  return 1;
}

/// A state buffer's role as checkpoint manifests name it.
static StringRef roleName(BufferDesc::Role role) {
  switch (role) {
  case BufferDesc::Role::Param:
    return "param";
  case BufferDesc::Role::Buffer:
    return "buffer";
  case BufferDesc::Role::OptState:
    return "opt_state";
  case BufferDesc::Role::Fp8State:
    return "fp8_state";
  default:
    return "";
  }
}

static std::optional<accel::io::DType> ioType(accel::rt::ElementType t) {
  switch (t) {
  case accel::rt::ElementType::F32:
    return accel::io::DType::F32;
  case accel::rt::ElementType::I64:
    return accel::io::DType::I64;
  case accel::rt::ElementType::I1:
    return accel::io::DType::Bool;
  case accel::rt::ElementType::BF16:
    return accel::io::DType::BF16;
  case accel::rt::ElementType::F16:
    return accel::io::DType::F16;
  case accel::rt::ElementType::F8E4M3FN:
    return accel::io::DType::F8_E4M3;
  case accel::rt::ElementType::F8E5M2:
    return accel::io::DType::F8_E5M2;
  case accel::rt::ElementType::F8E8M0FNU: // scales of intermediates only
    return std::nullopt;
  }
  return std::nullopt;
}

/// The linked MLIR library already registers an int `--threads` option, and
/// LLVM allows one option per name: accel-run adopts it as its own.
static cl::opt<int> &threadsOption() {
  cl::Option *option = cl::getRegisteredOptions().lookup("threads");
  if (!option) {
    static cl::opt<int> own("threads");
    option = &own;
  }
  return *static_cast<cl::opt<int> *>(option);
}

/// Matches the program's inputs to dataset columns (by name, or for
/// Fashion-MNIST by dtype), checking per-sample sizes and dtypes; returns
/// the batch size.
static Expected<int64_t> bindInputs(const accel::rt::Program &program,
                                    const accel::io::Dataset &data,
                                    bool fashionMnist, std::vector<int> &inputs,
                                    std::vector<const accel::io::Column *> &columns) {
  int64_t batch = -1;
  for (auto [i, b] : llvm::enumerate(program.buffers)) {
    if (b.role != BufferDesc::Role::Input)
      continue;
    const accel::io::Column *c = data.find(b.name);
    if (!c && fashionMnist)
      c = data.find(b.type == accel::rt::ElementType::I64 ? "labels" : "images");
    if (!c)
      return createStringError(inconvertibleErrorCode(),
                               "the data has no tensor for input '" + b.name + "'");
    // Leading dimensions: [B, ...], or [K, B, ...] with K micro-batches.
    size_t lead = program.microBatches > 1 ? 2 : 1;
    int64_t sample = 1;
    for (size_t d = lead; d < b.shape.size(); ++d)
      sample *= b.shape[d];
    int64_t have = 1;
    for (int64_t d : c->sampleShape)
      have *= d;
    if (b.shape.size() < lead || have != sample || ioType(b.type) != c->dtype)
      return createStringError(
          inconvertibleErrorCode(),
          "input '" + b.name + "' of the step takes samples of " + Twine(sample) +
              " " + (b.type == accel::rt::ElementType::F32 ? "f32" : "i64") +
              " values, the data's '" + c->name + "' has " + Twine(have) + " " +
              accel::io::dtypeName(c->dtype));
    int64_t samples = lead == 2 ? b.shape[0] * b.shape[1] : b.shape[0];
    if (batch >= 0 && samples != batch)
      return createStringError(inconvertibleErrorCode(),
                               "the step's inputs disagree on the batch size");
    batch = samples;
    inputs.push_back(static_cast<int>(i));
    columns.push_back(c);
    // Float data must be finite: one inf or NaN sample would turn the loss
    // and every parameter it reaches into NaN (checked whole, as indices).
    if (c->dtype == accel::io::DType::F32) {
      const auto *values = reinterpret_cast<const float *>(c->data.data());
      size_t count = c->data.size() / sizeof(float);
      for (size_t v = 0; v < count; ++v)
        if (!std::isfinite(values[v]))
          return createStringError(
              inconvertibleErrorCode(),
              "the data's '" + c->name + "' holds " +
                  (std::isnan(values[v]) ? "NaN" : "an infinity") +
                  " at sample " + Twine(v / std::max<int64_t>(have, 1)) +
                  " (element " + Twine(v % std::max<int64_t>(have, 1)) +
                  "); accel-run trains on finite data only");
    }
    // Index data is checked whole, so a bad sample deep in an epoch cannot
    // stop training halfway (or read outside a table).
    for (const accel::rt::IndexBound &bound : program.indexBounds) {
      if (bound.input != b.name)
        continue;
      const auto *values = reinterpret_cast<const int64_t *>(c->data.data());
      for (size_t v = 0; v < c->data.size() / sizeof(int64_t); ++v)
        if ((values[v] < 0 || values[v] >= bound.limit) && values[v] != bound.exempt)
          return createStringError(
              inconvertibleErrorCode(),
              "the data's '" + c->name + "' holds " + Twine(values[v]) +
                  " at sample " + Twine(v / std::max<int64_t>(have, 1)) +
                  ", outside the " + Twine(bound.limit) + " entries of " +
                  bound.use + " it indexes");
    }
  }
  if (batch <= 0 || batch > data.size())
    return createStringError(inconvertibleErrorCode(),
                             "the data has " + Twine(data.size()) +
                                 " samples, fewer than one batch of " +
                                 Twine(batch));
  return batch;
}

/// --list-drivers: every driver this accel can load, what it is, and the
/// kernels and element types it runs (docs/devices.md holds the output).
static int printDrivers() {
  accel::rt::hal::registerBuiltinDrivers();
  std::vector<std::string> names =
      accel::rt::hal::DriverRegistry::global().names();
  for (const auto &entry : accel::rt::hal::findDriverLibraries())
    if (!llvm::is_contained(names, entry.first))
      names.push_back(entry.first);
  std::vector<std::string> shown;
  std::vector<accel::rt::hal::DriverSupport> support;
  for (const std::string &name : names) {
    Expected<std::unique_ptr<accel::rt::hal::Driver>> d =
        accel::rt::hal::DriverRegistry::global().create(name);
    if (!d) {
      WithColor::warning(errs(), "accel-run")
          << "driver '" << name << "' not listed: " << toString(d.takeError())
          << "\n";
      continue;
    }
    shown.push_back(name);
    support.push_back((*d)->support());
  }
  outs() << "| driver | what it is | element types |\n|---|---|---|\n";
  for (size_t i = 0; i < shown.size(); ++i)
    outs() << "| `" << shown[i] << "` | " << support[i].description << " | "
           << llvm::join(support[i].elementTypes, ", ") << " |\n";
  outs() << "\n| kernel |";
  for (const std::string &name : shown)
    outs() << " `" << name << "` |";
  outs() << "\n|---|";
  for (size_t i = 0; i < shown.size(); ++i)
    outs() << "---|";
  outs() << "\n";
  for (int k = 0; k < accel::rt::kKernelCount; ++k) {
    std::string kernel = accel::rt::kernelName(static_cast<accel::rt::Kernel>(k));
    outs() << "| " << kernel << " |";
    for (const accel::rt::hal::DriverSupport &s : support)
      outs() << (llvm::is_contained(s.kernels, kernel) ? " ✓ |" : "  |");
    outs() << "\n";
  }
  return 0;
}

namespace {
/// Where the step's programs come from: a program file (accel-opt
/// --accel-lower), read and checked whole at once, or MLIR, lowered here
/// as each program is asked for (each at most once).
class StepSource {
public:
  explicit StepSource(StringRef path) : path(path.str()) {
    loader.setOverlapCollectives(overlapCollectives);
  }

  /// Reads the file's start to tell a program file from MLIR text.
  Error open() {
    Expected<std::unique_ptr<MemoryBuffer>> bytes =
        errorOrToExpected(MemoryBuffer::getFile(path, /*IsText=*/false,
                                                /*RequiresNullTerminator=*/false));
    if (!bytes)
      return createStringError(inconvertibleErrorCode(),
                               "cannot read '" + path + "': " +
                                   toString(bytes.takeError()));
    if (!accel::rt::isProgramFile((*bytes)->getBuffer()))
      return Error::success();
    Expected<accel::rt::StepPrograms> programs =
        accel::rt::parseProgramFile((*bytes)->getBuffer(), path);
    if (!programs)
      return programs.takeError();
    file = std::move(*programs);
    return Error::success();
  }

  Expected<accel::rt::Program> trainStep() {
    if (!file)
      return loader.trainStep(path);
    return std::move(file->trainStep);
  }

  Expected<accel::rt::EvalProgram> classifier() {
    if (!file)
      return loader.classifier(path);
    if (!file->classifier)
      return missing("evaluation forward", file->classifierError);
    return std::move(*file->classifier);
  }

  Expected<accel::rt::Program> forwardGrad() {
    if (!file)
      return loader.function(path, "forward_grad");
    if (!file->forwardGrad)
      return missing("gradient function", file->forwardGradError);
    return std::move(*file->forwardGrad);
  }

private:
  Error missing(StringRef what, StringRef why) const {
    return createStringError(inconvertibleErrorCode(),
                             "'" + path + "' holds no " + what +
                                 (why.empty() ? Twine() : ": " + why));
  }

  std::string path;
  std::optional<accel::rt::StepPrograms> file;
  accel::lowering::ProgramLoader loader;
};
} // namespace

static Expected<accel::io::Dataset> openData(StringRef path, accel::io::Split split) {
  if (sys::fs::is_directory(path))
    return accel::io::Dataset::fromFashionMnist(path, split, "images", "labels");
  return accel::io::Dataset::fromSafetensors(path);
}

/// Elements of a shard's whole tensor (ZeRO, FSDP).
static int64_t wholeElements(const BufferDesc &b) {
  int64_t n = 1;
  for (int64_t d : b.shardOf)
    n *= d;
  return n;
}

/// The elements [first, second) of a whole tensor of `count` elements that
/// rank `rank`'s shard of `shard` elements holds; the rest is padding.
static std::pair<int64_t, int64_t> shardRange(int64_t count, int64_t shard,
                                              int64_t rank) {
  int64_t begin = std::min(count, rank * shard);
  return {begin, std::min(count, begin + shard)};
}

/// Supplies the elements [begin, end) of a whole state tensor at `out`.
using WholeReader = llvm::function_ref<void(int64_t begin, int64_t end,
                                            uint8_t *out)>;

/// Fills buffer `i` of `exec` from its whole tensor: all of it, or (sharded
/// optimizer state or parameter) rank `rank`'s shard, zero past its end.
static void loadState(Executable &exec, size_t i, int64_t rank,
                      WholeReader read) {
  const BufferDesc &b = exec.program().buffers[i];
  if (b.shardOf.empty()) {
    read(0, b.numElements(), exec.data(i));
    return;
  }
  size_t size = accel::rt::elementBytes(b.type);
  int64_t shard = b.shape[0];
  auto [begin, end] = shardRange(wholeElements(b), shard, rank);
  read(begin, end, exec.data(i));
  std::memset(exec.data(i) + (end - begin) * size, 0,
              (shard - (end - begin)) * size);
}

/// The files of a checkpoint that hold the state `program` loads on the
/// ranks `ranks`: their shards of the sharded tensors, and the whole of the
/// others. (Tensors the layout lacks are reported when they are loaded.)
static std::vector<bool> filesHolding(const accel::io::CheckpointLayout &layout,
                                      const accel::rt::Program &program,
                                      llvm::ArrayRef<int64_t> ranks) {
  std::vector<bool> needed(layout.files.size(), false);
  for (const BufferDesc &b : program.buffers) {
    const accel::io::StateTensor *t = layout.find(b.name);
    if (!t)
      continue;
    std::vector<std::pair<int64_t, int64_t>> ranges;
    if (b.shardOf.empty())
      ranges.push_back({0, b.numElements()});
    else
      for (int64_t r : ranks)
        ranges.push_back(shardRange(wholeElements(b), b.shape[0], r));
    for (const accel::io::TensorPart &part : t->parts)
      for (auto [begin, end] : ranges)
        if (part.begin < end && begin < part.end && part.file >= 0 &&
            static_cast<size_t>(part.file) < needed.size())
          needed[part.file] = true;
  }
  return needed;
}

/// Copies the model state (parameters, buffers and FP8 scaling state) of
/// `from` into the buffers of the same role and name in `to` (evaluation
/// and gradient programs read the training step's current state). A whole
/// tensor in `to` of a shard in `from` (an fsdp step's evaluation) is left
/// to the caller, who assembles it.
static void copyModelState(Executable &from, Executable &to) {
  for (auto [i, b] : llvm::enumerate(to.program().buffers)) {
    if (b.role != BufferDesc::Role::Param &&
        b.role != BufferDesc::Role::Buffer &&
        b.role != BufferDesc::Role::Fp8State)
      continue;
    for (auto [j, t] : llvm::enumerate(from.program().buffers))
      if (t.role == b.role && t.name == b.name && t.shardOf == b.shardOf)
        std::memcpy(to.data(i), from.data(j), b.bytes());
  }
}

/// On the CPU driver (--fused-chains=compiled), the program's fused chains
/// that qualify become machine code. A failure to compile loses nothing:
/// the chains stay interpreted, with a warning.
static void compileChains(accel::rt::Program &p, StringRef what) {
  if (device != "cpu" || fusedChains != "compiled")
    return;
  Expected<accel::lowering::FusedChainStats> stats =
      accel::lowering::compileFusedChains(p);
  if (!stats) {
    errs() << "accel-run: warning: " << what << ": fused chains stay interpreted: "
           << toString(stats.takeError()) << "\n";
    return;
  }
  if (profile && stats->compiled > 0)
    outs() << formatv("{0}: {1} fused chain(s) compiled to machine code in {2:F0} ms, {3} "
                      "interpreted\n",
                      what, stats->compiled, stats->seconds * 1e3, stats->interpreted);
}

/// Time per step by kernel kind, largest first, with the instruction count.
static void printProfile(const Executable &exec, int64_t steps) {
  std::map<std::string, std::pair<double, int>> byKernel;
  double total = 0;
  for (auto [pc, seconds] : llvm::enumerate(exec.profile())) {
    auto &entry = byKernel[accel::rt::kernelName(exec.program().code[pc].kernel)];
    entry.first += seconds;
    ++entry.second;
    total += seconds;
  }
  std::vector<std::pair<std::string, std::pair<double, int>>> rows(byKernel.begin(),
                                                                   byKernel.end());
  llvm::sort(rows, [](auto &a, auto &b) { return a.second.first > b.second.first; });
  double perStep = 1e3 / std::max<int64_t>(steps, 1);
  outs() << format("profile: %.2f ms/step in %zu instructions\n", total * perStep,
                   exec.profile().size());
  for (auto &[name, entry] : rows)
    outs() << format("  %-18s %8.3f ms/step %5.1f%%  (%d instructions)\n",
                     name.c_str(), entry.first * perStep,
                     100 * entry.first / std::max(total, 1e-12), entry.second);

  // The slowest single instructions, with their first result's shape: which
  // of a kind's many calls (which convolution, which fused chain) the time
  // is in.
  const accel::rt::Program &program = exec.program();
  std::vector<size_t> order(exec.profile().size());
  for (size_t pc = 0; pc < order.size(); ++pc)
    order[pc] = pc;
  llvm::sort(order, [&](size_t a, size_t b) { return exec.profile()[a] > exec.profile()[b]; });
  order.resize(std::min<size_t>(order.size(), 12));
  outs() << "slowest instructions:\n";
  for (size_t pc : order) {
    const accel::rt::Instruction &inst = program.code[pc];
    std::string shape = "nothing";
    if (!inst.results.empty()) {
      const accel::rt::BufferDesc &out = program.buffers[inst.results.front()];
      shape.clear();
      for (int64_t d : out.shape)
        shape += std::to_string(d) + "x";
      shape += accel::rt::elementTypeName(out.type);
    }
    outs() << format("  #%-5zu %-18s %8.3f ms/step  -> %s\n", pc,
                     accel::rt::kernelName(inst.kernel), exec.profile()[pc] * perStep,
                     shape.c_str());
  }
}

/// The bytes of a dataset's columns.
static uint64_t dataBytes(const accel::io::Dataset &data) {
  uint64_t total = 0;
  for (const accel::io::Column &c : data.columns())
    total += c.data.size();
  return total;
}

/// The error a stream met writing `path` (a full disk, say), cleared so that
/// closing the stream does not abort.
static Error streamError(raw_fd_ostream &os, StringRef path) {
  if (!os.has_error())
    return Error::success();
  std::error_code ec = os.error();
  os.clear_error();
  return createStringError(ec, "cannot write '" + path + "': " + ec.message());
}

static std::string mib(uint64_t bytes) {
  return formatv("{0:F1} MiB", bytes / 1048576.0).str();
}

static int run(int argc, char **argv);

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  // An allocation the host refuses ends the run with a message, not an
  // abort: LLVM's allocators report through this handler, the runtime's
  // through std::bad_alloc.
  install_bad_alloc_error_handler([](void *, const char *reason, bool) {
    errs() << "accel-run: error: out of host memory (" << reason
           << "; see `ulimit -v` and free memory)\n";
    std::_Exit(1);
  });
  try {
    return run(argc, argv);
  } catch (const std::bad_alloc &) {
    errs() << "accel-run: error: out of host memory (see `ulimit -v` and "
              "free memory; accel-run states what the run needs at start)\n";
    return 1;
  }
}

static int run(int argc, char **argv) {
  cl::opt<int> &threads = threadsOption();
  threads.setDescription("Worker threads (default: one per core)");
  threads.setValueStr("T");
  threads.addCategory(category);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(argc, argv, "accel-run: train a compiled step\n");
  if (listDrivers)
    return printDrivers();
  if (stepPath.empty())
    return fail("give the compiled step: accel-run STEP.mlir|STEP.accelprog "
                "--params INIT.safetensors --data TRAIN ...");
  if (paramsPath.empty())
    return fail("--params: give the initial parameters (INIT.safetensors)");
  if (dataPath.empty())
    return fail("--data: give the training data (a safetensors file or a "
                "Fashion-MNIST directory)");
  if ((steps > 0) == (epochs > 0))
    return fail("give exactly one of --steps and --epochs");
  accel::rt::hal::registerBuiltinDrivers();
  Expected<std::unique_ptr<accel::rt::hal::Driver>> driver =
      accel::rt::hal::DriverRegistry::global().create(device);
  if (!driver)
    return fail("--device: " + toString(driver.takeError()));
  // A plugin driver says which device it opened and the memory it has.
  if (device != "cpu") {
    Expected<std::unique_ptr<accel::rt::hal::Device>> d =
        (*driver)->createDevice({});
    if (!d)
      return fail("--device: " + toString(d.takeError()));
    Expected<accel::rt::hal::DeviceMemory> memory = (*d)->memory();
    if (!memory)
      return fail("--device: " + toString(memory.takeError()));
    outs() << formatv("device: {0}, {1:F1} GiB memory, {2:F1} GiB free\n",
                      (*d)->name(), memory->total / double(1 << 30),
                      memory->free / double(1 << 30));
  }

  if (fusedChains != "compiled" && fusedChains != "interpreted")
    return fail("--fused-chains: '" + fusedChains +
                "' is unknown; available: compiled, interpreted");
  // The step, the evaluation forward and the gradient function come from
  // the same file: it is parsed once.
  StepSource source(stepPath);
  if (Error e = source.open())
    return fail(toString(std::move(e)));
  Expected<accel::rt::Program> program = source.trainStep();
  if (!program)
    return fail(toString(program.takeError()));
  compileChains(*program, "step");
  // Data parallelism: the step fixes the rank count (accel-shard ranks=N).
  int64_t ranks = ranksOption > 0 ? ranksOption.getValue() : program->ranks;
  if (ranks != program->ranks)
    return fail("the step was compiled for " + Twine(program->ranks) +
                " data-parallel rank(s) (accel-shard ranks=N); it cannot "
                "run with --ranks " + Twine(ranks));
  if (collectives != "local" && collectives != "mpi")
    return fail("--collectives: '" + collectives +
                "' is unknown; available: local, mpi");
  if (!(collectiveTimeout > 0))
    return fail("--collective-timeout must be a positive number of seconds");
  auto timeout = std::chrono::milliseconds(
      static_cast<int64_t>(collectiveTimeout * 1000));
  // The ranks of this process: all of them (local), or the one MPI gave.
  std::vector<std::unique_ptr<accel::rt::Communicator>> comms;
  std::vector<int64_t> execRank = {0};
  std::unique_ptr<accel::rt::MpiCommunicator> mpi;
  bool writesCheckpoints = true;
  bool savesParams = !saveParams.empty(); // on every rank, even under MPI
  bool jobEvaluates = !evalData.empty();  // likewise
  if (collectives == "mpi") {
    Expected<std::unique_ptr<accel::rt::MpiCommunicator>> joined =
        accel::rt::MpiCommunicator::create(nullptr, nullptr, timeout,
                                           deterministic);
    if (!joined)
      return fail(toString(joined.takeError()));
    mpi = std::move(*joined);
    mpiJob = mpi.get();
    if (ranksOption > 0 && ranksOption != mpi->size())
      return fail("--ranks " + Twine(ranksOption) + " but the MPI job has " +
                  Twine(mpi->size()) + " processes");
    ranks = mpi->size();
    if (ranks != program->ranks)
      return fail("the step was compiled for " + Twine(program->ranks) +
                  " data-parallel rank(s) (accel-shard ranks=N) but the MPI "
                  "job has " + Twine(ranks) + " processes");
    // Every rank must run the same program with the same data and seed.
    Expected<std::unique_ptr<MemoryBuffer>> text =
        errorOrToExpected(MemoryBuffer::getFile(stepPath));
    if (!text)
      return fail(toString(text.takeError()));
    // Checkpoint options too: ranks that disagree on when to checkpoint
    // (or whether to resume) would pair their collectives wrongly.
    uint64_t identity =
        xxh3_64bits((*text)->getBuffer()) ^
        (xxh3_64bits(dataPath + "|" + std::to_string(seed) + "|" +
                     checkpointDir + "|" + std::to_string(checkpointEvery) +
                     "|" + std::to_string(resume.getValue()) + "|" +
                     std::to_string(jobEvaluates)) *
         31);
    Expected<std::vector<uint64_t>> all = mpi->gather(identity);
    if (!all)
      return fail(toString(all.takeError()));
    for (auto [q, other] : llvm::enumerate(*all))
      if (other != identity)
        return fail("rank " + Twine(q) + " runs another step, data or seed "
                    "than rank " + Twine(mpi->rank()) + " ('" + stepPath +
                    "', --data, --seed, whether --eval-data is given and the "
                    "checkpoint options must match "
                    "on every rank)");
    execRank = {mpi->rank()};
    // Rank 0 alone reports and writes.
    if (mpi->rank() != 0) {
      outs().flush();
      int null = ::open("/dev/null", O_WRONLY);
      if (null >= 0)
        ::dup2(null, 1);
      metricsPath = "";
      writesCheckpoints = false; // but reads them to resume
      saveParams = "";
      evalData = "";
    }
  } else if (ranks > 1) {
    for (auto &c : accel::rt::makeLocalGroup(static_cast<int>(ranks), timeout))
      comms.push_back(std::move(c));
    execRank.clear();
    for (int64_t r = 0; r < ranks; ++r)
      execRank.push_back(r);
  }

  // State from the parameter file, checked against the step before training.
  Expected<accel::io::SafetensorsFile> initial =
      accel::io::SafetensorsFile::read(paramsPath);
  if (!initial)
    return fail(toString(initial.takeError()));
  std::vector<int> inputs;
  int stepArg = -1, lrArg = -1, seedArg = -1;
  for (auto [i, b] : llvm::enumerate(program->buffers)) {
    switch (b.role) {
    case BufferDesc::Role::Step:
      stepArg = i;
      break;
    case BufferDesc::Role::Lr:
      lrArg = i;
      break;
    case BufferDesc::Role::Seed:
      seedArg = i;
      break;
    default:
      break;
    }
  }
  if (stepArg < 0 || lrArg < 0)
    return fail("@train_step lacks its step or lr argument");
  for (const BufferDesc &b : program->buffers)
    if (!b.shardOf.empty() && b.type != accel::rt::ElementType::F32)
      return fail("\"" + b.name + "\" is sharded (ZeRO, FSDP) but not f32; "
                  "accel-run assembles sharded state as f32 only");

  // Data: columns named after the inputs, or Fashion-MNIST by dtype.
  bool fashionMnist = sys::fs::is_directory(dataPath);
  Expected<accel::io::Dataset> data = openData(dataPath, accel::io::Split::Train);
  if (!data)
    return fail(toString(data.takeError()));
  std::vector<const accel::io::Column *> columns;
  Expected<int64_t> batchOr =
      bindInputs(*program, *data, fashionMnist, inputs, columns);
  if (!batchOr)
    return fail(toString(batchOr.takeError()));
  // Each rank's step takes `local` samples; a global batch is the ranks'
  // slices side by side, in rank order.
  int64_t local = *batchOr;
  int64_t batch = local * ranks;
  if (batch > data->size())
    return fail("the data has " + Twine(data->size()) +
                " samples, fewer than one global batch of " + Twine(batch) +
                " (" + Twine(ranks) + " ranks x " + Twine(local) + ")");
  int64_t perEpoch = data->size() / batch;
  int64_t total = steps > 0 ? steps.getValue() : epochs * perEpoch;

  int workers = threads > 0 ? threads.getValue()
                            : static_cast<int>(std::max(
                                  1u, std::thread::hardware_concurrency()));
  auto load = [&](accel::rt::Program p) {
    return accel::rt::hal::loadOn(device, {workers}, std::move(p));
  };
  // What the run holds in host memory, stated before it is allocated.
  outs() << "memory: step arena " << mib(program->arenaBytes)
         << ", state and inputs " << mib(program->ownedBytes()) << ", data "
         << mib(dataBytes(*data));
  if (ranks > 1)
    outs() << " (arena, state and inputs for each of " << ranks << " ranks)";
  outs() << "\n";
  outs().flush();
  // The first executable (`exec`) reports, evaluates and writes; every
  // rank holds the whole replicated state. Local ranks share the cores.
  std::vector<std::unique_ptr<Executable>> rankExecs;
  if (mpi) {
    Expected<std::unique_ptr<Executable>> e =
        accel::rt::hal::loadOn(device, {workers, mpi.get()}, std::move(*program));
    if (!e)
      return fail(toString(e.takeError()));
    rankExecs.push_back(std::move(*e));
  } else if (ranks > 1) {
    int perRank = std::max<int>(1, workers / static_cast<int>(ranks));
    for (int64_t r = 0; r < ranks; ++r) {
      Expected<std::unique_ptr<Executable>> e = accel::rt::hal::loadOn(
          device, {perRank, comms[r].get()},
          r + 1 < ranks ? accel::rt::Program(*program) : std::move(*program));
      if (!e)
        return fail(toString(e.takeError()));
      rankExecs.push_back(std::move(*e));
    }
  } else {
    Expected<std::unique_ptr<Executable>> loaded = load(std::move(*program));
    if (!loaded)
      return fail(toString(loaded.takeError()));
    rankExecs.push_back(std::move(*loaded));
  }
  Executable &exec = *rankExecs[0];
  // A whole state tensor from a file into buffer `i`: rank 0's (the others
  // copy it before training), or each rank's shard of it into that rank's.
  auto loadWhole = [&](size_t i, WholeReader read) {
    if (exec.program().buffers[i].shardOf.empty()) {
      loadState(exec, i, execRank[0], read);
      return;
    }
    for (auto [e, rankExec] : llvm::enumerate(rankExecs))
      loadState(*rankExec, i, execRank[e], read);
  };
  if (ranks > 1) {
    // What each rank's executable holds, in the terms of accel-comm-report
    // (which plans it; a test compares the two).
    uint64_t params = 0, optState = 0;
    for (const BufferDesc &b : exec.program().buffers) {
      params += b.role == BufferDesc::Role::Param ? b.bytes() : 0;
      optState += b.role == BufferDesc::Role::OptState ? b.bytes() : 0;
    }
    outs() << "per rank: parameters " << params << " B, optimizer state "
           << optState << " B, arena " << exec.program().arenaBytes << " B\n";
  }
  exec.setProfiling(profile);
  for (auto [i, b] : llvm::enumerate(exec.program().buffers)) {
    bool isState = b.role == BufferDesc::Role::Param ||
                   b.role == BufferDesc::Role::Buffer;
    if (b.role == BufferDesc::Role::OptState) {
      std::memset(exec.data(i), 0, b.bytes()); // optimizer state starts at 0
      continue;
    }
    if (b.role == BufferDesc::Role::Fp8State) {
      // Delayed scaling starts with empty histories and scales of 1.
      if (b.type != accel::rt::ElementType::F32)
        return fail("FP8 state \"" + b.name + "\" is not f32");
      std::fill_n(exec.as<float>(i), b.numElements(), b.init);
      continue;
    }
    if (!isState)
      continue;
    const accel::io::SafetensorsFile::Tensor *t = initial->find(b.name);
    if (!t)
      return fail("'" + paramsPath + "' has no tensor \"" + b.name + "\"");
    // fsdp: the file holds whole parameters; each rank takes its shard.
    const std::vector<int64_t> &shape = b.shardOf.empty() ? b.shape : b.shardOf;
    if (t->shape != shape || ioType(b.type) != t->dtype) {
      auto describe = [](accel::io::DType dtype, ArrayRef<int64_t> shape) {
        std::string text = accel::io::dtypeName(dtype).str() + " [";
        for (auto [d, size] : llvm::enumerate(shape))
          text += (d ? ", " : "") + std::to_string(size);
        return text + "]";
      };
      return fail("\"" + b.name + "\" in '" + paramsPath + "' is " +
                  describe(t->dtype, t->shape) + ", but the step takes " +
                  describe(*ioType(b.type), shape));
    }
    const uint8_t *bytes = t->bytes.data();
    size_t size = accel::rt::elementBytes(b.type);
    loadWhole(i, [&](int64_t begin, int64_t end, uint8_t *out) {
      std::memcpy(out, bytes + begin * size, (end - begin) * size);
    });
  }

  double chosen = lr >= 0 ? lr.getValue() : exec.program().defaultLr;
  if (chosen < 0)
    return fail("the step records no learning rate; give --lr");
  float rate = static_cast<float>(chosen);

  // Evaluation: @forward up to the logits, on the test data.
  std::unique_ptr<Executable> evalExec;
  std::optional<accel::io::Dataset> evalSet;
  std::vector<int> evalInputs;
  std::vector<const accel::io::Column *> evalColumns;
  int64_t evalBatch = 0, labelsColumn = -1, ignoreIndex = -100;
  if (!evalData.empty()) {
    Expected<accel::rt::EvalProgram> eval = source.classifier();
    if (!eval)
      return fail(toString(eval.takeError()));
    compileChains(eval->program, "evaluation");
    Expected<accel::io::Dataset> set = openData(evalData, accel::io::Split::Test);
    if (!set)
      return fail(toString(set.takeError()));
    evalSet = std::move(*set);
    Expected<int64_t> b = bindInputs(eval->program, *evalSet,
                                     sys::fs::is_directory(evalData), evalInputs,
                                     evalColumns);
    if (!b)
      return fail("--eval-data: " + toString(b.takeError()));
    evalBatch = *b;
    ignoreIndex = eval->ignoreIndex;
    for (size_t k = 0; k < evalInputs.size(); ++k)
      if (eval->program.buffers[evalInputs[k]].name == eval->labelsInput)
        labelsColumn = static_cast<int64_t>(k);
    Expected<std::unique_ptr<Executable>> e = load(std::move(eval->program));
    if (!e)
      return fail(toString(e.takeError()));
    evalExec = std::move(*e);
  }
  auto isState = [](BufferDesc::Role r) {
    return r == BufferDesc::Role::Param || r == BufferDesc::Role::Buffer ||
           r == BufferDesc::Role::OptState || r == BufferDesc::Role::Fp8State;
  };
  int64_t first = 0;
  if (resume) {
    if (checkpointDir.empty())
      return fail("--resume needs --checkpoint-dir");
    // A corrupt or inconsistent newest checkpoint is passed over, loudly,
    // for the newest intact one. An MPI rank reads (and checksums) only
    // the files that hold its state; the ranks then agree on the newest
    // checkpoint intact for all of them.
    std::vector<std::string> rejected;
    accel::io::NeededFiles needed;
    if (mpi)
      needed = [&](const accel::io::CheckpointLayout &layout) {
        return filesHolding(layout, exec.program(), execRank);
      };
    Expected<accel::io::Checkpoint> checkpoint =
        accel::io::readNewestIntactCheckpoint(checkpointDir, rejected, needed);
    while (mpi) {
      // -1: none is intact for this rank.
      int64_t mine = checkpoint ? checkpoint->manifest.step : -1;
      Expected<std::vector<uint64_t>> steps =
          mpi->gather(static_cast<uint64_t>(mine));
      if (!steps)
        return fail(toString(steps.takeError()));
      int64_t agreed = mine;
      for (uint64_t other : *steps)
        agreed = std::min(agreed, static_cast<int64_t>(other));
      // Every rank sees the same steps, so all leave the loop together.
      if (llvm::all_of(*steps, [&](uint64_t other) {
            return static_cast<int64_t>(other) == agreed;
          }))
        break;
      if (agreed < 0) {
        if (!checkpoint)
          break;
        return fail("no checkpoint in '" + checkpointDir +
                    "' is intact for every rank (another rank found none)");
      }
      if (mine == agreed)
        continue; // the others fall back to this rank's
      consumeError(checkpoint.takeError());
      rejected.push_back("checkpoints after step " + std::to_string(agreed) +
                         " are not intact for every rank");
      checkpoint = accel::io::readNewestIntactCheckpoint(checkpointDir,
                                                         rejected, needed,
                                                         agreed);
    }
    if (!checkpoint)
      return fail(toString(checkpoint.takeError()));
    for (const std::string &why : rejected)
      errs() << "accel-run: warning: skipping a checkpoint: " << why << "\n";
    if (checkpoint->manifest.seed != seed)
      return fail("the checkpoint was trained with --seed " +
                  Twine(checkpoint->manifest.seed) + ", not " + Twine(seed));
    // Each buffer takes its elements from whichever files hold them: a
    // checkpoint written by any rank count and strategy resumes here.
    for (auto [i, b] : llvm::enumerate(exec.program().buffers)) {
      if (!isState(b.role))
        continue;
      const std::vector<int64_t> &shape = b.shardOf.empty() ? b.shape : b.shardOf;
      const accel::io::StateTensor *t = checkpoint->layout.find(b.name);
      if (!t || t->shape != shape || ioType(b.type) != t->dtype ||
          (!t->role.empty() && t->role != roleName(b.role)))
        return fail("checkpoint '" + checkpoint->path + "' has no \"" + b.name +
                    "\" of the step's role, shape and dtype");
      loadWhole(i, [&](int64_t begin, int64_t end, uint8_t *out) {
        checkpoint->read(*t, begin, end, out);
      });
    }
    first = checkpoint->manifest.step;
    if (first > total)
      return fail("checkpoint '" + checkpoint->path + "' is at step " +
                  Twine(first) + ", beyond the " + Twine(total) +
                  " steps asked for");
    outs() << "resuming from " << checkpoint->path << " at step " << first << "\n";
    const accel::io::CheckpointLayout &written = checkpoint->layout;
    auto describe = [](int64_t n, const std::string &strategy) {
      return std::to_string(n) + " rank(s)" +
             (strategy.empty() ? "" : " (" + strategy + ")");
    };
    // (Checkpoints written before layouts record no rank count: 0.)
    if (written.ranks > 0 &&
        (written.ranks != ranks || written.strategy != exec.program().strategy))
      outs() << "resharding: the checkpoint was written by "
             << describe(written.ranks, written.strategy) << ", this run has "
             << describe(ranks, exec.program().strategy) << "\n";
    if (mpi) {
      // Ranks that do not share the checkpoint directory could pick
      // different checkpoints.
      Expected<std::vector<uint64_t>> steps = mpi->gather(first);
      if (!steps)
        return fail(toString(steps.takeError()));
      for (auto [q, other] : llvm::enumerate(*steps))
        if (other != static_cast<uint64_t>(first))
          return fail("rank " + Twine(q) + " resumes at step " + Twine(other) +
                      ", rank " + Twine(mpi->rank()) + " at step " +
                      Twine(first) + ": the ranks must share --checkpoint-dir");
    }
  }
  if (checkpointEvery < 0 || (checkpointEvery > 0 && checkpointDir.empty()))
    return fail("--checkpoint-every needs --checkpoint-dir and a positive K");
  // --save-params writes whole tensors: under FSDP every rank takes part
  // in assembling the parameters (MPI: one all-gather, not counted as the
  // step's communication).
  uint64_t checkpointCollectives = 0, checkpointBytes = 0;
  std::map<size_t, std::vector<float>> wholeState;
  bool shardedParams = llvm::any_of(exec.program().buffers, [](auto &b) {
    return b.role == BufferDesc::Role::Param && !b.shardOf.empty();
  });
  // Only the parameters: --save-params and evaluation read nothing else
  // (checkpoints keep each rank's shards).
  auto assembleShards = [&]() -> Error {
    std::vector<accel::rt::ShardBuffer> gather;
    for (auto [i, b] : llvm::enumerate(exec.program().buffers)) {
      if (b.shardOf.empty() || b.role != BufferDesc::Role::Param)
        continue;
      std::vector<float> &whole = wholeState[i];
      whole.resize(wholeElements(b));
      if (mpi) {
        gather.push_back({exec.as<float>(i), whole.data(), wholeElements(b)});
        continue;
      }
      for (auto [r, rankExec] : llvm::enumerate(rankExecs)) {
        auto [begin, end] = shardRange(wholeElements(b), b.shape[0],
                                       static_cast<int64_t>(r));
        std::copy(rankExec->as<float>(i), rankExec->as<float>(i) + (end - begin),
                  whole.begin() + begin);
      }
    }
    if (gather.empty())
      return Error::success();
    uint64_t calls = mpi->completed(), bytes = mpi->payloadBytes();
    Error e = mpi->allGather(gather, "all_gather of the sharded state");
    checkpointCollectives += mpi->completed() - calls;
    checkpointBytes += mpi->payloadBytes() - bytes;
    return e;
  };
  // Buffer `i` as a whole tensor to write: rank 0's, or the assembled
  // shards (assembleShards first).
  auto stateTensor = [&](size_t i) -> accel::io::TensorRef {
    const BufferDesc &b = exec.program().buffers[i];
    if (b.shardOf.empty())
      return {b.name, *ioType(b.type), b.shape,
              ArrayRef<uint8_t>(exec.data(i), b.bytes())};
    const std::vector<float> &whole = wholeState[i];
    return {b.name, *ioType(b.type), b.shardOf,
            ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(whole.data()),
                              whole.size() * sizeof(float))};
  };

  // Accuracy over the whole batches of the evaluation data, with the
  // training executor's current parameters and buffers.
  auto evaluate = [&]() -> Expected<double> {
    copyModelState(exec, *evalExec);
    // An fsdp step's evaluation forward takes whole parameters: every rank
    // takes part in assembling them, as for --save-params.
    if (shardedParams) {
      if (Error e = assembleShards())
        return std::move(e);
      for (auto [i, b] : llvm::enumerate(evalExec->program().buffers))
        for (auto [j, t] : llvm::enumerate(exec.program().buffers))
          if (b.role == BufferDesc::Role::Param && t.role == b.role &&
              t.name == b.name && !t.shardOf.empty())
            std::memcpy(evalExec->data(i), wholeState[j].data(), b.bytes());
    }
    // Every sample counts: the last, partial batch is filled up with the
    // first samples again and only its real samples' rows are scored (in
    // inference mode a sample's logits depend on that sample alone).
    int64_t samples = evalSet->size();
    std::vector<int64_t> order = accel::io::epochOrder(samples, 0, 0, false);
    for (int64_t i = 0; samples > 0 && order.size() % evalBatch; ++i)
      order.push_back(order[i % samples]);
    int64_t correct = 0, predictions = 0;
    const BufferDesc &logits = evalExec->program().buffers[evalExec->program().results[0].buffer];
    int64_t classes = logits.shape.back();
    // Logit rows per sample (a language model has one per token).
    int64_t rowsPerSample = logits.numElements() / classes / evalBatch;
    for (int64_t bi = 0; bi * evalBatch < samples; ++bi) {
      int64_t real = std::min(evalBatch, samples - bi * evalBatch);
      for (size_t k = 0; k < evalInputs.size(); ++k)
        accel::io::gatherBatch(*evalColumns[k], order, bi, evalBatch,
                               {evalExec->data(evalInputs[k]),
                                evalExec->program().buffers[evalInputs[k]].bytes()});
      if (Error e = evalExec->run())
        return std::move(e);
      const float *out = evalExec->as<float>(evalExec->program().results[0].buffer);
      const int64_t *labels = evalExec->as<int64_t>(evalInputs[labelsColumn]);
      for (int64_t r = 0; r < real * rowsPerSample; ++r) {
        if (labels[r] == ignoreIndex)
          continue;
        const float *row = out + r * classes;
        correct += std::max_element(row, row + classes) - row == labels[r];
        ++predictions;
      }
    }
    return static_cast<double>(correct) / std::max<int64_t>(predictions, 1);
  };

  // Checkpoints: whole state in one file, or, when the state is sharded,
  // each rank's shards in a file of its own (no collective assembles
  // them); rank 0 commits once every file is durable.
  std::vector<accel::io::StateTensorSpec> specs;
  std::map<std::string, size_t> stateBuffer;
  for (auto [i, b] : llvm::enumerate(exec.program().buffers))
    if (isState(b.role)) {
      specs.push_back({b.name, roleName(b.role).str(), *ioType(b.type),
                       b.shardOf.empty() ? b.shape : b.shardOf,
                       !b.shardOf.empty()});
      stateBuffer[b.name] = i;
    }
  accel::io::CheckpointLayout layout =
      accel::io::checkpointLayout(specs, ranks, exec.program().strategy);
  auto partBytes = [&](const accel::io::StateTensor &t,
                       const accel::io::TensorPart &part) -> ArrayRef<uint8_t> {
    size_t i = stateBuffer.at(t.name);
    const BufferDesc &b = exec.program().buffers[i];
    if (b.shardOf.empty())
      return ArrayRef<uint8_t>(exec.data(i), b.bytes());
    // Rank r's file holds rank r's shard, less its padding.
    for (auto [e, rankExec] : llvm::enumerate(rankExecs))
      if (execRank[e] == part.file)
        return ArrayRef<uint8_t>(rankExec->data(i),
                                 (part.end - part.begin) *
                                     accel::rt::elementBytes(b.type));
    return {};
  };
  // MPI: every rank learns every rank's outcome of a checkpoint phase, so
  // that all stop together (a timed collective, not the step's traffic).
  auto agree = [&](Error mine, const Twine &phase) -> Error {
    float failed = mine ? 1.0f : 0.0f;
    std::string message = mine ? toString(std::move(mine)) : "";
    std::vector<float> all(ranks);
    uint64_t calls = mpi->completed(), bytes = mpi->payloadBytes();
    Error e = mpi->allGather({{&failed, all.data(), ranks}},
                             ("checkpoint: " + phase).str());
    checkpointCollectives += mpi->completed() - calls;
    checkpointBytes += mpi->payloadBytes() - bytes;
    if (e)
      return e;
    if (!message.empty())
      return createStringError(inconvertibleErrorCode(), message);
    for (auto [r, f] : llvm::enumerate(all))
      if (f != 0)
        return createStringError(inconvertibleErrorCode(),
                                 "checkpoint: rank " + Twine(r) + " could not " +
                                     phase + " (its error is above)");
    return Error::success();
  };
  // Every rank's checksums of its checkpoint file, on every rank: each
  // rank's padded to the longest (a file's part count follows from the
  // layout), the bits moved as they are.
  auto gatherChecksums = [&](const accel::io::PartChecksums &mine)
      -> Expected<std::vector<accel::io::PartChecksums>> {
    size_t longest = 0;
    for (size_t f = 0; f < layout.files.size(); ++f)
      longest = std::max(longest, accel::io::partsInFile(layout, f));
    std::vector<uint32_t> padded(mine), all(longest * ranks);
    padded.resize(longest);
    uint64_t calls = mpi->completed(), bytes = mpi->payloadBytes();
    Error e = mpi->allGather(
        {{padded.data(), all.data(), static_cast<int64_t>(all.size())}},
        "checkpoint: gather the ranks' checksums");
    checkpointCollectives += mpi->completed() - calls;
    checkpointBytes += mpi->payloadBytes() - bytes;
    if (e)
      return std::move(e);
    std::vector<accel::io::PartChecksums> checksums(ranks);
    for (int64_t r = 0; r < ranks; ++r)
      checksums[r].assign(all.begin() + r * longest,
                          all.begin() + r * longest +
                              accel::io::partsInFile(layout, r));
    return checksums;
  };
  auto writeCheckpoint = [&](int64_t done) -> Error {
    accel::io::CheckpointManifest manifest;
    manifest.step = done;
    manifest.epoch = done / perEpoch;
    manifest.batchInEpoch = done % perEpoch;
    manifest.seed = seed;
    manifest.extra["lr"] = static_cast<double>(rate);
    if (!mpi || layout.files.size() == 1) {
      if (!writesCheckpoints)
        return Error::success();
      if (Error e = accel::io::writeCheckpoint(checkpointDir, layout, partBytes,
                                               manifest))
        return e;
    } else {
      bool root = mpi->rank() == 0;
      if (Error e = agree(root ? accel::io::beginCheckpoint(checkpointDir, done)
                               : Error::success(),
                          "start the checkpoint of step " + Twine(done)))
        return e;
      Expected<accel::io::PartChecksums> mine = accel::io::writeCheckpointFile(
          checkpointDir, done, layout, mpi->rank(), partBytes);
      if (Error e = agree(mine ? Error::success() : mine.takeError(),
                          "write its checkpoint file of step " + Twine(done)))
        return e;
      // Each rank read its own file back; rank 0 commits with everyone's
      // checksums (one all-gather of a few bytes) instead of reading every
      // file again.
      Expected<std::vector<accel::io::PartChecksums>> checksums =
          gatherChecksums(*mine);
      if (!checksums)
        return checksums.takeError();
      // Rank 0 commits and prunes; every rank learns how that went.
      auto commitAndPrune = [&]() -> Error {
        if (Error e = accel::io::commitCheckpoint(checkpointDir, layout,
                                                  manifest, *checksums))
          return e;
        return accel::io::pruneCheckpoints(checkpointDir, keepCheckpoints);
      };
      return agree(root ? commitAndPrune() : Error::success(),
                   "commit the checkpoint of step " + Twine(done));
    }
    return accel::io::pruneCheckpoints(checkpointDir, keepCheckpoints);
  };

  // --dump-grads: @forward_grad on the first step's batch and state.
  std::unique_ptr<Executable> gradExec;
  std::vector<int> gradInputs;
  std::vector<const accel::io::Column *> gradColumns;
  if (!dumpGrads.empty() && ranks > 1)
    return fail("--dump-grads writes one rank's gradients; it needs a step "
                "compiled without accel-shard");
  if (!dumpGrads.empty()) {
    Expected<accel::rt::Program> grads = source.forwardGrad();
    if (!grads)
      return fail(toString(grads.takeError()));
    compileChains(*grads, "gradients");
    Expected<int64_t> b =
        bindInputs(*grads, *data, fashionMnist, gradInputs, gradColumns);
    if (!b)
      return fail("--dump-grads: " + toString(b.takeError()));
    if (*b != batch)
      return fail("--dump-grads needs a step without gradient accumulation");
    Expected<std::unique_ptr<Executable>> g = load(std::move(*grads));
    if (!g)
      return fail(toString(g.takeError()));
    gradExec = std::move(*g);
  }
  auto writeGrads = [&](const std::vector<int64_t> &order, int64_t inEpoch,
                        int64_t seedValue) -> Error {
    copyModelState(exec, *gradExec);
    // With loss scaling, the gradients are computed as the first step
    // computes them (the loss scaled by the initial scale) and unscaled.
    float scale = static_cast<float>(gradExec->program().initialLossScale);
    for (auto [i, b] : llvm::enumerate(gradExec->program().buffers)) {
      if (b.role == BufferDesc::Role::Seed)
        *gradExec->as<int64_t>(i) = seedValue;
      if (b.role == BufferDesc::Role::LossScale)
        *gradExec->as<float>(i) = scale;
    }
    for (size_t k = 0; k < gradInputs.size(); ++k)
      accel::io::gatherBatch(*gradColumns[k], order, inEpoch, batch,
                             {gradExec->data(gradInputs[k]),
                              gradExec->program().buffers[gradInputs[k]].bytes()});
    if (Error e = gradExec->run())
      return e;
    std::vector<accel::io::TensorRef> tensors;
    for (const accel::rt::ProgramResult &r : gradExec->program().results)
      if (r.kind == accel::rt::ProgramResult::Kind::Grad) {
        const BufferDesc &b = gradExec->program().buffers[r.buffer];
        if (scale != 1.0f && b.type == accel::rt::ElementType::F32) {
          float inv = static_cast<float>(1.0 / static_cast<double>(scale));
          float *g = gradExec->as<float>(r.buffer);
          for (int64_t e = 0; e < b.numElements(); ++e)
            g[e] *= inv;
        }
        tensors.push_back({r.name, *ioType(b.type), b.shape,
                           ArrayRef<uint8_t>(gradExec->data(r.buffer), b.bytes())});
      }
    return accel::io::writeSafetensors(dumpGrads, tensors);
  };

  std::unique_ptr<raw_fd_ostream> metrics;
  if (!metricsPath.empty()) {
    std::error_code ec;
    metrics = std::make_unique<raw_fd_ostream>(metricsPath, ec);
    if (ec)
      return fail("cannot write '" + metricsPath + "': " + ec.message());
  }
  // Loss scaling: the scale (state, after this step's update) and whether
  // the step was skipped (a metric result), reported per step.
  int scaleState = -1, skippedResult = -1;
  for (auto [i, b] : llvm::enumerate(exec.program().buffers))
    if (b.role == BufferDesc::Role::OptState && b.name == "loss_scale")
      scaleState = static_cast<int>(i);
  for (const accel::rt::ProgramResult &r : exec.program().results)
    if (r.kind == accel::rt::ProgramResult::Kind::Metric && r.name == "skipped")
      skippedResult = r.buffer;
  int64_t nonFiniteRun = 0, skippedSteps = 0;

  std::vector<int64_t> order;
  accel::run::LossSeries curve;
  curve.label = plotLabel;
  std::vector<accel::run::LossSeries> compared;
  for (const std::string &spec : plotCompare) {
    auto [label, file] = StringRef(spec).split('=');
    if (file.empty())
      return fail("--plot-compare takes LABEL=METRICS.jsonl, got '" + spec + "'");
    Expected<accel::run::LossSeries> other = accel::run::readMetrics(file, label);
    if (!other)
      return fail("--plot-compare: " + toString(other.takeError()));
    compared.push_back(std::move(*other));
  }
  // Every rank starts from rank 0's state (initial or resumed), but for
  // its own shards, loaded above (optimizer state starts at zero).
  for (size_t r = 1; r < rankExecs.size(); ++r)
    for (auto [i, b] : llvm::enumerate(exec.program().buffers))
      if (isState(b.role) && b.shardOf.empty())
        std::memcpy(rankExecs[r]->data(i), exec.data(i), b.bytes());
      else if (b.role == BufferDesc::Role::OptState && !resume)
        std::memset(rankExecs[r]->data(i), 0, b.bytes());
  // Runs every rank's step, the others on threads of their own. A rank
  // that fails aborts its collectives, so no rank waits for it; the error
  // reported is rank 0's, which names the failed rank.
  auto runRanks = [&]() -> Error {
    if (rankExecs.size() == 1) {
      Error e = exec.run();
      if (e && mpi)
        mpi->abort(toString(std::move(e))); // ends the job
      return e;
    }
    std::vector<std::string> errors(rankExecs.size());
    auto runOne = [&](size_t r) {
      if (Error e = rankExecs[r]->run()) {
        errors[r] = toString(std::move(e));
        comms[r]->abort(errors[r]);
      }
    };
    std::vector<std::thread> others;
    for (size_t r = 1; r < rankExecs.size(); ++r)
      others.emplace_back(runOne, r);
    runOne(0);
    for (std::thread &t : others)
      t.join();
    for (const std::string &e : errors)
      if (!e.empty())
        return createStringError(inconvertibleErrorCode(),
                                 errors[0].empty() ? e : errors[0]);
    return Error::success();
  };
  bool terminal = sys::Process::StandardOutIsDisplayed();
  auto start = std::chrono::steady_clock::now();
  for (int64_t s = first; s < total; ++s) {
    int64_t epoch = s / perEpoch, inEpoch = s % perEpoch;
    if (inEpoch == 0 || s == first)
      order = accel::io::epochOrder(data->size(), seed, epoch, !noShuffle);
    int64_t stepSeed = static_cast<int64_t>(seed) * 1000003 + s;
    for (auto [e, rankExec] : llvm::enumerate(rankExecs)) {
      // Rank r's slice of the global batch: samples r·local onwards.
      ArrayRef<int64_t> slice = ArrayRef<int64_t>(order).slice(
          inEpoch * batch + execRank[e] * local, local);
      for (size_t k = 0; k < inputs.size(); ++k)
        accel::io::gatherBatch(*columns[k], slice, 0, local,
                               {rankExec->data(inputs[k]),
                                rankExec->program().buffers[inputs[k]].bytes()});
      *rankExec->as<int64_t>(stepArg) = s + 1;
      *rankExec->as<float>(lrArg) = rate;
      if (seedArg >= 0)
        *rankExec->as<int64_t>(seedArg) = stepSeed;
    }
    if (gradExec && s == first)
      if (Error e = writeGrads(order, inEpoch, stepSeed))
        return fail(toString(std::move(e)));
    if (Error e = runRanks())
      return fail("step " + Twine(s + 1) + ": " + toString(std::move(e)));
    float loss = *exec.as<float>(exec.program().results[0].buffer);
    bool skipped = skippedResult >= 0 && *exec.data(skippedResult) != 0;
    for (std::unique_ptr<Executable> &rankExec : rankExecs)
      rankExec->commitState();
    float scale = scaleState >= 0 ? *exec.as<float>(scaleState) : 1.0f;
    skippedSteps += skipped;
    double seconds = std::chrono::duration<double>(
                         std::chrono::steady_clock::now() - start).count();
    if (metrics) {
      json::Object line{{"step", s + 1},
                        {"epoch", epoch},
                        // JSON has no NaN: a diverged step's loss is null.
                        {"loss", std::isfinite(loss) ? json::Value(loss)
                                                     : json::Value(nullptr)},
                        {"lr", rate},
                        {"samples_per_s", (s + 1 - first) * batch / seconds}};
      if (scaleState >= 0)
        line["loss_scale"] = scale;
      if (skippedResult >= 0)
        line["skipped"] = skipped;
      *metrics << json::Value(std::move(line)) << "\n";
      // Each step's line reaches the file now: a full disk stops the run
      // at once (the last checkpoint stays intact), not after training.
      metrics->flush();
      if (Error e = streamError(*metrics, metricsPath))
        return fail(toString(std::move(e)) + " (metrics of step " +
                    Twine(s + 1) + ")");
    }
    // Loss scaling cannot rescue a forward pass that overflows: GradScaler
    // would halve the scale forever. Stop and say so.
    nonFiniteRun = std::isfinite(loss) ? 0 : nonFiniteRun + 1;
    if (maxNonFinite > 0 && nonFiniteRun >= maxNonFinite) {
      if (metrics)
        metrics->flush();
      return fail("the loss was inf or NaN for " + Twine(nonFiniteRun) +
                  " consecutive steps (through step " + Twine(s + 1) +
                  "): the forward pass itself overflows or the data holds "
                  "inf/NaN, which loss scaling cannot fix (check the data, "
                  "lower the learning rate, or use a wider precision); "
                  "--max-nonfinite-steps sets the limit");
    }
    curve.losses.push_back({s + 1, loss});
    if (skipped)
      curve.skipped.push_back(s + 1);
    double rateNow = (s + 1 - first) * batch / seconds;
    double eta = (total - s - 1) * batch / std::max(rateNow, 1e-9);
    std::string scaling;
    if (scaleState >= 0)
      raw_string_ostream(scaling)
          << format("  scale %g (%lld skipped)", scale,
                    static_cast<long long>(skippedSteps));
    if (terminal)
      outs() << format("\rstep %lld/%lld  epoch %lld  loss %.4f%s  %.0f samples/s  ETA %.0fs ",
                       static_cast<long long>(s + 1), static_cast<long long>(total),
                       static_cast<long long>(epoch), loss, scaling.c_str(),
                       rateNow, eta);
    else if ((s + 1) % 50 == 0 || s + 1 == total)
      outs() << "step " << s + 1 << "/" << total << "  loss " << format("%.4f", loss)
             << scaling << "  " << format("%.0f", rateNow) << " samples/s\n";
    outs().flush();
    bool evaluationStep = (s + 1) % perEpoch == 0 || s + 1 == total;
    // MPI ranks other than 0 help assemble the parameters rank 0 evaluates.
    if (!evalExec && jobEvaluates && evaluationStep && shardedParams)
      if (Error e = assembleShards())
        return fail("evaluation: " + toString(std::move(e)));
    if (evalExec && evaluationStep) {
      Expected<double> evaluated = evaluate();
      if (!evaluated)
        return fail("evaluation: " + toString(evaluated.takeError()));
      double accuracy = *evaluated;
      curve.evals.push_back({s + 1, accuracy});
      outs() << (terminal ? "\n" : "") << "epoch " << epoch << ": eval accuracy "
             << format("%.2f%%", 100 * accuracy) << " on "
             << evalSet->size() << " samples\n";
      if (metrics) {
        *metrics << json::Value(json::Object{{"step", s + 1},
                                             {"epoch", epoch},
                                             {"eval_accuracy", accuracy}})
                 << "\n";
        metrics->flush();
        if (Error e = streamError(*metrics, metricsPath))
          return fail(toString(std::move(e)));
      }
    }
    if (!checkpointDir.empty() &&
        ((checkpointEvery > 0 && (s + 1) % checkpointEvery == 0) || s + 1 == total)) {
      if (Error e = writeCheckpoint(s + 1))
        return fail(toString(std::move(e)));
    }
  }

  if (terminal)
    outs() << "\n";
  if (metrics) {
    SmallString<256> plot(metricsPath);
    sys::path::replace_extension(plot, "svg");
    std::vector<accel::run::LossSeries> series = {curve};
    series.insert(series.end(), compared.begin(), compared.end());
    if (Error e = accel::run::writeLossPlot(
            plot, "training loss, " + sys::path::filename(stepPath).str(), series))
      return fail(toString(std::move(e)));
    outs() << "metrics: " << metricsPath << "  loss curve: " << plot << "\n";
  }
  if (!checkpointDir.empty())
    outs() << "checkpoint: " << checkpointDir << "/latest\n";
  accel::rt::Communicator *reporter = mpi ? mpi.get()
                                     : comms.empty() ? nullptr
                                                     : comms[0].get();
  if (reporter && ranks > 1 && total > first) {
    // What rank 0 contributed, per step: compare accel-comm-report.
    int64_t ran = total - first;
    outs() << "collectives: "
           << (reporter->completed() - checkpointCollectives) / ran
           << " per step, "
           << (reporter->payloadBytes() - checkpointBytes) / ran
           << " B of whole tensors per step (rank 0, "
           << ranks << " ranks, " << collectives << ")\n";
  }

  if (profile)
    printProfile(exec, total - first);
  // fsdp: every rank takes part in assembling the parameters (MPI's other
  // ranks no longer name the file, so ask whether any rank does).
  if (shardedParams && savesParams)
    if (Error e = assembleShards())
      return fail(toString(std::move(e)));
  if (!saveParams.empty()) {
    std::vector<accel::io::TensorRef> tensors;
    for (auto [i, b] : llvm::enumerate(exec.program().buffers)) {
      if (b.role != BufferDesc::Role::Param && b.role != BufferDesc::Role::Buffer)
        continue;
      tensors.push_back(stateTensor(i));
    }
    if (Error e = accel::io::writeSafetensors(saveParams, tensors))
      return fail(toString(std::move(e)));
  }
  return 0;
}
