//===- Dataset.cpp - training data by name --------------------------------===//

#include "runtime/io/Dataset.h"

#include "llvm/ADT/STLExtras.h"

#include <cstring>
#include <numeric>

namespace accel::io {

size_t Column::sampleBytes() const {
  size_t n = dtypeSize(dtype);
  for (int64_t d : sampleShape)
    n *= static_cast<size_t>(d);
  return n;
}

llvm::Expected<Dataset> Dataset::fromSafetensors(llvm::StringRef path) {
  llvm::Expected<SafetensorsFile> file = SafetensorsFile::read(path);
  if (!file)
    return file.takeError();
  Dataset data;
  for (const std::string &name : file->names()) {
    const SafetensorsFile::Tensor *t = file->find(name);
    if (t->shape.empty())
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          path + ": tensor \"" + name +
              "\" is a scalar; dataset tensors have a sample dimension first");
    if (data.cols.empty())
      data.samples = t->shape[0];
    else if (t->shape[0] != data.samples)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          path + ": tensor \"" + name + "\" has " + llvm::Twine(t->shape[0]) +
              " samples but \"" + data.cols.front().name + "\" has " +
              llvm::Twine(data.samples));
    data.cols.push_back(Column{name, t->dtype,
                               std::vector<int64_t>(t->shape.begin() + 1,
                                                    t->shape.end()),
                               std::vector<uint8_t>(t->bytes.begin(),
                                                    t->bytes.end())});
  }
  return data;
}

llvm::Expected<Dataset> Dataset::fromFashionMnist(llvm::StringRef directory,
                                                  Split split,
                                                  llvm::StringRef imagesName,
                                                  llvm::StringRef labelsName) {
  llvm::Expected<ImageDataset> images = loadFashionMnist(directory, split);
  if (!images)
    return images.takeError();
  Dataset data;
  data.samples = images->count;
  Column pixels{imagesName.str(), DType::F32, {images->height, images->width}, {}};
  pixels.data.resize(images->images.size() * sizeof(float));
  std::memcpy(pixels.data.data(), images->images.data(), pixels.data.size());
  Column labels{labelsName.str(), DType::I64, {}, {}};
  labels.data.resize(images->labels.size() * sizeof(int64_t));
  std::memcpy(labels.data.data(), images->labels.data(), labels.data.size());
  data.cols.push_back(std::move(pixels));
  data.cols.push_back(std::move(labels));
  return data;
}

const Column *Dataset::find(llvm::StringRef name) const {
  auto it = llvm::find_if(cols, [&](const Column &c) { return c.name == name; });
  return it == cols.end() ? nullptr : &*it;
}

namespace {
/// SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output is
/// defined by its few lines, unlike std::shuffle's.
struct SplitMix64 {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, bound), by rejection so no value is favoured.
  uint64_t below(uint64_t bound) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
    uint64_t x;
    do
      x = next();
    while (x >= limit);
    return x % bound;
  }
};
} // namespace

std::vector<int64_t> epochOrder(int64_t size, uint64_t seed, int64_t epoch,
                                bool shuffle) {
  std::vector<int64_t> order(size);
  std::iota(order.begin(), order.end(), 0);
  if (!shuffle)
    return order;
  SplitMix64 rng{seed * 0x100000001b3ull ^ static_cast<uint64_t>(epoch)};
  for (int64_t i = size - 1; i > 0; --i)
    std::swap(order[i], order[rng.below(static_cast<uint64_t>(i) + 1)]);
  return order;
}

void gatherBatch(const Column &column, llvm::ArrayRef<int64_t> order,
                 int64_t batch, int64_t batchSize,
                 llvm::MutableArrayRef<uint8_t> out) {
  size_t bytes = column.sampleBytes();
  for (int64_t i = 0; i < batchSize; ++i) {
    int64_t sample = order[batch * batchSize + i];
    std::memcpy(out.data() + i * bytes, column.data.data() + sample * bytes,
                bytes);
  }
}

} // namespace accel::io
