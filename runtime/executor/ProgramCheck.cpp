//===- ProgramCheck.cpp - a program's structure checked before it runs ----===//

#include "runtime/executor/ProgramCheck.h"

#include "runtime/collectives/Communicator.h"
#include "runtime/executor/FusedKernel.h"
#include "runtime/executor/InstructionCheck.h"

#include "llvm/Support/MathExtras.h"

namespace accel::rt {

namespace {

llvm::Error fault(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                 "invalid program: " + message);
}

std::string describe(const Program &program, int index) {
  const BufferDesc &b = program.buffers[index];
  return "buffer #" + std::to_string(index) +
         (b.name.empty() ? "" : " ('" + b.name + "')");
}

/// The buffer's byte size, or nullopt when a dimension is negative or the
/// product overflows.
std::optional<uint64_t> checkedBytes(const BufferDesc &b) {
  uint64_t n = elementBytes(b.type);
  for (int64_t d : b.shape) {
    if (d < 0)
      return std::nullopt;
    bool overflow = false;
    n = llvm::SaturatingMultiply(n, static_cast<uint64_t>(d), &overflow);
    if (overflow || n > static_cast<uint64_t>(INT64_MAX))
      return std::nullopt;
  }
  return n;
}

llvm::Error checkIndices(const Program &program, const std::vector<int> &ids,
                         const llvm::Twine &where) {
  for (int id : ids)
    if (id < 0 || static_cast<size_t>(id) >= program.buffers.size())
      return fault(where + " names buffer #" + llvm::Twine(id) + " of " +
                   llvm::Twine(program.buffers.size()));
  return llvm::Error::success();
}

llvm::Error checkBuffers(const Program &program) {
  std::vector<uint64_t> bytes(program.buffers.size());
  for (size_t i = 0; i < program.buffers.size(); ++i) {
    const BufferDesc &b = program.buffers[i];
    std::optional<uint64_t> size = checkedBytes(b);
    if (!size)
      return fault(describe(program, i) +
                   " has a negative dimension or more bytes than fit in 63 bits");
    bytes[i] = *size;
    switch (b.role) {
    case BufferDesc::Role::Arena:
      if (b.offset > program.arenaBytes || *size > program.arenaBytes - b.offset)
        return fault(describe(program, i) + " (" + llvm::Twine(*size) +
                     " bytes at offset " + llvm::Twine(b.offset) +
                     ") lies outside the " + llvm::Twine(program.arenaBytes) +
                     "-byte arena");
      if (b.offset % elementBytes(b.type))
        return fault(describe(program, i) + " at offset " +
                     llvm::Twine(b.offset) + " is not aligned to its " +
                     llvm::Twine(elementBytes(b.type)) + "-byte elements");
      break;
    case BufferDesc::Role::View:
      if (b.viewOf < 0 || static_cast<size_t>(b.viewOf) >= i ||
          program.buffers[b.viewOf].role == BufferDesc::Role::View)
        return fault(describe(program, i) +
                     " is a view of no earlier buffer that is not a view");
      if (bytes[b.viewOf] < *size)
        return fault(describe(program, i) + " views " + llvm::Twine(*size) +
                     " bytes of a " + llvm::Twine(bytes[b.viewOf]) +
                     "-byte buffer");
      break;
    case BufferDesc::Role::Constant:
      if (b.constant.size() != *size)
        return fault(describe(program, i) + " is a constant of " +
                     llvm::Twine(b.constant.size()) + " bytes for " +
                     llvm::Twine(*size) + " bytes of shape");
      break;
    default:
      break;
    }
    if (!b.shardOf.empty()) {
      BufferDesc whole = b;
      whole.shape = b.shardOf;
      std::optional<uint64_t> wholeBytes = checkedBytes(whole);
      if ((!(b.role == BufferDesc::Role::OptState ||
             b.role == BufferDesc::Role::Param) ||
           !wholeBytes ||
           b.shape.size() != 1 ||
           b.shape[0] != shardCount(whole.numElements(), program.ranks)))
        return fault(describe(program, i) +
                     " is not a 1-D shard (of a parameter or optimizer "
                     "state) of its whole tensor over the program's ranks");
    }
  }
  return llvm::Error::success();
}

llvm::Error checkFusedBody(const FusedBody &body, size_t operands,
                           size_t results, size_t index) {
  std::string where = "fused body #" + std::to_string(index);
  if (operands + body.steps.size() > static_cast<size_t>(kFusedMaxRegisters))
    return fault(where + " needs more than " + llvm::Twine(kFusedMaxRegisters) +
                 " registers");
  for (size_t s = 0; s < body.steps.size(); ++s) {
    const FusedStep &step = body.steps[s];
    int arity = fusedStepArity(step.kernel);
    int defined = static_cast<int>(operands + s);
    bool lhsOk = step.lhs >= 0 && step.lhs < defined;
    bool rhsOk = arity == 1 || (step.rhs >= 0 && step.rhs < defined);
    if (arity == 0 || !lhsOk || !rhsOk)
      return fault(where + ", step " + llvm::Twine(s) + " (" +
                   kernelName(step.kernel) +
                   ") is not an elementwise kernel of earlier registers");
  }
  if (body.results.size() != results)
    return fault(where + " has " + llvm::Twine(body.results.size()) +
                 " results for an instruction with " + llvm::Twine(results));
  for (int r : body.results)
    if (r < 0 || static_cast<size_t>(r) >= operands + body.steps.size())
      return fault(where + " returns register " + llvm::Twine(r) +
                   ", which it does not define");
  return llvm::Error::success();
}

/// Collectives combine and move f32, bf16 and f16 values, each result in
/// its operand's type, except that an all-gather may round f32 shards to
/// a 16-bit whole (mixed precision's compute type).
llvm::Error checkCollectiveTypes(const Program &program, const Instruction &in,
                                 const std::string &where) {
  auto communicable = [](ElementType t) {
    return t == ElementType::F32 || t == ElementType::BF16 ||
           t == ElementType::F16;
  };
  for (size_t i = 0; i < std::min(in.operands.size(), in.results.size()); ++i) {
    ElementType from = program.buffers[in.operands[i]].type;
    ElementType to = program.buffers[in.results[i]].type;
    if (!communicable(from) || !communicable(to))
      return fault(where + ": tensor " + llvm::Twine(i) +
                   " is not f32, bf16 or f16");
    if (from != to &&
        !(in.kernel == Kernel::AllGather && from == ElementType::F32))
      return fault(where + ": tensor " + llvm::Twine(i) +
                   " changes type (only an all-gather may round f32 shards "
                   "to a 16-bit type)");
  }
  return llvm::Error::success();
}

} // namespace

llvm::Error checkProgram(const Program &program) {
  // Shards are sized by the rank count: check it first.
  if (program.ranks < 1)
    return fault("ranks must be at least 1, not " + llvm::Twine(program.ranks));
  if (llvm::Error e = checkBuffers(program))
    return e;
  std::vector<char> awaited(program.code.size(), 0);
  for (size_t pc = 0; pc < program.code.size(); ++pc) {
    const Instruction &in = program.code[pc];
    std::string where = "instruction #" + std::to_string(pc) + " (" +
                        kernelName(in.kernel) + ")";
    if (llvm::Error e = checkIndices(program, in.operands, where))
      return e;
    if (llvm::Error e = checkIndices(program, in.results, where))
      return e;
    if (isCollective(in.kernel) || in.kernel == Kernel::Wait)
      if (llvm::Error e = checkCollectiveTypes(program, in, where))
        return e;
    if (in.kernel == Kernel::AllReduce) {
      if (in.operands.empty() || in.operands.size() != in.results.size() ||
          in.ints.size() != 2)
        return fault(where + " needs one result per operand and its "
                             "reduction and bucket");
      for (size_t i = 0; i < in.operands.size(); ++i)
        if (program.buffers[in.operands[i]].numElements() !=
            program.buffers[in.results[i]].numElements())
          return fault(where + ": operand " + llvm::Twine(i) +
                       " and its result differ in size");
      continue;
    }
    if (in.kernel == Kernel::ReduceScatter || in.kernel == Kernel::AllGather ||
        in.kernel == Kernel::LocalShard) {
      bool gather = in.kernel == Kernel::AllGather;
      size_t ints = in.kernel == Kernel::ReduceScatter ? 2 : 1;
      if (in.operands.empty() || in.operands.size() != in.results.size() ||
          in.ints.size() != ints ||
          (in.kernel == Kernel::LocalShard &&
           (in.operands.size() != 1 || in.ints[0] != program.ranks)))
        return fault(where + " needs one result per operand and its " +
                     (in.kernel == Kernel::LocalShard
                          ? "rank count (the program's)"
                          : "reduction and bucket"));
      for (size_t i = 0; i < in.operands.size(); ++i) {
        const BufferDesc &whole =
            program.buffers[gather ? in.results[i] : in.operands[i]];
        const BufferDesc &shard =
            program.buffers[gather ? in.operands[i] : in.results[i]];
        if (shard.numElements() !=
            shardCount(whole.numElements(), program.ranks))
          return fault(where + ": tensor " + llvm::Twine(i) + " has " +
                       llvm::Twine(whole.numElements()) +
                       " elements, so its shard over " +
                       llvm::Twine(program.ranks) + " ranks has " +
                       llvm::Twine(shardCount(whole.numElements(),
                                              program.ranks)) +
                       ", not " + llvm::Twine(shard.numElements()));
      }
      continue;
    }
    if (in.kernel == Kernel::Wait) {
      // The collective started earlier, which the communication thread
      // runs meanwhile, awaited once.
      if (in.ints.size() != 1 || in.ints[0] < 0 ||
          static_cast<size_t>(in.ints[0]) >= pc)
        return fault(where + " needs the instruction of an earlier collective");
      const Instruction &started = program.code[in.ints[0]];
      if (!isCollective(started.kernel))
        return fault(where + " waits for instruction #" +
                     llvm::Twine(in.ints[0]) + ", which is not a collective");
      if (in.operands != started.results || in.results != started.results)
        return fault(where + " must read and yield exactly instruction #" +
                     llvm::Twine(in.ints[0]) + "'s results");
      if (awaited[in.ints[0]]++)
        return fault(where + ": instruction #" + llvm::Twine(in.ints[0]) +
                     " is waited for twice");
      continue;
    }
    if (in.kernel == Kernel::Dropout &&
        (in.ints.size() != 3 || in.ints[2] < 0 || in.ints[2] > 2))
      return fault(where + " needs its stream, rank stride and mode");
    if (llvm::Error e = checkInstruction(program, in, where))
      return e;
    if (in.kernel != Kernel::Fused)
      continue;
    if (in.ints.empty() || in.ints[0] < 0 ||
        static_cast<size_t>(in.ints[0]) >= program.fusedBodies.size())
      return fault(where + " names no fused body");
    if (llvm::Error e =
            checkFusedBody(program.fusedBodies[in.ints[0]], in.operands.size(),
                           in.results.size(), in.ints[0]))
      return e;
  }
  if (program.results.empty())
    return fault("the program has no results (the first is the loss)");
  for (size_t r = 0; r < program.results.size(); ++r)
    if (llvm::Error e = checkIndices(program, {program.results[r].buffer},
                                     "result #" + llvm::Twine(r)))
      return e;
  if (program.microBatches < 1)
    return fault("micro-batches must be at least 1, not " +
                 llvm::Twine(program.microBatches));
  return llvm::Error::success();
}

} // namespace accel::rt
