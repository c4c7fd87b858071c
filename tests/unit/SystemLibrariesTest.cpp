//===- SystemLibrariesTest.cpp - the third_party targets link and work ----===//
//
// Each system library accel builds on is reached through a Bazel target in
// third_party/; these tests call into each one so that a broken mapping
// (wrong include path, missing rpath, ABI mismatch) fails here first.
// Device-dependent checks skip, with the reason, on machines without a GPU.
//
//===----------------------------------------------------------------------===//

#include <cblas.h>
#include <cublasLt.h>
#include <cuda_runtime_api.h>
#include <mpi.h>
#include <nccl.h>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

TEST(SystemLibraries, OpenBlasSgemmMatchesNaiveProduct) {
  const int m = 3, n = 4, k = 5;
  std::vector<float> a(m * k), b(k * n), c(m * n, 0.0f);
  for (int i = 0; i < m * k; ++i)
    a[i] = 0.5f * i - 3.0f;
  for (int i = 0; i < k * n; ++i)
    b[i] = 1.0f - 0.25f * i;
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f,
              a.data(), k, b.data(), n, 0.0f, c.data(), n);
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      // Small integers and halves: every product and sum is exact in f32.
      float expected = 0.0f;
      for (int p = 0; p < k; ++p)
        expected += a[i * k + p] * b[p * n + j];
      EXPECT_EQ(c[i * n + j], expected) << i << "," << j;
    }
}

TEST(SystemLibraries, OpenMpiIsVersion4) {
  char version[MPI_MAX_LIBRARY_VERSION_STRING];
  int length = 0;
  // Callable before MPI_Init, so no launcher is needed.
  ASSERT_EQ(MPI_Get_library_version(version, &length), MPI_SUCCESS);
  EXPECT_NE(std::string(version, length).find("Open MPI v4."),
            std::string::npos)
      << version;
}

TEST(SystemLibraries, CudaLibrariesLoad) {
  // Library versions need no device.
  EXPECT_GE(cublasLtGetVersion(), 130000u);
  int nccl = 0;
  ASSERT_EQ(ncclGetVersion(&nccl), ncclSuccess);
  EXPECT_GE(nccl, 22800);
}

TEST(SystemLibraries, CudaDeviceRoundTrip) {
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0)
    GTEST_SKIP() << "no CUDA device on this machine";
  std::vector<float> host = {1.0f, -2.5f, 3.25f}, back(3, 0.0f);
  void *device = nullptr;
  ASSERT_EQ(cudaMalloc(&device, sizeof(float) * host.size()), cudaSuccess);
  ASSERT_EQ(cudaMemcpy(device, host.data(), sizeof(float) * host.size(),
                       cudaMemcpyHostToDevice),
            cudaSuccess);
  ASSERT_EQ(cudaMemcpy(back.data(), device, sizeof(float) * host.size(),
                       cudaMemcpyDeviceToHost),
            cudaSuccess);
  EXPECT_EQ(cudaFree(device), cudaSuccess);
  EXPECT_EQ(back, host);
  cublasLtHandle_t handle;
  ASSERT_EQ(cublasLtCreate(&handle), CUBLAS_STATUS_SUCCESS);
  EXPECT_EQ(cublasLtDestroy(handle), CUBLAS_STATUS_SUCCESS);
}

} // namespace
