//===- CudaCompiler.cpp - the CUDA driver's kernels through NVRTC ---------===//

#include "runtime/hal/plugins/cuda/CudaCompiler.h"

#include "runtime/hal/plugins/kernels/DeviceKernels.h"

#include <nvrtc.h>

#include <memory>
#include <vector>

namespace accel::rt::cuda {

namespace {

llvm::Error nvrtcFailure(const std::string &what, nvrtcResult result,
                         const std::string &log = "") {
  std::string message = "cuda: " + what + " failed (" +
                        nvrtcGetErrorString(result) + ")";
  if (!log.empty())
    message += "; its log:\n" + log;
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

} // namespace

const char *const *compileOptions(int *count) {
  static const char *const options[] = {
      "--device-as-default-execution-space", "--fmad=false", "--prec-div=true",
      "--prec-sqrt=true", "--ftz=false", "--std=c++17"};
  *count = sizeof(options) / sizeof(options[0]);
  return options;
}

llvm::Expected<std::string> compileKernels(const std::string &kernels,
                                           const std::string &arch) {
  std::string source =
      devicekernels::prelude(devicekernels::Language::Cuda) + kernels;
  nvrtcProgram program;
  if (nvrtcResult r = nvrtcCreateProgram(&program, source.c_str(),
                                         "accel_kernels.cu", 0, nullptr,
                                         nullptr);
      r != NVRTC_SUCCESS)
    return nvrtcFailure("nvrtcCreateProgram", r);
  std::unique_ptr<nvrtcProgram, void (*)(nvrtcProgram *)> owner(
      &program, [](nvrtcProgram *p) { nvrtcDestroyProgram(p); });
  int count = 0;
  const char *const *common = compileOptions(&count);
  std::vector<const char *> options(common, common + count);
  std::string archOption = "--gpu-architecture=" + arch;
  options.push_back(archOption.c_str());
  nvrtcResult compiled =
      nvrtcCompileProgram(program, static_cast<int>(options.size()),
                          options.data());
  if (compiled != NVRTC_SUCCESS) {
    size_t size = 0;
    nvrtcGetProgramLogSize(program, &size);
    std::string log(size, '\0');
    nvrtcGetProgramLog(program, log.data());
    while (!log.empty() && log.back() == '\0')
      log.pop_back();
    return nvrtcFailure("compiling the step's kernels for " + arch,
                        compiled, log);
  }
  bool cubin = arch.rfind("sm_", 0) == 0;
  size_t size = 0;
  nvrtcResult sized = cubin ? nvrtcGetCUBINSize(program, &size)
                            : nvrtcGetPTXSize(program, &size);
  if (sized != NVRTC_SUCCESS)
    return nvrtcFailure(cubin ? "nvrtcGetCUBINSize" : "nvrtcGetPTXSize",
                        sized);
  std::string code(size, '\0');
  nvrtcResult got = cubin ? nvrtcGetCUBIN(program, code.data())
                          : nvrtcGetPTX(program, code.data());
  if (got != NVRTC_SUCCESS)
    return nvrtcFailure(cubin ? "nvrtcGetCUBIN" : "nvrtcGetPTX", got);
  if (!cubin && !code.empty() && code.back() == '\0')
    code.pop_back(); // PTX's size counts its terminating NUL
  return code;
}

llvm::Expected<std::string> compileProgramKernels(const Program &p,
                                                  const std::string &arch) {
  llvm::Expected<std::string> kernels = devicekernels::programSource(p);
  if (!kernels)
    return kernels.takeError();
  return compileKernels(*kernels, arch);
}

} // namespace accel::rt::cuda
