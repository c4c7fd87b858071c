//===- ProgramFile.cpp - the lowered step as a file -----------------------===//

#include "runtime/io/ProgramFile.h"

#include "runtime/executor/ProgramCheck.h"
#include "runtime/io/ProgramFile_generated.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <map>

namespace accel::rt {
namespace {

namespace fb = flatbuffers;

// The schema's enums are Program.h's, value for value.
static_assert(file::ElementType_F32 == int(ElementType::F32) &&
              file::ElementType_I64 == int(ElementType::I64) &&
              file::ElementType_I1 == int(ElementType::I1) &&
              file::ElementType_BF16 == int(ElementType::BF16) &&
              file::ElementType_F16 == int(ElementType::F16) &&
              file::ElementType_F8E4M3FN == int(ElementType::F8E4M3FN) &&
              file::ElementType_F8E5M2 == int(ElementType::F8E5M2) &&
              file::ElementType_F8E8M0FNU == int(ElementType::F8E8M0FNU));
using Role = BufferDesc::Role;
static_assert(file::Role_Param == int(Role::Param) &&
              file::Role_Buffer == int(Role::Buffer) &&
              file::Role_OptState == int(Role::OptState) &&
              file::Role_Fp8State == int(Role::Fp8State) &&
              file::Role_Input == int(Role::Input) &&
              file::Role_Seed == int(Role::Seed) &&
              file::Role_Step == int(Role::Step) &&
              file::Role_Lr == int(Role::Lr) &&
              file::Role_LossScale == int(Role::LossScale) &&
              file::Role_Constant == int(Role::Constant) &&
              file::Role_Arena == int(Role::Arena) &&
              file::Role_View == int(Role::View));
using Kind = ProgramResult::Kind;
static_assert(file::ResultKind_Value == int(Kind::Value) &&
              file::ResultKind_State == int(Kind::State) &&
              file::ResultKind_Grad == int(Kind::Grad) &&
              file::ResultKind_Metric == int(Kind::Metric));

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

uint32_t crc32Of(const uint8_t *data, size_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  // zlib takes lengths as uInt: feed large bodies in pieces.
  while (size > 0) {
    uInt piece = static_cast<uInt>(
        std::min<size_t>(size, std::numeric_limits<uInt>::max()));
    crc = crc32(crc, data, piece);
    data += piece;
    size -= piece;
  }
  return static_cast<uint32_t>(crc);
}

//===----------------------------------------------------------------------===//
// Writing
//===----------------------------------------------------------------------===//

class Writer {
public:
  explicit Writer(fb::FlatBufferBuilder &b) : b(b) {}

  fb::Offset<file::Program> program(const Program &p) {
    std::vector<fb::Offset<file::BufferDesc>> buffers;
    for (const BufferDesc &d : p.buffers) {
      auto shape = b.CreateVector(d.shape);
      auto constant = d.constant.empty() ? 0 : b.CreateVector(d.constant);
      auto shardOf = d.shardOf.empty() ? 0 : b.CreateVector(d.shardOf);
      buffers.push_back(file::CreateBufferDesc(
          b, file::Role(d.role), b.CreateString(d.name),
          file::ElementType(d.type), shape, d.offset, constant, d.viewOf,
          d.init, shardOf));
    }
    std::vector<fb::Offset<file::Instruction>> code;
    for (const Instruction &in : p.code)
      code.push_back(file::CreateInstruction(
          b, kernel(in.kernel), b.CreateVector(in.operands),
          b.CreateVector(in.results), b.CreateVector(in.ints),
          b.CreateVector(in.floats)));
    std::vector<fb::Offset<file::ProgramResult>> results;
    for (const ProgramResult &r : p.results)
      results.push_back(file::CreateProgramResult(
          b, r.buffer, file::ResultKind(r.kind), file::Role(r.role),
          b.CreateString(r.name)));
    std::vector<fb::Offset<file::IndexBound>> bounds;
    for (const IndexBound &ib : p.indexBounds)
      bounds.push_back(file::CreateIndexBound(
          b, b.CreateString(ib.input), ib.limit, ib.exempt.has_value(),
          ib.exempt.value_or(0), b.CreateString(ib.use)));
    std::vector<fb::Offset<file::FusedBody>> bodies;
    for (const FusedBody &body : p.fusedBodies) {
      std::vector<fb::Offset<file::FusedStep>> steps;
      for (const FusedStep &s : body.steps)
        steps.push_back(file::CreateFusedStep(b, kernel(s.kernel), s.lhs,
                                              s.rhs, file::ElementType(s.round)));
      bodies.push_back(file::CreateFusedBody(b, b.CreateVector(steps),
                                             b.CreateVector(body.results)));
    }
    return file::CreateProgram(
        b, b.CreateVector(buffers), b.CreateVector(code),
        b.CreateVector(results), p.arenaBytes, p.microBatches, p.ranks,
        b.CreateString(p.strategy), p.defaultLr, p.initialLossScale,
        b.CreateVector(bounds), b.CreateVector(bodies));
  }

  /// The kernel's index in the file's table, which lists the kernels used.
  uint16_t kernel(Kernel k) {
    auto [it, inserted] =
        indices.try_emplace(k, static_cast<uint16_t>(names.size()));
    if (inserted)
      names.push_back(kernelName(k));
    return it->second;
  }

  fb::Offset<fb::Vector<fb::Offset<fb::String>>> kernelTable() {
    return b.CreateVectorOfStrings(names);
  }

private:
  fb::FlatBufferBuilder &b;
  std::map<Kernel, uint16_t> indices;
  std::vector<std::string> names;
};

//===----------------------------------------------------------------------===//
// Reading
//===----------------------------------------------------------------------===//

/// Builds runtime programs from a verified body, checking what the verifier
/// cannot: enum values, kernel names, and (checkProgram) the buffer table.
class Reader {
public:
  llvm::Error kernels(const fb::Vector<fb::Offset<fb::String>> *table) {
    llvm::StringMap<Kernel> known;
    for (int k = 0; k < kKernelCount; ++k)
      known[kernelName(static_cast<Kernel>(k))] = static_cast<Kernel>(k);
    if (!table)
      return llvm::Error::success();
    for (const fb::String *name : *table) {
      auto it = known.find(llvm::StringRef(name->c_str(), name->size()));
      if (it == known.end())
        return error("uses the kernel '" + name->str() +
                     "', which this runtime does not have");
      byIndex.push_back(it->second);
    }
    return llvm::Error::success();
  }

  llvm::Expected<Program> program(const file::Program *p,
                                  const llvm::Twine &what) {
    if (!p)
      return error("has no " + what);
    Program out;
    if (p->buffers())
      for (const file::BufferDesc *d : *p->buffers()) {
        BufferDesc desc;
        if (d->role() > file::Role_MAX || d->type() > file::ElementType_MAX)
          return error("has a buffer of an unknown role or element type in "
                       "its " + what);
        desc.role = Role(d->role());
        desc.name = string(d->name());
        desc.type = ElementType(d->type());
        desc.shape = vector(d->shape());
        desc.offset = d->offset();
        desc.constant = vector(d->constant());
        desc.viewOf = d->view_of();
        desc.init = d->init();
        desc.shardOf = vector(d->shard_of());
        out.buffers.push_back(std::move(desc));
      }
    if (p->code())
      for (const file::Instruction *in : *p->code()) {
        Instruction inst;
        llvm::Expected<Kernel> k = kernel(in->kernel(), what);
        if (!k)
          return k.takeError();
        inst.kernel = *k;
        inst.operands = vector(in->operands());
        inst.results = vector(in->results());
        inst.ints = vector(in->ints());
        inst.floats = vector(in->floats());
        out.code.push_back(std::move(inst));
      }
    if (p->results())
      for (const file::ProgramResult *r : *p->results()) {
        if (r->kind() > file::ResultKind_MAX || r->role() > file::Role_MAX)
          return error("has a result of an unknown kind or role in its " +
                       what);
        ProgramResult result;
        result.buffer = r->buffer();
        result.kind = Kind(r->kind());
        result.role = Role(r->role());
        result.name = string(r->name());
        out.results.push_back(std::move(result));
      }
    out.arenaBytes = p->arena_bytes();
    out.microBatches = p->micro_batches();
    out.ranks = p->ranks();
    out.strategy = string(p->strategy());
    out.defaultLr = p->default_lr();
    out.initialLossScale = p->initial_loss_scale();
    if (p->index_bounds())
      for (const file::IndexBound *ib : *p->index_bounds()) {
        IndexBound bound;
        bound.input = string(ib->input());
        bound.limit = ib->limit();
        if (ib->has_exempt())
          bound.exempt = ib->exempt();
        bound.use = string(ib->use());
        out.indexBounds.push_back(std::move(bound));
      }
    if (p->fused_bodies())
      for (const file::FusedBody *body : *p->fused_bodies()) {
        FusedBody fused;
        if (body->steps())
          for (const file::FusedStep *s : *body->steps()) {
            llvm::Expected<Kernel> k = kernel(s->kernel(), what);
            if (!k)
              return k.takeError();
            if (s->round() > file::ElementType_MAX)
              return error("has a fused step of an unknown element type in "
                           "its " + what);
            fused.steps.push_back(
                {*k, s->lhs(), s->rhs(), ElementType(s->round())});
          }
        fused.results = vector(body->results());
        out.fusedBodies.push_back(std::move(fused));
      }
    if (llvm::Error e = checkProgram(out))
      return error("holds a broken " + what + ": " +
                   llvm::toString(std::move(e)));
    return out;
  }

private:
  llvm::Expected<Kernel> kernel(uint16_t index, const llvm::Twine &what) {
    if (index >= byIndex.size())
      return error("names kernel #" + llvm::Twine(index) + " in its " + what +
                   ", past its table of " + llvm::Twine(byIndex.size()));
    return byIndex[index];
  }

  static std::string string(const fb::String *s) {
    return s ? s->str() : std::string();
  }
  /// The verifier checks a vector's length field but not that 8-byte
  /// elements are 8-byte aligned: copy bytes, do not load elements.
  template <typename T>
  static std::vector<T> vector(const fb::Vector<T> *v) {
    static_assert(FLATBUFFERS_LITTLEENDIAN, "files are little-endian");
    std::vector<T> out(v ? v->size() : 0);
    if (!out.empty())
      std::memcpy(out.data(), v->Data(), out.size() * sizeof(T));
    return out;
  }

  std::vector<Kernel> byIndex;
};

llvm::Expected<StepPrograms> parseBody(const file::Programs *body) {
  Reader reader;
  if (llvm::Error e = reader.kernels(body->kernels()))
    return std::move(e);
  StepPrograms out;
  llvm::Expected<Program> train =
      reader.program(body->train_step(), "training step");
  if (!train)
    return train.takeError();
  out.trainStep = std::move(*train);
  if (const file::Classifier *c = body->classifier()) {
    llvm::Expected<Program> forward =
        reader.program(c->program(), "evaluation forward");
    if (!forward)
      return forward.takeError();
    out.classifier = EvalProgram{std::move(*forward),
                                 c->labels_input() ? c->labels_input()->str()
                                                   : std::string(),
                                 c->ignore_index()};
  } else if (body->classifier_error()) {
    out.classifierError = body->classifier_error()->str();
  }
  if (body->forward_grad()) {
    llvm::Expected<Program> grad =
        reader.program(body->forward_grad(), "gradient function");
    if (!grad)
      return grad.takeError();
    out.forwardGrad = std::move(*grad);
  } else if (body->forward_grad_error()) {
    out.forwardGradError = body->forward_grad_error()->str();
  }
  return out;
}

} // namespace

bool isProgramFile(llvm::StringRef bytes) {
  return bytes.size() >= 8 &&
         fb::BufferHasIdentifier(bytes.data(), file::StepFileIdentifier());
}

llvm::Expected<std::vector<uint8_t>>
serializeProgramFile(const StepPrograms &programs, uint64_t limit) {
  // A generous bound on the file's size: the constants' bytes, and a
  // kilobyte for every other piece (a buffer, an instruction, a step).
  uint64_t bound = 0;
  auto measure = [&](const Program &p) {
    for (const BufferDesc &b : p.buffers)
      bound += b.constant.size() + 8 * (b.shape.size() + b.shardOf.size()) +
               b.name.size() + 1024;
    for (const Instruction &in : p.code)
      bound += 8 * (in.ints.size() + in.floats.size()) +
               4 * (in.operands.size() + in.results.size()) + 1024;
    for (const FusedBody &f : p.fusedBodies)
      bound += 1024 * (f.steps.size() + 1);
    bound += 1024 * (p.results.size() + p.indexBounds.size() + 1);
  };
  measure(programs.trainStep);
  if (programs.classifier)
    measure(programs.classifier->program);
  if (programs.forwardGrad)
    measure(*programs.forwardGrad);
  static_assert(kProgramFileLimit < FLATBUFFERS_MAX_BUFFER_SIZE);
  if (bound >= std::min(limit, kProgramFileLimit))
    return error("the program is too large for a program file (up to " +
                 llvm::Twine(bound) + " bytes; the format takes " +
                 llvm::Twine(std::min(limit, kProgramFileLimit)) + ")");

  fb::FlatBufferBuilder body;
  Writer writer(body);
  auto train = writer.program(programs.trainStep);
  fb::Offset<file::Classifier> classifier = 0;
  if (programs.classifier)
    classifier = file::CreateClassifier(
        body, writer.program(programs.classifier->program),
        body.CreateString(programs.classifier->labelsInput),
        programs.classifier->ignoreIndex);
  fb::Offset<file::Program> grad = 0;
  if (programs.forwardGrad)
    grad = writer.program(*programs.forwardGrad);
  auto errorOf = [&](const std::string &message) {
    return message.empty() ? 0 : body.CreateString(message);
  };
  body.Finish(file::CreatePrograms(
      body, body.CreateString("accel"), writer.kernelTable(), train,
      classifier, errorOf(programs.classifierError), grad,
      errorOf(programs.forwardGradError)));

  fb::FlatBufferBuilder outer;
  // The body holds 8-byte scalars: keep them aligned inside the file.
  outer.ForceVectorAlignment(body.GetSize(), 1, 8);
  auto bytes = outer.CreateVector(body.GetBufferPointer(), body.GetSize());
  file::FinishStepFileBuffer(
      outer, file::CreateStepFile(outer, kProgramFormatVersion,
                                  crc32Of(body.GetBufferPointer(),
                                          body.GetSize()),
                                  bytes));
  return std::vector<uint8_t>(outer.GetBufferPointer(),
                              outer.GetBufferPointer() + outer.GetSize());
}

llvm::Expected<StepPrograms> parseProgramFile(llvm::StringRef bytes,
                                              llvm::StringRef name) {
  auto fail = [&](const llvm::Twine &message) {
    return error("'" + name + "' " + message);
  };
  if (!isProgramFile(bytes))
    return fail("is not an accel program file (it lacks the identifier "
                "'ACPG' at byte 4)");
  // FlatBuffers addresses its buffers with 32-bit offsets.
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE)
    return fail("is larger than a program file can be (2 GiB)");
  // The header's fields are 4-byte: read it from a copy when the caller's
  // bytes are not 4-byte aligned.
  auto *data = reinterpret_cast<const uint8_t *>(bytes.data());
  std::vector<uint32_t> copy;
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint32_t) != 0) {
    copy.resize((bytes.size() + 3) / 4);
    std::memcpy(copy.data(), data, bytes.size());
    data = reinterpret_cast<const uint8_t *>(copy.data());
  }
  // The body is verified below, after its checksum, with its own limits.
  fb::Verifier::Options header;
  header.max_depth = 4;
  header.max_tables = 4;
  header.check_nested_flatbuffers = false;
  fb::Verifier outer(data, bytes.size(), header);
  if (!file::VerifyStepFileBuffer(outer))
    return fail("is damaged: its header is inconsistent (truncated?)");
  const file::StepFile *f = file::GetStepFile(data);
  if (f->format_version() != kProgramFormatVersion)
    return fail("is a program file of format version " +
                llvm::Twine(f->format_version()) +
                "; this accel reads version " +
                llvm::Twine(kProgramFormatVersion) +
                ": lower the step again (accel-opt ... --accel-lower)");
  const fb::Vector<uint8_t> *body = f->body();
  // The smallest body is a root offset and a file identifier's room.
  if (!body || body->size() < 8)
    return fail("is damaged: it has no body");
  uint32_t crc = crc32Of(body->data(), body->size());
  if (crc != f->crc32())
    return fail("is damaged: its body's CRC-32 is " + llvm::utohexstr(crc) +
                ", the file records " + llvm::utohexstr(f->crc32()));
  // The verifier checks alignment relative to the body's start; the reads
  // need it in memory: a body off an 8-byte boundary is read from a copy.
  const uint8_t *bodyBytes = body->data();
  std::vector<uint64_t> aligned;
  if (reinterpret_cast<uintptr_t>(bodyBytes) % alignof(uint64_t) != 0) {
    aligned.resize((body->size() + 7) / 8);
    std::memcpy(aligned.data(), bodyBytes, body->size());
    bodyBytes = reinterpret_cast<const uint8_t *>(aligned.data());
  }
  // Depth: tables nest five deep (programs, classifier, program, fused
  // body, step); tables: one per buffer, instruction, result and step,
  // which the body's size bounds.
  fb::Verifier::Options limits;
  limits.max_depth = 16;
  limits.max_tables = std::numeric_limits<fb::uoffset_t>::max();
  fb::Verifier inner(bodyBytes, body->size(), limits);
  if (!inner.VerifyBuffer<file::Programs>(nullptr))
    return fail("is damaged: its body's tables are inconsistent");
  llvm::Expected<StepPrograms> programs =
      parseBody(fb::GetRoot<file::Programs>(bodyBytes));
  if (!programs)
    return fail(llvm::toString(programs.takeError()));
  return programs;
}

llvm::Error writeProgramFile(const StepPrograms &programs,
                             llvm::StringRef path) {
  llvm::Expected<std::vector<uint8_t>> serialized =
      serializeProgramFile(programs);
  if (!serialized)
    return error("cannot write '" + path +
                 "': " + llvm::toString(serialized.takeError()));
  const std::vector<uint8_t> &bytes = *serialized;
  llvm::SmallString<128> model(path);
  model += ".tmp-%%%%%%";
  int fd;
  llvm::SmallString<128> temp;
  if (std::error_code ec =
          llvm::sys::fs::createUniqueFile(model, fd, temp))
    return error("cannot write '" + path + "': " + ec.message());
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    os.flush();
    if (os.has_error()) {
      std::string message = os.error().message();
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return error("cannot write '" + path + "': " + message);
    }
  }
  if (std::error_code ec = llvm::sys::fs::rename(temp, path)) {
    llvm::sys::fs::remove(temp);
    return error("cannot write '" + path + "': " + ec.message());
  }
  return llvm::Error::success();
}

llvm::Expected<StepPrograms> readProgramFile(llvm::StringRef path) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                  /*RequiresNullTerminator=*/false);
  if (!file)
    return error("cannot read '" + path + "': " + file.getError().message());
  return parseProgramFile((*file)->getBuffer(), path);
}

} // namespace accel::rt
