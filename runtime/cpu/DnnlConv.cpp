//===- DnnlConv.cpp - convolutions through oneDNN's direct kernels --------===//

#include "runtime/cpu/DnnlConv.h"

#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>

#include "llvm/Support/ErrorHandling.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace accel::rt::cpu {

namespace {
using dnnl::memory;
using tag = memory::format_tag;

dnnl::engine &cpuEngine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

constexpr size_t kAlign = 64;
size_t aligned(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

/// The geometry's tensors for a batch of n, as oneDNN describes them.
struct Shapes {
  memory::dims src, weights, bias, dst, strides, dilates, padL, padR;
  tag weightsTag;
};

Shapes shapes(const Conv2dGeometry &g, int64_t n) {
  Shapes s;
  s.src = {n, g.channels, g.height, g.width};
  s.dst = {n, g.outChannels, g.outH, g.outW};
  s.bias = {g.outChannels};
  if (g.groups > 1) {
    s.weights = {g.groups, g.outChannels / g.groups, g.channels / g.groups, g.kernelH,
                 g.kernelW};
    s.weightsTag = tag::goihw;
  } else {
    s.weights = {g.outChannels, g.channels, g.kernelH, g.kernelW};
    s.weightsTag = tag::oihw;
  }
  s.strides = {g.strideH, g.strideW};
  s.dilates = {g.dilationH - 1, g.dilationW - 1}; // oneDNN counts the gaps
  s.padL = {g.padH, g.padW};
  s.padR = {g.padH, g.padW}; // ATen's output size is oneDNN's with these
  return s;
}

memory::desc plain(const memory::dims &dims, tag t) {
  return memory::desc(dims, memory::data_type::f32, t);
}
memory::desc any(const memory::dims &dims) {
  return memory::desc(dims, memory::data_type::f32, tag::any);
}

/// oneDNN asks OpenMP how many threads to use: one, in the thread that
/// holds this (the pool's threads do the parallel work). A thread's first
/// call allocates libgomp's record of its setting.
class OneOmpThread {
public:
  OneOmpThread() : saved(omp_get_max_threads()) {
    if (saved != 1)
      omp_set_num_threads(1);
  }
  ~OneOmpThread() {
    if (saved != 1)
      omp_set_num_threads(saved);
  }

private:
  int saved;
};

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
  dnnl::reorder::primitive_desc pd(cpuEngine(), from, cpuEngine(), to, userScratchpad());
  return {dnnl::reorder(pd), pd.scratchpad_desc().get_size()};
}
} // namespace

/// The primitives for one batch size. Operand A, operand B and the result
/// are, by kernel: Forward (src, weights) -> dst; GradInput (diff_dst,
/// weights) -> diff_src; GradWeight (diff_dst, src) -> diff_weights.
struct Prims {
  int64_t n = 0;
  dnnl::primitive conv;
  std::string implementation;
  memory::desc userA, userB, userOut; // accel's layouts
  memory::desc convA, convB, convOut; // the primitive's
  Reorder toA, toB, fromOut;
  size_t scratchpad = 0; // the most any of them needs
};

/// One thread's slice of the batch: samples [first, first + n).
struct Slice {
  int64_t first = 0, n = 0;
  Prims *prims = nullptr;
  dnnl::stream stream;
  // Workspace offsets: the operands in the primitive's layouts (where a
  // reorder is needed), the scratchpad, a partial weight gradient.
  size_t atA = 0, atB = 0, atOut = 0, atScratch = 0, atPartial = 0;
  int primsIndex = 0;
  memory userA, userOut, convA, convOut, scratch, bias;
  memory userB, convB; // GradWeight: B (the input) is per slice too
  /// GradWeight: slices after the first write their partial sum here (in
  /// accel's layout); the first writes the result.
  float *partial = nullptr;
};

struct DnnlConv::Impl {
  ConvKernel kernel;
  Conv2dGeometry g;
  bool hasBias = false;
  std::vector<std::unique_ptr<Prims>> prims; // one per batch size
  std::vector<Slice> slices;
  // Forward and GradInput: the weights (operand B), shared by the slices,
  // once per batch size's layout.
  std::vector<size_t> atWeights;
  std::vector<memory> userWeights, convWeights;
  size_t workspace = 0;

  std::unique_ptr<Prims> makePrims(int64_t n) const;
  void execute(const dnnl::primitive &p, dnnl::stream &s,
               std::initializer_list<std::pair<int, const memory *>> args) const;
  void runSlice(Slice &s, const float *a, const float *b, float *out);
};

std::unique_ptr<Prims> DnnlConv::Impl::makePrims(int64_t n) const {
  using namespace dnnl;
  Shapes s = shapes(g, n);
  auto p = std::make_unique<Prims>();
  p->n = n;
  memory::desc src = plain(s.src, tag::nchw), dst = plain(s.dst, tag::nchw),
               weights = plain(s.weights, s.weightsTag);
  auto attr = userScratchpad();
  // Backward kernels take the forward's description as a hint of layouts.
  auto forwardDesc = [&](const memory::desc &bias) {
    return convolution_forward::desc(prop_kind::forward_training,
                                     algorithm::convolution_direct, any(s.src),
                                     any(s.weights), bias, any(s.dst), s.strides, s.dilates,
                                     s.padL, s.padR);
  };
  memory::desc biasDesc = hasBias ? plain(s.bias, tag::x) : memory::desc();
  convolution_forward::primitive_desc forward(forwardDesc(biasDesc), attr, cpuEngine());
  switch (kernel) {
  case ConvKernel::Forward:
    p->conv = convolution_forward(forward);
    p->implementation = forward.impl_info_str();
    p->scratchpad = forward.scratchpad_desc().get_size();
    p->userA = src, p->userB = weights, p->userOut = dst;
    p->convA = forward.src_desc(), p->convB = forward.weights_desc(),
    p->convOut = forward.dst_desc();
    break;
  case ConvKernel::GradInput: {
    convolution_backward_data::primitive_desc pd(
        convolution_backward_data::desc(algorithm::convolution_direct, any(s.src),
                                        any(s.weights), any(s.dst), s.strides, s.dilates,
                                        s.padL, s.padR),
        attr, cpuEngine(), forward);
    p->conv = convolution_backward_data(pd);
    p->implementation = pd.impl_info_str();
    p->scratchpad = pd.scratchpad_desc().get_size();
    p->userA = dst, p->userB = weights, p->userOut = src;
    p->convA = pd.diff_dst_desc(), p->convB = pd.weights_desc(), p->convOut = pd.diff_src_desc();
    break;
  }
  case ConvKernel::GradWeight: {
    convolution_backward_weights::primitive_desc pd(
        convolution_backward_weights::desc(algorithm::convolution_direct, any(s.src),
                                           any(s.weights), any(s.dst), s.strides, s.dilates,
                                           s.padL, s.padR),
        attr, cpuEngine(), forward);
    p->conv = convolution_backward_weights(pd);
    p->implementation = pd.impl_info_str();
    p->scratchpad = pd.scratchpad_desc().get_size();
    p->userA = dst, p->userB = src, p->userOut = weights;
    p->convA = pd.diff_dst_desc(), p->convB = pd.src_desc(),
    p->convOut = pd.diff_weights_desc();
    break;
  }
  }
  p->toA = makeReorder(p->userA, p->convA);
  p->toB = makeReorder(p->userB, p->convB);
  p->fromOut = makeReorder(p->convOut, p->userOut);
  p->scratchpad = std::max({p->scratchpad, p->toA.scratchpad, p->toB.scratchpad,
                            p->fromOut.scratchpad});
  return p;
}

std::unique_ptr<DnnlConv> DnnlConv::plan(ConvKernel kernel, const Conv2dGeometry &g, bool bias,
                                         int threads) {
  static const bool disabled = [] {
    const char *choice = std::getenv("ACCEL_CONV");
    return choice && std::strcmp(choice, "im2col") == 0;
  }();
  if (disabled || g.batch < std::max(threads, 1) || g.samplesPerProduct > 0 ||
      g.hasDeadTaps())
    return nullptr;
  // A primitive fixes its thread count when it is created, from OpenMP's
  // for the creating thread: one, as it will run.
  OneOmpThread one;
  auto impl = std::make_unique<Impl>();
  impl->kernel = kernel;
  impl->g = g;
  impl->hasBias = bias && kernel == ConvKernel::Forward;
  int parts = std::max(threads, 1);
  int64_t base = g.batch / parts, extra = g.batch % parts;
  try {
    for (int64_t n : {base + 1, base}) {
      if ((n == base + 1 && extra == 0) || n == 0)
        continue;
      impl->prims.push_back(impl->makePrims(n));
      if (impl->prims.back()->implementation.rfind("ref", 0) == 0)
        return nullptr; // the reference loops: slower than im2col
    }
    size_t at = 0;
    auto reserve = [&](size_t bytes) {
      size_t here = at;
      at += aligned(bytes);
      return here;
    };
    bool sharedWeights = kernel != ConvKernel::GradWeight;
    if (sharedWeights)
      for (auto &p : impl->prims)
        impl->atWeights.push_back(p->toB ? reserve(p->convB.get_size()) : 0);
    int64_t first = 0;
    for (int part = 0; part < parts; ++part) {
      Slice s;
      s.first = first;
      s.n = base + (part < extra ? 1 : 0);
      first += s.n;
      s.primsIndex = part < extra || extra == 0 ? 0 : 1;
      s.prims = impl->prims[s.primsIndex].get();
      s.stream = dnnl::stream(cpuEngine());
      Prims &p = *s.prims;
      s.atA = p.toA ? reserve(p.convA.get_size()) : 0;
      if (!sharedWeights)
        s.atB = p.toB ? reserve(p.convB.get_size()) : 0; // the input, laid out
      s.atOut = p.fromOut ? reserve(p.convOut.get_size()) : 0;
      s.atScratch = reserve(std::max<size_t>(p.scratchpad, 1));
      if (!sharedWeights && part > 0)
        s.atPartial = reserve(p.userOut.get_size());
      impl->slices.push_back(std::move(s));
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

std::string DnnlConv::implementation() const { return impl->prims.front()->implementation; }

void DnnlConv::bind(uint8_t *workspace) {
  Impl &m = *impl;
  dnnl::engine &e = cpuEngine();
  auto over = [&](const memory::desc &d, size_t at) { return memory(d, e, workspace + at); };
  auto unset = [&](const memory::desc &d) { return memory(d, e, DNNL_MEMORY_NONE); };
  bool sharedWeights = m.kernel != ConvKernel::GradWeight;
  for (size_t i = 0; i < m.prims.size() && sharedWeights; ++i) {
    Prims &p = *m.prims[i];
    m.userWeights.push_back(unset(p.userB));
    m.convWeights.push_back(p.toB ? over(p.convB, m.atWeights[i]) : m.userWeights.back());
  }
  for (Slice &s : m.slices) {
    Prims &p = *s.prims;
    s.userA = unset(p.userA);
    s.convA = p.toA ? over(p.convA, s.atA) : s.userA;
    s.userOut = unset(p.userOut);
    s.convOut = p.fromOut ? over(p.convOut, s.atOut) : s.userOut;
    s.scratch = over(memory::desc({static_cast<int64_t>(std::max<size_t>(p.scratchpad, 1))},
                                  memory::data_type::u8, tag::a),
                     s.atScratch);
    if (!sharedWeights) {
      s.userB = unset(p.userB);
      s.convB = p.toB ? over(p.convB, s.atB) : s.userB;
      if (&s != &m.slices.front())
        s.partial = reinterpret_cast<float *>(workspace + s.atPartial);
    }
    if (m.hasBias)
      s.bias = unset(plain({m.g.outChannels}, tag::x));
  }
}

void DnnlConv::Impl::execute(const dnnl::primitive &p, dnnl::stream &s,
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

void DnnlConv::Impl::runSlice(Slice &s, const float *a, const float *b, float *out) {
  Prims &p = *s.prims;
  int64_t input = g.channels * g.height * g.width, output = g.outChannels * g.outH * g.outW;
  bool forward = kernel == ConvKernel::Forward;
  s.userA.set_data_handle(const_cast<float *>(a) + s.first * (forward ? input : output));
  if (kernel == ConvKernel::GradWeight)
    s.userOut.set_data_handle(s.partial ? s.partial : out);
  else
    s.userOut.set_data_handle(out + s.first * (forward ? output : input));
  if (p.toA)
    execute(p.toA.prim, s.stream,
            {{DNNL_ARG_FROM, &s.userA}, {DNNL_ARG_TO, &s.convA}, {DNNL_ARG_SCRATCHPAD, &s.scratch}});
  const memory &weights = convWeights.empty() ? s.convB : convWeights[s.primsIndex];
  switch (kernel) {
  case ConvKernel::Forward:
    if (hasBias)
      execute(p.conv, s.stream,
              {{DNNL_ARG_SRC, &s.convA},
               {DNNL_ARG_WEIGHTS, &weights},
               {DNNL_ARG_BIAS, &s.bias},
               {DNNL_ARG_DST, &s.convOut},
               {DNNL_ARG_SCRATCHPAD, &s.scratch}});
    else
      execute(p.conv, s.stream,
              {{DNNL_ARG_SRC, &s.convA},
               {DNNL_ARG_WEIGHTS, &weights},
               {DNNL_ARG_DST, &s.convOut},
               {DNNL_ARG_SCRATCHPAD, &s.scratch}});
    break;
  case ConvKernel::GradInput:
    execute(p.conv, s.stream,
            {{DNNL_ARG_DIFF_DST, &s.convA},
             {DNNL_ARG_WEIGHTS, &weights},
             {DNNL_ARG_DIFF_SRC, &s.convOut},
             {DNNL_ARG_SCRATCHPAD, &s.scratch}});
    break;
  case ConvKernel::GradWeight:
    s.userB.set_data_handle(const_cast<float *>(b) + s.first * input);
    if (p.toB)
      execute(p.toB.prim, s.stream,
              {{DNNL_ARG_FROM, &s.userB}, {DNNL_ARG_TO, &s.convB}, {DNNL_ARG_SCRATCHPAD, &s.scratch}});
    execute(p.conv, s.stream,
            {{DNNL_ARG_DIFF_DST, &s.convA},
             {DNNL_ARG_SRC, &s.convB},
             {DNNL_ARG_DIFF_WEIGHTS, &s.convOut},
             {DNNL_ARG_SCRATCHPAD, &s.scratch}});
    break;
  }
  if (p.fromOut)
    execute(p.fromOut.prim, s.stream,
            {{DNNL_ARG_FROM, &s.convOut}, {DNNL_ARG_TO, &s.userOut}, {DNNL_ARG_SCRATCHPAD, &s.scratch}});
}

void DnnlConv::run(ThreadPool &pool, const float *a, const float *b, const float *bias,
                   float *out) {
  Impl &m = *impl;
  OneOmpThread one;
  if (m.hasBias)
    for (Slice &s : m.slices)
      s.bias.set_data_handle(const_cast<float *>(bias));
  // The weights, laid out once for all slices (per batch size's layout).
  for (size_t i = 0; i < m.userWeights.size(); ++i) {
    m.userWeights[i].set_data_handle(const_cast<float *>(b));
    if (m.prims[i]->toB)
      m.execute(m.prims[i]->toB.prim, m.slices.front().stream,
                {{DNNL_ARG_FROM, &m.userWeights[i]},
                 {DNNL_ARG_TO, &m.convWeights[i]},
                 {DNNL_ARG_SCRATCHPAD, &m.slices.front().scratch}});
  }
  pool.parallelFor(static_cast<int64_t>(m.slices.size()), 1, [&](int64_t begin, int64_t end) {
    OneOmpThread one;
    for (int64_t i = begin; i < end; ++i)
      m.runSlice(m.slices[i], a, b, out);
  });
  if (m.kernel != ConvKernel::GradWeight || m.slices.size() == 1)
    return;
  // The weight gradient: the first slice's, plus the others' in order.
  int64_t n = static_cast<int64_t>(m.prims.front()->userOut.get_size() / sizeof(float));
  pool.parallelFor(n, 4096, [&](int64_t begin, int64_t end) {
    for (size_t s = 1; s < m.slices.size(); ++s) {
      const float *partial = m.slices[s].partial;
      for (int64_t i = begin; i < end; ++i)
        out[i] += partial[i];
    }
  });
}

} // namespace accel::rt::cpu
