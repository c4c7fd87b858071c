//===- fp8-quantize.cpp - accel's FP8 quantiser on given matrices ---------===//
//
//   fp8-quantize CALLS.safetensors -o OUT.safetensors
//
// CALLS holds, per quantisation i, a matrix `{i}.input` (F32 [R, C], one
// scaling group per row when rowwise) and, in the metadata, `{i}.cast`:
// "<e4m3fn|e5m2> <tensorwise|rowwise|mx>[ pow2]". Quantises each with the
// CPU driver's kernel (runtime/cpu/Float8Kernels.h) and the executor's FP8
// store, and writes `{i}.data` (F8_E4M3 / F8_E5M2) and `{i}.scale` (F32,
// [] or [R, 1]; for mx, U8 E8M0 codes [R, C / 32]) for the test to compare
// with the quantiser that produced CALLS (torchao's, in
// tests/lit/precision/fp8-*.test and mxfp8-torchao.test).
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"
#include "runtime/cpu/Float8Kernels.h"
#include "runtime/cpu/ThreadPool.h"
#include "runtime/io/Safetensors.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"

#include <cstring>
#include <deque>
#include <optional>
#include <vector>

using namespace accel;
using namespace accel::rt;

static llvm::cl::opt<std::string> callsPath(llvm::cl::Positional,
                                            llvm::cl::desc("CALLS.safetensors"),
                                            llvm::cl::Required);
static llvm::cl::opt<std::string> outPath("o", llvm::cl::desc("Output file"),
                                          llvm::cl::Required);

int main(int argc, char **argv) {
  llvm::cl::ParseCommandLineOptions(argc, argv, "accel FP8 quantiser check\n");
  llvm::Expected<io::SafetensorsFile> calls = io::SafetensorsFile::read(callsPath);
  if (!calls) {
    llvm::errs() << "fp8-quantize: " << llvm::toString(calls.takeError()) << "\n";
    return 1;
  }
  cpu::ThreadPool pool(2);
  std::deque<std::vector<uint8_t>> storage; // stable addresses for TensorRefs
  std::vector<io::TensorRef> out;
  int count = 0;
  for (int i = 0;; ++i, ++count) {
    std::string key = std::to_string(i);
    const io::SafetensorsFile::Tensor *input = calls->find(key + ".input");
    auto cast = calls->metadata().find(key + ".cast");
    if (!input)
      break;
    if (cast == calls->metadata().end() || input->dtype != io::DType::F32 ||
        input->shape.size() != 2) {
      llvm::errs() << "fp8-quantize: call " << i
                   << " needs an F32 matrix and a '.cast' entry\n";
      return 1;
    }
    llvm::SmallVector<llvm::StringRef> words;
    llvm::StringRef(cast->second).split(words, ' ');
    bool e4m3 = words[0] == "e4m3fn";
    bool pow2 = words.size() > 2 && words[2] == "pow2";
    std::optional<cpu::Fp8Grouping> grouping;
    if (words.size() > 1)
      grouping = words[1] == "tensorwise" ? cpu::Fp8Grouping::Tensor
                 : words[1] == "rowwise"  ? cpu::Fp8Grouping::Row
                 : words[1] == "mx"       ? std::optional(cpu::Fp8Grouping::MxBlock)
                                          : std::nullopt;
    if ((!e4m3 && words[0] != "e5m2") || !grouping) {
      llvm::errs() << "fp8-quantize: call " << i << ": bad cast '" << cast->second
                   << "'\n";
      return 1;
    }
    int64_t rows = input->shape[0], cols = input->shape[1];
    std::vector<int64_t> scaleShape =
        *grouping == cpu::Fp8Grouping::Tensor ? std::vector<int64_t>{}
        : *grouping == cpu::Fp8Grouping::Row  ? std::vector<int64_t>{rows, 1}
                                              : std::vector<int64_t>{rows, cols / cpu::kMxBlock};
    if (*grouping == cpu::Fp8Grouping::MxBlock && cols % cpu::kMxBlock) {
      llvm::errs() << "fp8-quantize: call " << i << ": mx needs columns in blocks of "
                   << cpu::kMxBlock << "\n";
      return 1;
    }
    int64_t scales = 1;
    for (int64_t d : scaleShape)
      scales *= d;
    std::vector<float> x(rows * cols), scaled(rows * cols), scale(scales);
    std::memcpy(x.data(), input->bytes.data(), x.size() * sizeof(float));
    cpu::fp8Quantize(pool, x.data(), rows, cols, *grouping, pow2,
                     e4m3 ? 448.0f : 57344.0f, scaled.data(), scale.data());
    std::vector<uint8_t> &data = storage.emplace_back(rows * cols);
    for (size_t k = 0; k < data.size(); ++k)
      data[k] = e4m3 ? cpu::floatToE4M3(scaled[k]) : cpu::floatToE5M2(scaled[k]);
    // MX scales are written as E8M0 codes, others as f32.
    bool mx = *grouping == cpu::Fp8Grouping::MxBlock;
    std::vector<uint8_t> &scaleBytes = storage.emplace_back(scale.size() * (mx ? 1 : 4));
    if (mx)
      for (size_t k = 0; k < scale.size(); ++k)
        scaleBytes[k] = cpu::floatToE8M0(scale[k]);
    else
      std::memcpy(scaleBytes.data(), scale.data(), scaleBytes.size());
    out.push_back({key + ".data", e4m3 ? io::DType::F8_E4M3 : io::DType::F8_E5M2,
                   {rows, cols}, data});
    out.push_back({key + ".scale", mx ? io::DType::U8 : io::DType::F32, scaleShape,
                   scaleBytes});
  }
  if (llvm::Error e = io::writeSafetensors(outPath, out)) {
    llvm::errs() << "fp8-quantize: " << llvm::toString(std::move(e)) << "\n";
    return 1;
  }
  llvm::outs() << "quantised " << count << " matrices\n";
  return count ? 0 : 1;
}
