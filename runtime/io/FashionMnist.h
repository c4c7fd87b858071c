//===- FashionMnist.h - the Fashion-MNIST dataset ---------------*- C++ -*-===//
//
// Fashion-MNIST as Debian's dataset-fashion-mnist installs it
// (/usr/share/datasets/fashion-mnist: {train,t10k}-{images-idx3,labels-idx1}
// -ubyte.gz): 28x28 grey images, labels 0-9.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_RUNTIME_IO_FASHIONMNIST_H
#define ACCEL_RUNTIME_IO_FASHIONMNIST_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <vector>

namespace accel::io {

/// Images as f32 in [0, 1] (the bytes divided by 255), row-major
/// [count, 28 * 28], and labels as i64.
struct ImageDataset {
  int64_t count = 0;
  int64_t height = 0, width = 0;
  std::vector<float> images;
  std::vector<int64_t> labels;
};

enum class Split { Train, Test };

/// Loads one split from `directory`, checking that images and labels agree
/// in count and that every label is a class 0-9.
llvm::Expected<ImageDataset> loadFashionMnist(llvm::StringRef directory,
                                              Split split);

} // namespace accel::io

#endif // ACCEL_RUNTIME_IO_FASHIONMNIST_H
