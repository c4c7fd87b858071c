//===- SafetensorsTest.cpp - safetensors reading and writing --------------===//
//
// Round trips, and one malformed file per validation rule: each must be
// rejected with a message that names the problem.
//
//===----------------------------------------------------------------------===//

#include "runtime/io/Safetensors.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <gtest/gtest.h>

#include <cstring>

using accel::io::DType;
using accel::io::SafetensorsFile;
using accel::io::TensorRef;

namespace {

/// A file image with the given JSON header (padded to 8 bytes) and data.
std::vector<uint8_t> image(const std::string &header, size_t dataBytes) {
  std::string json = header;
  json.append((8 - json.size() % 8) % 8, ' ');
  std::vector<uint8_t> bytes(8 + json.size() + dataBytes, 0);
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i)
    bytes[i] = static_cast<uint8_t>(n >> (8 * i));
  std::memcpy(bytes.data() + 8, json.data(), json.size());
  return bytes;
}

std::string parseError(std::vector<uint8_t> bytes) {
  llvm::Expected<SafetensorsFile> file =
      SafetensorsFile::parse(std::move(bytes), "t.safetensors");
  if (file)
    return "(accepted)";
  return llvm::toString(file.takeError());
}

class SafetensorsTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("safetensors", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }
  std::string path(llvm::StringRef name) {
    llvm::SmallString<128> p(dir);
    llvm::sys::path::append(p, name);
    return std::string(p);
  }
  llvm::SmallString<128> dir;
};

TEST_F(SafetensorsTest, RoundTrip) {
  std::vector<float> w = {1.5f, -2.0f, 3.25f, 0.0f, 7.0f, -8.5f};
  std::vector<int64_t> idx = {3, 1, 4};
  std::vector<uint8_t> f8 = {0x38, 0xb8};
  std::vector<TensorRef> tensors = {
      {"fc.weight", DType::F32, {2, 3},
       {reinterpret_cast<const uint8_t *>(w.data()), w.size() * 4}},
      {"idx", DType::I64, {3},
       {reinterpret_cast<const uint8_t *>(idx.data()), idx.size() * 8}},
      {"scale", DType::F8_E4M3, {2}, f8},
      {"empty", DType::BF16, {0, 4}, {}},
  };
  std::string file = path("params.safetensors");
  ASSERT_FALSE(llvm::errorToBool(
      accel::io::writeSafetensors(file, tensors, {{"format", "pt"}})));
  llvm::Expected<SafetensorsFile> read = SafetensorsFile::read(file);
  ASSERT_TRUE(static_cast<bool>(read)) << llvm::toString(read.takeError());
  EXPECT_EQ(read->metadata().at("format"), "pt");
  EXPECT_EQ(read->names(),
            (std::vector<std::string>{"fc.weight", "idx", "scale", "empty"}));
  const SafetensorsFile::Tensor *t = read->find("fc.weight");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->dtype, DType::F32);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 3}));
  ASSERT_EQ(t->bytes.size(), 24u);
  EXPECT_EQ(std::memcmp(t->bytes.data(), w.data(), 24), 0);
  EXPECT_EQ(read->find("scale")->bytes[1], 0xb8);
  EXPECT_EQ(read->find("missing"), nullptr);
  // No temporary file is left behind.
  std::error_code ec;
  int entries = 0;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    ++entries;
  EXPECT_EQ(entries, 1);
}

TEST_F(SafetensorsTest, WriterRejectsBadInputWithoutTouchingDisk) {
  std::vector<uint8_t> four(4);
  std::string file = path("bad.safetensors");
  llvm::Error dup = accel::io::writeSafetensors(
      file, {{"a", DType::F32, {1}, four}, {"a", DType::F32, {1}, four}});
  EXPECT_NE(llvm::toString(std::move(dup)).find("\"a\" is used twice"),
            std::string::npos);
  llvm::Error size =
      accel::io::writeSafetensors(file, {{"a", DType::F32, {2}, four}});
  EXPECT_NE(llvm::toString(std::move(size)).find("does not match its shape"),
            std::string::npos);
  EXPECT_FALSE(llvm::sys::fs::exists(file));
}

TEST(SafetensorsValidation, RejectsEachMalformedFile) {
  struct Case {
    std::vector<uint8_t> bytes;
    const char *message;
  };
  std::vector<uint8_t> huge(8, 0);
  huge[4] = 1; // 2^32 bytes of header
  std::vector<uint8_t> pastEnd = image("{}", 0);
  pastEnd[0] = 200;
  std::vector<uint8_t> badUtf8 = image("{\"\xff\": 1}", 0);
  const Case cases[] = {
      {{1, 2, 3}, "shorter than the 8-byte header length"},
      {huge, "exceeds the limit of 100000000 bytes"},
      {pastEnd, "runs past the end of the file"},
      {badUtf8, "not valid UTF-8"},
      {image("{\"a\": ", 0), "not valid JSON"},
      {image("[1, 2]", 0), "not a JSON object"},
      // 40,000 levels overflowed the parser's stack; brackets in strings
      // do not count.
      {image(std::string(40000, '[') + std::string(40000, ']'), 0),
       "nest deeper than 64 levels (at byte 64)"},
      {image("{\"[[[[\": " + std::string(65, '[') + std::string(65, ']') + "}", 0),
       "nest deeper than 64 levels (at byte 72)"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
             R"("a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
             8),
       "\"a\" appears twice"},
      {image(R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", 8),
       "unsupported dtype \"C64\""},
      {image(R"({"a":{"dtype":"F32","shape":[1]}})", 4),
       "needs dtype, shape and data_offsets"},
      {image(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
       "not a non-negative integer"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}})", 4),
       "invalid data_offsets"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4.0]}})", 4),
       "invalid data_offsets"},
      {image(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", 4),
       "not a non-negative integer"},
      {image(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4),
       "spans 4 bytes, which does not match"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "starts at byte 4, expected 0"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
             R"("b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}})",
             8),
       "\"b\" starts at byte 2, expected 4"},
      {image(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 12),
       "cover 4 bytes but the file holds 12"},
      {image(R"({"__metadata__":{"k":1}})", 0), "is not a string"},
      {image(R"({"a":[]})", 0), "is not an object"},
  };
  for (const Case &c : cases) {
    std::string message = parseError(c.bytes);
    EXPECT_NE(message.find(c.message), std::string::npos)
        << "expected: " << c.message << "\n     got: " << message;
    EXPECT_EQ(message.rfind("t.safetensors: ", 0), 0u) << message;
  }
}

TEST(SafetensorsValidation, AcceptsEmptyFileAndPaddedHeader) {
  EXPECT_EQ(parseError(image("{}", 0)), "(accepted)");
  EXPECT_EQ(parseError(image(
                R"({"a":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}}  )",
                3)),
            "(accepted)");
}

TEST_F(SafetensorsTest, MissingFile) {
  llvm::Expected<SafetensorsFile> file =
      SafetensorsFile::read(path("nope.safetensors"));
  ASSERT_FALSE(static_cast<bool>(file));
  EXPECT_NE(llvm::toString(file.takeError()).find("cannot read"),
            std::string::npos);
}

} // namespace
