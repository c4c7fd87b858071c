//===- Dataset.h - training data by name ------------------------*- C++ -*-===//
//
// A dataset is a set of named columns sharing a first dimension, the sample
// index: a training step's `accel.input` names select the columns. Sources:
// a safetensors file (every tensor a column) or Fashion-MNIST (columns for
// the images and the labels).
//
// Epoch order is fully specified (SplitMix64 driving Fisher-Yates), not left
// to the C++ library, so a run and its resumption draw the same batches on
// every machine.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_DATASET_H
#define ACCEL_RUNTIME_IO_DATASET_H

#include "runtime/io/FashionMnist.h"
#include "runtime/io/Safetensors.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace accel::io {

struct Column {
  std::string name;
  DType dtype;
  std::vector<int64_t> sampleShape; // the shape of one sample
  std::vector<uint8_t> data;        // all samples, row-major

  size_t sampleBytes() const;
};

class Dataset {
public:
  /// Every tensor of the file is a column; all must have rank >= 1 and the
  /// same first dimension.
  static llvm::Expected<Dataset> fromSafetensors(llvm::StringRef path);
  /// Images as f32 [N, 28, 28] in [0, 1] under `imagesName`, labels as i64
  /// [N] under `labelsName`.
  static llvm::Expected<Dataset> fromFashionMnist(llvm::StringRef directory,
                                                  Split split,
                                                  llvm::StringRef imagesName,
                                                  llvm::StringRef labelsName);

  int64_t size() const { return samples; }
  const Column *find(llvm::StringRef name) const;
  const std::vector<Column> &columns() const { return cols; }

private:
  int64_t samples = 0;
  std::vector<Column> cols;
};

/// The sample order of an epoch: 0, 1, ... without shuffling, else a
/// permutation determined by (seed, epoch) alone.
std::vector<int64_t> epochOrder(int64_t size, uint64_t seed, int64_t epoch,
                                bool shuffle);

/// Copies batch `batch` of `column` — samples order[batch * batchSize ...
/// (batch + 1) * batchSize - 1] — into `out` (batchSize samples).
void gatherBatch(const Column &column, llvm::ArrayRef<int64_t> order,
                 int64_t batch, int64_t batchSize,
                 llvm::MutableArrayRef<uint8_t> out);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_DATASET_H
