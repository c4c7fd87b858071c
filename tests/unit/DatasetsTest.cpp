//===- DatasetsTest.cpp - IDX files and Fashion-MNIST ---------------------===//
//
// The real Fashion-MNIST of Debian's dataset-fashion-mnist (installed by
// tools/setup.sh), checked against the dataset's published properties, and
// one malformed file per validation rule.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Dataset.h"
#include "runtime/io/FashionMnist.h"
#include "runtime/io/Idx.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <tuple>
#include <zlib.h>

#include <algorithm>
#include <numeric>

namespace {

constexpr const char *kFashionMnist = "/usr/share/datasets/fashion-mnist";

TEST(FashionMnist, TrainSplitHasThePublishedShapeAndStatistics) {
  llvm::Expected<accel::io::ImageDataset> train =
      accel::io::loadFashionMnist(kFashionMnist, accel::io::Split::Train);
  ASSERT_TRUE(static_cast<bool>(train)) << llvm::toString(train.takeError());
  EXPECT_EQ(train->count, 60000);
  EXPECT_EQ(train->height, 28);
  EXPECT_EQ(train->width, 28);
  ASSERT_EQ(train->images.size(), 60000u * 784u);
  // Balanced: 6000 samples of each of the 10 classes.
  std::vector<int> perClass(10);
  for (int64_t l : train->labels)
    ++perClass[l];
  EXPECT_EQ(perClass, std::vector<int>(10, 6000));
  // The first samples are an ankle boot, two T-shirts, a dress, ...
  EXPECT_EQ(std::vector<int64_t>(train->labels.begin(), train->labels.begin() + 4),
            (std::vector<int64_t>{9, 0, 0, 3}));
  // Pixels scale to [0, 1]; their mean is the published 0.2860.
  double mean = std::accumulate(train->images.begin(), train->images.end(), 0.0) /
                train->images.size();
  EXPECT_NEAR(mean, 0.2860, 1e-4);
  auto [lo, hi] = std::minmax_element(train->images.begin(), train->images.end());
  EXPECT_EQ(*lo, 0.0f);
  EXPECT_EQ(*hi, 1.0f);
}

TEST(FashionMnist, TestSplit) {
  llvm::Expected<accel::io::ImageDataset> test =
      accel::io::loadFashionMnist(kFashionMnist, accel::io::Split::Test);
  ASSERT_TRUE(static_cast<bool>(test)) << llvm::toString(test.takeError());
  EXPECT_EQ(test->count, 10000);
  std::vector<int> perClass(10);
  for (int64_t l : test->labels)
    ++perClass[l];
  EXPECT_EQ(perClass, std::vector<int>(10, 1000));
}

std::vector<uint8_t> idx(std::vector<uint32_t> shape, size_t dataBytes,
                         uint8_t type = 0x08) {
  std::vector<uint8_t> b = {0, 0, type, static_cast<uint8_t>(shape.size())};
  for (uint32_t s : shape)
    for (int i = 3; i >= 0; --i)
      b.push_back(static_cast<uint8_t>(s >> (8 * i)));
  b.resize(b.size() + dataBytes, 7);
  return b;
}

std::string parseError(const std::vector<uint8_t> &bytes) {
  llvm::Expected<accel::io::IdxBytes> a = accel::io::parseIdxBytes(bytes, "x.idx");
  return a ? "(accepted)" : llvm::toString(a.takeError());
}

TEST(Idx, RejectsEachMalformedFile) {
  EXPECT_EQ(parseError(idx({2, 3}, 6)), "(accepted)");
  EXPECT_EQ(parseError({1, 0, 8, 1}), "x.idx: not an IDX file (bad magic number)");
  EXPECT_EQ(parseError(idx({4}, 16, 0x0D)),
            "x.idx: IDX element type 0xd is not unsigned bytes (0x8)");
  EXPECT_EQ(parseError({0, 0, 8, 2, 0, 0}), "x.idx: IDX header is truncated");
  EXPECT_EQ(parseError(idx({2, 3}, 5)),
            "x.idx: IDX sizes give 6 elements but the file holds 5");
  // Trailing bytes are not ignored.
  EXPECT_EQ(parseError(idx({2, 3}, 7)),
            "x.idx: IDX sizes give 6 elements but the file holds 7");
  // Sizes whose product does not fit 64 bits.
  EXPECT_EQ(parseError({0, 0, 8, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                        0xff, 0xff, 0xff, 0xff, 0xff}),
            "x.idx: IDX sizes overflow a 64-bit element count");
}

class IdxFiles : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("idx", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }
  std::string write(llvm::StringRef name, const std::vector<uint8_t> &bytes,
                    bool compress) {
    llvm::SmallString<128> path(dir);
    llvm::sys::path::append(path, name);
    if (compress) {
      gzFile f = gzopen(path.c_str(), "wb");
      gzwrite(f, bytes.data(), bytes.size());
      gzclose(f);
    } else {
      std::error_code ec;
      llvm::raw_fd_ostream os(path, ec);
      os.write(reinterpret_cast<const char *>(bytes.data()), bytes.size());
    }
    return std::string(path);
  }
  llvm::SmallString<128> dir;
};

TEST_F(IdxFiles, ReadsGzipAndRejectsCorruptCompression) {
  std::vector<uint8_t> bytes = idx({3, 2}, 6);
  llvm::Expected<accel::io::IdxBytes> plain =
      accel::io::readIdxBytes(write("plain.idx", bytes, false));
  ASSERT_TRUE(static_cast<bool>(plain)) << llvm::toString(plain.takeError());
  std::string gz = write("a.idx.gz", bytes, true);
  llvm::Expected<accel::io::IdxBytes> packed = accel::io::readIdxBytes(gz);
  ASSERT_TRUE(static_cast<bool>(packed)) << llvm::toString(packed.takeError());
  EXPECT_EQ(packed->shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(packed->data, plain->data);

  // Keep the gzip magic, cut the stream short.
  auto buffer = llvm::MemoryBuffer::getFile(gz);
  std::vector<uint8_t> truncated((*buffer)->getBufferStart(),
                                 (*buffer)->getBufferStart() + 12);
  llvm::Expected<accel::io::IdxBytes> cut =
      accel::io::readIdxBytes(write("cut.idx.gz", truncated, false));
  ASSERT_FALSE(static_cast<bool>(cut));
  EXPECT_NE(llvm::toString(cut.takeError()).find("corrupt or truncated gzip"),
            std::string::npos);
}

TEST_F(IdxFiles, RejectsDataAfterTheGzipStream) {
  std::vector<uint8_t> bytes = idx({3, 2}, 6);
  std::string gz = write("a.idx.gz", bytes, true);
  auto buffer = llvm::MemoryBuffer::getFile(gz);
  std::vector<uint8_t> packed((*buffer)->getBufferStart(),
                              (*buffer)->getBufferEnd());
  // Two gzip members back to back (what `cat a.gz b.gz` makes), and one
  // followed by stray bytes.
  std::vector<uint8_t> twice = packed;
  twice.insert(twice.end(), packed.begin(), packed.end());
  std::vector<uint8_t> stray = packed;
  stray.push_back(0);
  for (auto [name, contents, expected] :
       {std::tuple{"twice.idx.gz", twice, packed.size()},
        std::tuple{"stray.idx.gz", stray, size_t(1)}}) {
    llvm::Expected<accel::io::IdxBytes> read =
        accel::io::readIdxBytes(write(name, contents, false));
    ASSERT_FALSE(static_cast<bool>(read)) << name;
    EXPECT_NE(llvm::toString(read.takeError())
                  .find(std::to_string(expected) + " bytes follow the gzip stream"),
              std::string::npos)
        << name;
  }
}

TEST_F(IdxFiles, DatasetChecksLabels) {
  std::vector<uint8_t> images = idx({2, 2, 2}, 8);
  std::vector<uint8_t> labels = idx({3}, 3);
  write("train-images-idx3-ubyte.gz", images, true);
  write("train-labels-idx1-ubyte.gz", labels, true);
  llvm::Expected<accel::io::ImageDataset> d =
      accel::io::loadFashionMnist(dir, accel::io::Split::Train);
  ASSERT_FALSE(static_cast<bool>(d));
  EXPECT_NE(llvm::toString(d.takeError()).find("2 images but 3 labels"),
            std::string::npos);
  labels = idx({2}, 2); // bytes are 7: valid classes
  labels.back() = 12;
  write("train-labels-idx1-ubyte.gz", labels, true);
  d = accel::io::loadFashionMnist(dir, accel::io::Split::Train);
  ASSERT_FALSE(static_cast<bool>(d));
  EXPECT_NE(llvm::toString(d.takeError()).find("label 12 of sample 1 is not a class 0-9"),
            std::string::npos);
  d = accel::io::loadFashionMnist(dir, accel::io::Split::Test);
  ASSERT_FALSE(static_cast<bool>(d));
  EXPECT_NE(llvm::toString(d.takeError()).find("cannot read"), std::string::npos);
}

} // namespace

namespace {

TEST(EpochOrder, IsASeededPermutation) {
  using accel::io::epochOrder;
  std::vector<int64_t> identity = epochOrder(10, 42, 0, /*shuffle=*/false);
  EXPECT_EQ(identity, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
  std::vector<int64_t> a = epochOrder(1000, 42, 0, true);
  std::vector<int64_t> sorted = a;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(sorted, epochOrder(1000, 42, 0, false));
  EXPECT_NE(a, sorted);
  EXPECT_EQ(a, epochOrder(1000, 42, 0, true));  // reproducible
  EXPECT_NE(a, epochOrder(1000, 42, 1, true));  // a new order each epoch
  EXPECT_NE(a, epochOrder(1000, 43, 0, true));  // and each seed
  EXPECT_EQ(epochOrder(1, 7, 3, true), std::vector<int64_t>{0});
}

TEST(Dataset, FashionMnistColumnsAndBatches) {
  llvm::Expected<accel::io::Dataset> data = accel::io::Dataset::fromFashionMnist(
      kFashionMnist, accel::io::Split::Test, "x", "y");
  ASSERT_TRUE(static_cast<bool>(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->size(), 10000);
  const accel::io::Column *y = data->find("y");
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->dtype, accel::io::DType::I64);
  EXPECT_EQ(data->find("x")->sampleShape, (std::vector<int64_t>{28, 28}));
  // Without shuffling, batch i is samples i*B .. (i+1)*B - 1.
  std::vector<int64_t> order = accel::io::epochOrder(data->size(), 0, 0, false);
  std::vector<int64_t> labels(4);
  accel::io::gatherBatch(*y, order, /*batch=*/0, 4,
                         {reinterpret_cast<uint8_t *>(labels.data()), 32});
  EXPECT_EQ(labels, (std::vector<int64_t>{9, 2, 1, 1}));
  accel::io::gatherBatch(*y, order, /*batch=*/1, 4,
                         {reinterpret_cast<uint8_t *>(labels.data()), 32});
  EXPECT_EQ(labels, (std::vector<int64_t>{6, 1, 4, 6}));
}

TEST_F(IdxFiles, SafetensorsDatasets) {
  llvm::SmallString<128> path(dir);
  llvm::sys::path::append(path, "data.safetensors");
  std::vector<float> x(6 * 2);
  std::iota(x.begin(), x.end(), 0.0f);
  std::vector<int64_t> y = {5, 4, 3, 2, 1, 0};
  auto bytes = [](const auto &v) {
    return llvm::ArrayRef<uint8_t>(reinterpret_cast<const uint8_t *>(v.data()),
                                   v.size() * sizeof(v[0]));
  };
  ASSERT_FALSE(llvm::errorToBool(accel::io::writeSafetensors(
      path, {{"x", accel::io::DType::F32, {6, 2}, bytes(x)},
             {"y", accel::io::DType::I64, {6}, bytes(y)}})));
  llvm::Expected<accel::io::Dataset> data = accel::io::Dataset::fromSafetensors(path);
  ASSERT_TRUE(static_cast<bool>(data)) << llvm::toString(data.takeError());
  EXPECT_EQ(data->size(), 6);
  std::vector<int64_t> order = {5, 0, 3, 1, 2, 4};
  std::vector<float> batch(2 * 2);
  accel::io::gatherBatch(*data->find("x"), order, 1, 2,
                         {reinterpret_cast<uint8_t *>(batch.data()), 16});
  EXPECT_EQ(batch, (std::vector<float>{6, 7, 2, 3}));

  std::vector<int64_t> five = {1, 2, 3, 4, 5};
  ASSERT_FALSE(llvm::errorToBool(accel::io::writeSafetensors(
      path, {{"x", accel::io::DType::F32, {6, 2}, bytes(x)},
             {"y", accel::io::DType::I64, {5}, bytes(five)}})));
  data = accel::io::Dataset::fromSafetensors(path);
  ASSERT_FALSE(static_cast<bool>(data));
  EXPECT_NE(llvm::toString(data.takeError())
                .find("tensor \"y\" has 5 samples but \"x\" has 6"),
            std::string::npos);
  std::vector<float> one = {1.0f};
  ASSERT_FALSE(llvm::errorToBool(accel::io::writeSafetensors(
      path, {{"s", accel::io::DType::F32, {}, bytes(one)}})));
  data = accel::io::Dataset::fromSafetensors(path);
  ASSERT_FALSE(static_cast<bool>(data));
  EXPECT_NE(llvm::toString(data.takeError()).find("is a scalar"),
            std::string::npos);
}

} // namespace
