//===- DnnlConv.cpp - convolutions through oneDNN's direct kernels --------===//

#include "runtime/cpu/DnnlConv.h"
#include "runtime/cpu/OneOmpThread.h"

#include <oneapi/dnnl/dnnl.hpp>

#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace accel::rt::cpu {

namespace {
using dnnl::memory;
using tag = memory::format_tag;

/// At most this many pieces per call, whatever the thread count: enough
/// for the pool to share, few enough that each primitive call has work —
/// at least kMinSamples samples where the batch allows.
constexpr int64_t kMaxPieces = 8;
constexpr int64_t kMinSamples = 8;
/// Output channels of a weight-gradient piece come in multiples of this
/// (oneDNN's channel block on AVX-512).
constexpr int64_t kChannelBlock = 16;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

constexpr size_t kAlign = 64;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

memory::desc plain(const memory::dims &dims, tag t) {
  return memory::desc(dims, memory::data_type::f32, t);
}
memory::desc any(const memory::dims &dims) {
  return memory::desc(dims, memory::data_type::f32, tag::any);
}

dnnl::primitive_attr userScratchpad() {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return attr;
}

/// A reorder between two layouts of one tensor; empty where they agree.
struct Reorder {
  dnnl::primitive prim;
  size_t scratchpad = 0;
  explicit operator bool() const { return static_cast<bool>(prim); }
};

Reorder makeReorder(const memory::desc &from, const memory::desc &to) {
  if (from == to)
    return {};
  dnnl::reorder::primitive_desc pd(cpuEngine(), from, cpuEngine(), to,
                                   userScratchpad());
  return {dnnl::reorder(pd), pd.scratchpad_desc().get_size()};
}

/// The block size of dimension `dim` in a oneDNN layout (1: not blocked).
int64_t blockOf(const memory::desc &d, int dim) {
  const dnnl_blocking_desc_t &b = d.data.format_desc.blocking;
  int64_t block = 1;
  for (int i = 0; i < b.inner_nblks; ++i)
    if (b.inner_idxs[i] == dim)
      block *= b.inner_blks[i];
  return block;
}

/// `total` (a multiple of `block`) split as evenly as whole blocks allow
/// into min(pieces, total / block) pieces: their sizes, the larger first,
/// so that there are at most two sizes.
std::vector<int64_t> split(int64_t total, int64_t pieces, int64_t block) {
  int64_t blocks = total / block;
  pieces = std::clamp<int64_t>(pieces, 1, std::max<int64_t>(blocks, 1));
  int64_t base = blocks / pieces, extra = blocks % pieces;
  std::vector<int64_t> sizes;
  for (int64_t i = 0; i < pieces; ++i)
    sizes.push_back((base + (i < extra ? 1 : 0)) * block);
  return sizes;
}

/// Whether a layout pads some dimension up to its block.
bool padded(const memory::desc &d) {
  for (int i = 0; i < d.data.ndims; ++i)
    if (d.data.dims[i] != d.data.padded_dims[i])
      return true;
  return false;
}
} // namespace

/// The primitives for one piece size. Operands A and B and the result are,
/// by kernel: Forward (src, weights) -> dst; GradInput (diff_dst, weights)
/// -> diff_src; GradWeight (diff_dst, src) -> diff_weights. A and the
/// result are the piece's; B is whole, shared by the pieces.
struct Prims {
  dnnl::primitive conv;
  std::string implementation;
  memory::desc userA, userB, userOut; // accel's layouts
  memory::desc convA, convB, convOut; // the primitive's
  Reorder toA, fromOut;
  size_t scratchpad = 0; // the most any call on a piece needs
  size_t atB = 0;        // where B in the primitive's layout is
  memory userBMem, convBMem;
};

/// A piece of the work: samples [first, first + count) of the batch
/// (Forward, GradInput) or output channels (GradWeight).
struct Piece {
  int64_t first = 0, count = 0;
  size_t prims = 0;
  dnnl::stream stream;
  size_t atA = 0, atOut = 0, atScratch = 0;
  memory userA, convA, userOut, convOut, scratch, bias;
};

/// B in the primitive's layout, copied by ranges of its first dimension
/// (output channels or groups of the weights; samples of the input), so
/// that the threads share the copying. Exact: any split gives the same
/// bits.
struct SharedRange {
  size_t prims = 0;
  memory::desc from, to;
  Reorder reorder;
  dnnl::stream stream;
  size_t atScratch = 0;
  memory user, conv, scratch;
};

struct DnnlConv::Impl {
  ConvKernel kernel;
  Conv2dGeometry g;
  bool hasBias = false;
  std::vector<std::unique_ptr<Prims>> prims; // per piece size
  std::vector<Piece> pieces;
  std::vector<SharedRange> ranges;
  size_t workspace = 0;

  std::unique_ptr<Prims> makePrims(int64_t count) const;
  void planRanges(size_t index);
  void
  execute(const dnnl::primitive &p, dnnl::stream &s,
          std::initializer_list<std::pair<int, const memory *>> args) const;
  void runPiece(Piece &piece, const float *a, float *out);
  /// Floats between consecutive samples (or channels) of A and the result.
  int64_t strideA() const;
  int64_t strideOut() const;
};

std::unique_ptr<Prims> DnnlConv::Impl::makePrims(int64_t count) const {
  using namespace dnnl;
  bool weightPieces = kernel == ConvKernel::GradWeight;
  int64_t n = weightPieces ? g.batch : count,
          o = weightPieces ? count : g.outChannels;
  memory::dims src{n, g.channels, g.height, g.width}, dst{n, o, g.outH, g.outW};
  memory::dims weights =
      g.groups > 1 ? memory::dims{g.groups, o / g.groups, g.channels / g.groups,
                                  g.kernelH, g.kernelW}
                   : memory::dims{o, g.channels, g.kernelH, g.kernelW};
  tag weightsTag = g.groups > 1 ? tag::goihw : tag::oihw;
  // oneDNN counts a dilation's gaps; ATen's output size is oneDNN's with
  // the padding on both sides.
  memory::dims strides{g.strideH, g.strideW},
      dilates{g.dilationH - 1, g.dilationW - 1}, pad{g.padH, g.padW};
  auto attr = userScratchpad();
  memory::desc biasDesc = hasBias ? plain({o}, tag::x) : memory::desc();
  // The backward kernels take the forward's description as a hint of layouts.
  convolution_forward::primitive_desc forward(
      convolution_forward::desc(
          prop_kind::forward_training, algorithm::convolution_direct, any(src),
          any(weights), biasDesc, any(dst), strides, dilates, pad, pad),
      attr, cpuEngine());
  auto p = std::make_unique<Prims>();
  memory::desc srcPlain = plain(src, tag::nchw),
               dstPlain = plain(dst, tag::nchw),
               weightsPlain = plain(weights, weightsTag);
  switch (kernel) {
  case ConvKernel::Forward:
    p->conv = convolution_forward(forward);
    p->implementation = forward.impl_info_str();
    p->scratchpad = forward.scratchpad_desc().get_size();
    p->userA = srcPlain, p->userB = weightsPlain, p->userOut = dstPlain;
    p->convA = forward.src_desc(), p->convB = forward.weights_desc();
    p->convOut = forward.dst_desc();
    break;
  case ConvKernel::GradInput: {
    convolution_backward_data::primitive_desc pd(
        convolution_backward_data::desc(algorithm::convolution_direct, any(src),
                                        any(weights), any(dst), strides,
                                        dilates, pad, pad),
        attr, cpuEngine(), forward);
    p->conv = convolution_backward_data(pd);
    p->implementation = pd.impl_info_str();
    p->scratchpad = pd.scratchpad_desc().get_size();
    p->userA = dstPlain, p->userB = weightsPlain, p->userOut = srcPlain;
    p->convA = pd.diff_dst_desc(), p->convB = pd.weights_desc();
    p->convOut = pd.diff_src_desc();
    break;
  }
  case ConvKernel::GradWeight: {
    convolution_backward_weights::primitive_desc pd(
        convolution_backward_weights::desc(algorithm::convolution_direct,
                                           any(src), any(weights), any(dst),
                                           strides, dilates, pad, pad),
        attr, cpuEngine(), forward);
    p->conv = convolution_backward_weights(pd);
    p->implementation = pd.impl_info_str();
    p->scratchpad = pd.scratchpad_desc().get_size();
    // This piece's output channels of the whole gradient [N, O, oh, ow]:
    // strided, pointed at its first channel.
    int64_t pixels = g.outH * g.outW;
    p->userA =
        memory::desc(dst, memory::data_type::f32,
                     memory::dims{g.outChannels * pixels, pixels, g.outW, 1});
    p->userB = srcPlain, p->userOut = weightsPlain;
    p->convA = pd.diff_dst_desc(), p->convB = pd.src_desc();
    p->convOut = pd.diff_weights_desc();
    break;
  }
  }
  p->toA = makeReorder(p->userA, p->convA);
  p->fromOut = makeReorder(p->convOut, p->userOut);
  p->scratchpad =
      std::max({p->scratchpad, p->toA.scratchpad, p->fromOut.scratchpad});
  return p;
}

int64_t DnnlConv::Impl::strideA() const {
  switch (kernel) {
  case ConvKernel::Forward:
    return g.channels * g.height * g.width;
  case ConvKernel::GradInput:
    return g.outChannels * g.outH * g.outW;
  case ConvKernel::GradWeight:
    return g.outH * g.outW; // a channel of the output gradient
  }
  return 0;
}

int64_t DnnlConv::Impl::strideOut() const {
  switch (kernel) {
  case ConvKernel::Forward:
    return g.outChannels * g.outH * g.outW;
  case ConvKernel::GradInput:
    return g.channels * g.height * g.width;
  case ConvKernel::GradWeight:
    return g.channels / g.groups * g.kernelH *
           g.kernelW; // an output channel's kernels
  }
  return 0;
}

void DnnlConv::Impl::planRanges(size_t index) {
  Prims &p = *prims[index];
  memory::dims dims = p.userB.dims();
  // Whole blocks per range (a range must start and end on one). oneDNN
  // takes no range of a layout that pads some dimension: one range then.
  int64_t block = blockOf(p.convB, 0);
  std::vector<int64_t> sizes = padded(p.convB) || dims[0] % block != 0
                                   ? std::vector<int64_t>{dims[0]}
                                   : split(dims[0], kMaxPieces, block);
  int64_t first = 0;
  for (int64_t size : sizes) {
    memory::dims range = dims, offsets(dims.size(), 0);
    range[0] = size;
    offsets[0] = first;
    first += size;
    SharedRange r;
    r.prims = index;
    bool whole = sizes.size() == 1;
    r.from = whole ? p.userB : p.userB.submemory_desc(range, offsets);
    r.to = whole ? p.convB : p.convB.submemory_desc(range, offsets);
    r.reorder = makeReorder(r.from, r.to);
    ranges.push_back(std::move(r));
  }
}

std::unique_ptr<DnnlConv> DnnlConv::plan(ConvKernel kernel,
                                         const Conv2dGeometry &g, bool bias) {
  static const bool disabled = [] {
    const char *choice = std::getenv("ACCEL_CONV");
    return choice && std::strcmp(choice, "im2col") == 0;
  }();
  bool weightPieces = kernel == ConvKernel::GradWeight;
  // Pieces: samples, or output channels in whole blocks (weight gradients
  // of grouped convolutions stay with im2col: their channels are split by
  // group).
  std::vector<int64_t> sizes =
      weightPieces
          ? split(g.outChannels, kMaxPieces, kChannelBlock)
          : split(g.batch,
                  std::clamp<int64_t>(g.batch / kMinSamples, 2, kMaxPieces), 1);
  if (disabled || sizes.size() < 2 || g.samplesPerProduct > 0 ||
      g.hasDeadTaps() ||
      (weightPieces && (g.groups > 1 || g.outChannels % kChannelBlock != 0)))
    return nullptr;
  OneOmpThread one; // primitives for one thread
  auto impl = std::make_unique<Impl>();
  impl->kernel = kernel;
  impl->g = g;
  impl->hasBias = bias && kernel == ConvKernel::Forward;
  try {
    // At most two sizes: the first pieces', and a shorter last one.
    for (int64_t size : {sizes.front(), sizes.back()}) {
      if (impl->prims.size() == 1 && size == sizes.front())
        break;
      impl->prims.push_back(impl->makePrims(size));
      if (impl->prims.back()->implementation.rfind("ref", 0) == 0)
        return nullptr; // the reference loops: slower than im2col
    }
    size_t at = 0;
    auto reserve = [&](size_t bytes) {
      size_t here = at;
      at += aligned(std::max<size_t>(bytes, 1));
      return here;
    };
    for (size_t i = 0; i < impl->prims.size(); ++i) {
      Prims &p = *impl->prims[i];
      if (p.userB == p.convB)
        continue;
      // The shorter piece's primitive usually takes the shared operand in
      // the same layout as the others' (weight gradients: always the same
      // input): laid out once for both then.
      if (i > 0 && p.convB == impl->prims[0]->convB) {
        p.atB = impl->prims[0]->atB;
        continue;
      }
      p.atB = reserve(p.convB.get_size());
      impl->planRanges(i);
    }
    for (SharedRange &r : impl->ranges) {
      r.stream = dnnl::stream(cpuEngine());
      r.atScratch = reserve(r.reorder.scratchpad);
    }
    int64_t first = 0;
    for (int64_t size : sizes) {
      Piece piece;
      piece.first = first;
      piece.count = size;
      first += size;
      piece.prims = size == sizes.front() ? 0 : impl->prims.size() - 1;
      piece.stream = dnnl::stream(cpuEngine());
      Prims &p = *impl->prims[piece.prims];
      piece.atA = p.toA ? reserve(p.convA.get_size()) : 0;
      piece.atOut = p.fromOut ? reserve(p.convOut.get_size()) : 0;
      piece.atScratch = reserve(p.scratchpad);
      impl->pieces.push_back(std::move(piece));
    }
    impl->workspace = at;
  } catch (const dnnl::error &) {
    return nullptr; // no implementation for this geometry: im2col serves
  }
  return std::unique_ptr<DnnlConv>(new DnnlConv(std::move(impl)));
}

DnnlConv::DnnlConv(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
DnnlConv::~DnnlConv() = default;

size_t DnnlConv::workspaceBytes() const { return impl->workspace; }

std::string DnnlConv::implementation() const {
  return impl->prims.front()->implementation;
}

void DnnlConv::bind(uint8_t *workspace) {
  Impl &m = *impl;
  dnnl::engine &e = cpuEngine();
  auto over = [&](const memory::desc &d, size_t at) {
    return memory(d, e, workspace + at);
  };
  auto unset = [&](const memory::desc &d) {
    return memory(d, e, DNNL_MEMORY_NONE);
  };
  for (auto &p : m.prims) {
    p->userBMem = unset(p->userB);
    p->convBMem = p->userB == p->convB ? p->userBMem : over(p->convB, p->atB);
  }
  auto bytes = [](size_t n) {
    return memory::desc({static_cast<memory::dim>(std::max<size_t>(n, 1))},
                        memory::data_type::u8, tag::a);
  };
  // A range's descriptions carry its offset: its memory objects start
  // where the whole tensor does.
  for (SharedRange &r : m.ranges) {
    r.user = unset(r.from);
    r.conv = over(r.to, m.prims[r.prims]->atB);
    r.scratch = over(bytes(r.reorder.scratchpad), r.atScratch);
  }
  for (Piece &piece : m.pieces) {
    Prims &p = *m.prims[piece.prims];
    piece.userA = unset(p.userA);
    piece.convA = p.toA ? over(p.convA, piece.atA) : piece.userA;
    piece.userOut = unset(p.userOut);
    piece.convOut = p.fromOut ? over(p.convOut, piece.atOut) : piece.userOut;
    piece.scratch = over(bytes(p.scratchpad), piece.atScratch);
    if (m.hasBias)
      piece.bias = unset(plain({m.g.outChannels}, tag::x));
  }
}

void DnnlConv::Impl::execute(
    const dnnl::primitive &p, dnnl::stream &s,
    std::initializer_list<std::pair<int, const memory *>> args) const {
  // The C call with the arguments on the stack: the C++ one would build a
  // vector of them first.
  dnnl_exec_arg_t list[6];
  int n = 0;
  for (auto [arg, mem] : args)
    list[n++] = {arg, mem->get()};
  if (dnnl_primitive_execute(p.get(), s.get(), n, list) != dnnl_success)
    llvm::report_fatal_error("oneDNN failed to run a planned convolution");
}

void DnnlConv::Impl::runPiece(Piece &piece, const float *a, float *out) {
  Prims &p = *prims[piece.prims];
  piece.userA.set_data_handle(const_cast<float *>(a) + piece.first * strideA());
  piece.userOut.set_data_handle(out + piece.first * strideOut());
  if (p.toA)
    execute(p.toA.prim, piece.stream,
            {{DNNL_ARG_FROM, &piece.userA},
             {DNNL_ARG_TO, &piece.convA},
             {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
  switch (kernel) {
  case ConvKernel::Forward:
    if (hasBias)
      execute(p.conv, piece.stream,
              {{DNNL_ARG_SRC, &piece.convA},
               {DNNL_ARG_WEIGHTS, &p.convBMem},
               {DNNL_ARG_BIAS, &piece.bias},
               {DNNL_ARG_DST, &piece.convOut},
               {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
    else
      execute(p.conv, piece.stream,
              {{DNNL_ARG_SRC, &piece.convA},
               {DNNL_ARG_WEIGHTS, &p.convBMem},
               {DNNL_ARG_DST, &piece.convOut},
               {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
    break;
  case ConvKernel::GradInput:
    execute(p.conv, piece.stream,
            {{DNNL_ARG_DIFF_DST, &piece.convA},
             {DNNL_ARG_WEIGHTS, &p.convBMem},
             {DNNL_ARG_DIFF_SRC, &piece.convOut},
             {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
    break;
  case ConvKernel::GradWeight:
    execute(p.conv, piece.stream,
            {{DNNL_ARG_DIFF_DST, &piece.convA},
             {DNNL_ARG_SRC, &p.convBMem},
             {DNNL_ARG_DIFF_WEIGHTS, &piece.convOut},
             {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
    break;
  }
  if (p.fromOut)
    execute(p.fromOut.prim, piece.stream,
            {{DNNL_ARG_FROM, &piece.convOut},
             {DNNL_ARG_TO, &piece.userOut},
             {DNNL_ARG_SCRATCHPAD, &piece.scratch}});
}

void DnnlConv::run(ThreadPool &pool, const float *a, const float *b,
                   const float *bias, float *out) {
  Impl &m = *impl;
  OneOmpThread one;
  int64_t pieces = static_cast<int64_t>(m.pieces.size());
  if (m.hasBias)
    for (Piece &piece : m.pieces)
      piece.bias.set_data_handle(const_cast<float *>(bias));
  for (auto &p : m.prims)
    p->userBMem.set_data_handle(const_cast<float *>(b));
  // B in the primitives' layout, before any piece reads it.
  if (!m.ranges.empty()) {
    for (SharedRange &r : m.ranges)
      r.user.set_data_handle(const_cast<float *>(b));
    pool.parallelFor(static_cast<int64_t>(m.ranges.size()), 1,
                     [&](int64_t begin, int64_t end) {
                       OneOmpThread one;
                       for (int64_t i = begin; i < end; ++i) {
                         SharedRange &r = m.ranges[i];
                         m.execute(r.reorder.prim, r.stream,
                                   {{DNNL_ARG_FROM, &r.user},
                                    {DNNL_ARG_TO, &r.conv},
                                    {DNNL_ARG_SCRATCHPAD, &r.scratch}});
                       }
                     });
  }
  pool.parallelFor(pieces, 1, [&](int64_t begin, int64_t end) {
    OneOmpThread one;
    for (int64_t i = begin; i < end; ++i)
      m.runPiece(m.pieces[i], a, out);
  });
}

} // namespace accel::rt::cpu
