//===- CheckpointTest.cpp - crash-safe checkpoints ------------------------===//

#include "runtime/io/Checkpoint.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <cstring>
#include <sys/wait.h>
#include <unistd.h>

using accel::io::CheckpointManifest;
using accel::io::DType;
using accel::io::TensorRef;

namespace {

class CheckpointTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_FALSE(llvm::sys::fs::createUniqueDirectory("ckpt", dir));
  }
  void TearDown() override { llvm::sys::fs::remove_directories(dir); }

  /// A state of one tensor filled with `value`.
  llvm::Error write(int64_t step, float value, size_t elements) {
    std::vector<float> w(elements, value);
    CheckpointManifest m;
    m.step = step;
    m.epoch = step / 10;
    m.batchInEpoch = step % 10;
    m.seed = 1234;
    m.extra["lr"] = 0.5;
    TensorRef t{"fc.weight", DType::F32, {static_cast<int64_t>(elements)},
                {reinterpret_cast<const uint8_t *>(w.data()), elements * 4}};
    return accel::io::writeCheckpoint(dir, {t}, m);
  }

  /// The latest checkpoint's step and first value, checking it is whole.
  std::pair<int64_t, float> latest() {
    llvm::Expected<accel::io::Checkpoint> c = accel::io::readLatestCheckpoint(dir);
    EXPECT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
    if (!c)
      return {-1, 0};
    const accel::io::StateTensor *t = c->layout.find("fc.weight");
    EXPECT_NE(t, nullptr);
    if (!t)
      return {-1, 0};
    std::vector<float> values(t->numElements());
    c->read(*t, 0, t->numElements(), reinterpret_cast<uint8_t *>(values.data()));
    float first = values.front(), last = values.back();
    EXPECT_EQ(first, last);
    return {c->manifest.step, first};
  }

  /// Replaces the latest checkpoint's manifest with `text`.
  void rewriteManifest(const std::string &text) {
    llvm::SmallString<128> pointer(dir);
    llvm::sys::path::append(pointer, "latest");
    auto name = llvm::MemoryBuffer::getFile(pointer);
    ASSERT_TRUE(static_cast<bool>(name));
    llvm::SmallString<128> manifest(dir);
    llvm::sys::path::append(manifest, (*name)->getBuffer().trim(),
                            "manifest.json");
    std::error_code ec;
    llvm::raw_fd_ostream os(manifest, ec);
    ASSERT_FALSE(ec);
    os << text;
  }

  /// Flips one bit of the file at `path` (its last byte: tensor data).
  static void flipLastByte(const llvm::Twine &path) {
    auto bytes = llvm::MemoryBuffer::getFile(path);
    ASSERT_TRUE(static_cast<bool>(bytes));
    std::string data = (*bytes)->getBuffer().str();
    data.back() ^= 1;
    std::error_code ec;
    llvm::raw_fd_ostream os(path.str(), ec);
    ASSERT_FALSE(ec);
    os << data;
  }

  /// The error reading the latest checkpoint gives, or "(accepted)".
  std::string readError() {
    llvm::Expected<accel::io::Checkpoint> c = accel::io::readLatestCheckpoint(dir);
    return c ? std::string("(accepted)") : llvm::toString(c.takeError());
  }

  llvm::SmallString<128> dir;
};

TEST_F(CheckpointTest, RoundTripAndLatest) {
  ASSERT_FALSE(llvm::errorToBool(write(3, 1.5f, 16)));
  ASSERT_FALSE(llvm::errorToBool(write(7, 2.5f, 16)));
  llvm::Expected<accel::io::Checkpoint> c = accel::io::readLatestCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->manifest.step, 7);
  EXPECT_EQ(c->manifest.epoch, 0);
  EXPECT_EQ(c->manifest.batchInEpoch, 7);
  EXPECT_EQ(c->manifest.seed, 1234u);
  EXPECT_EQ(c->manifest.extra.getNumber("lr"), 0.5);
  EXPECT_TRUE(llvm::StringRef(c->path).ends_with("step-000000007"));
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{7, 2.5f}));
  // Both step directories remain; no temporary is left.
  std::error_code ec;
  std::vector<std::string> entries;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    entries.push_back(llvm::sys::path::filename(it->path()).str());
  std::sort(entries.begin(), entries.end());
  EXPECT_EQ(entries, (std::vector<std::string>{"latest", "step-000000003",
                                               "step-000000007"}));
}

// Rewriting a step (a rerun after resuming) replaces it only once the new
// one is complete.
TEST_F(CheckpointTest, RewritingAStep) {
  ASSERT_FALSE(llvm::errorToBool(write(5, 1.0f, 8)));
  ASSERT_FALSE(llvm::errorToBool(write(5, 2.0f, 8)));
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{5, 2.0f}));
  ASSERT_FALSE(llvm::errorToBool(write(5, 3.0f, 8)));
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{5, 3.0f}));
  int stepDirs = 0;
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    stepDirs += llvm::sys::path::filename(it->path()).starts_with("step-");
  EXPECT_EQ(stepDirs, 1);
}

TEST_F(CheckpointTest, MissingOrBrokenPointer) {
  llvm::Expected<accel::io::Checkpoint> none = accel::io::readLatestCheckpoint(dir);
  ASSERT_FALSE(static_cast<bool>(none));
  EXPECT_NE(llvm::toString(none.takeError()).find("no checkpoint in"),
            std::string::npos);
  ASSERT_FALSE(llvm::errorToBool(write(1, 1.0f, 4)));
  llvm::SmallString<128> pointer(dir);
  llvm::sys::path::append(pointer, "latest");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(pointer, ec);
    os << "../elsewhere\n";
  }
  llvm::Expected<accel::io::Checkpoint> bad = accel::io::readLatestCheckpoint(dir);
  ASSERT_FALSE(static_cast<bool>(bad));
  EXPECT_NE(llvm::toString(bad.takeError()).find("does not name a checkpoint"),
            std::string::npos);
}

// A manifest nested 100,000 levels deep is refused before the JSON parser
// recurses (it overflowed the stack).
TEST_F(CheckpointTest, DeeplyNestedManifest) {
  ASSERT_FALSE(llvm::errorToBool(write(1, 1.0f, 4)));
  rewriteManifest("{\"step\": " + std::string(100000, '[') +
                  std::string(100000, ']') + "}");
  EXPECT_NE(readError().find("nest deeper than 64 levels"), std::string::npos);
}

// A manifest must agree with its directory and hold no negative position.
TEST_F(CheckpointTest, ManifestCrossChecks) {
  ASSERT_FALSE(llvm::errorToBool(write(100, 1.0f, 4)));
  rewriteManifest(R"({"step": 37, "epoch": 0, "batch_in_epoch": 0, "seed": 1})");
  EXPECT_NE(readError().find("says step 37, but it is in 'step-000000100'"),
            std::string::npos);
  rewriteManifest(R"({"step": 100, "epoch": -1, "batch_in_epoch": 0, "seed": 1})");
  EXPECT_NE(readError().find("has a negative step, epoch"), std::string::npos);
  rewriteManifest(R"({"step": 100, "epoch": 10, "batch_in_epoch": 0, "seed": 1})");
  EXPECT_EQ(readError(), "(accepted)");
}

// A manifest written before layouts: state.safetensors of whole tensors,
// checked against its flat table of checksums; no rank count recorded.
TEST_F(CheckpointTest, ManifestsBeforeLayouts) {
  ASSERT_FALSE(llvm::errorToBool(write(5, 1.0f, 4)));
  llvm::Expected<accel::io::Checkpoint> c = accel::io::readLatestCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  uint32_t crc = c->layout.tensors[0].parts[0].crc32;
  std::string head = R"({"step": 5, "epoch": 0, "batch_in_epoch": 5, "seed": 1, )"
                     R"("state": "state.safetensors", "crc32": {"fc.weight": )";
  rewriteManifest(head + std::to_string(crc) + "}}");
  c = accel::io::readLatestCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->layout.ranks, 0);
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{5, 1.0f}));
  rewriteManifest(head + std::to_string(crc ^ 1) + "}}");
  EXPECT_NE(readError().find("is corrupt: \"fc.weight\""), std::string::npos)
      << readError();
  // A step directory given with a trailing separator is the same one.
  llvm::SmallString<128> stepDir(dir);
  llvm::sys::path::append(stepDir, "step-000000005");
  rewriteManifest(head + std::to_string(crc) + "}}");
  c = accel::io::readCheckpointAt((stepDir + "/").str());
  EXPECT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
}

// A writer killed at any moment leaves either the previous checkpoint or the
// complete new one, never a torn state; the next write recovers.
TEST_F(CheckpointTest, KilledWriterLeavesAValidCheckpoint) {
  ASSERT_FALSE(llvm::errorToBool(write(1, 1.0f, 1 << 10)));
  for (int delayMs : {0, 1, 5, 20, 60, 150, 0, 5, 20}) {
    pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      // 64 MiB of state, so the kill lands mid-write for most delays; the
      // later rounds rewrite step 2 over a complete step 2.
      llvm::Error e = write(2, 2.0f, size_t(16) << 20);
      _exit(llvm::errorToBool(std::move(e)) ? 1 : 0);
    }
    usleep(delayMs * 1000);
    kill(child, SIGKILL);
    int status;
    waitpid(child, &status, 0);
    std::pair<int64_t, float> seen = latest();
    EXPECT_TRUE(seen == (std::pair<int64_t, float>{1, 1.0f}) ||
                seen == (std::pair<int64_t, float>{2, 2.0f}))
        << "after a kill at " << delayMs << " ms: step " << seen.first;
  }
  ASSERT_FALSE(llvm::errorToBool(write(3, 3.0f, 1 << 10)));
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{3, 3.0f}));
  // The next write cleared what the killed writers left.
  std::error_code ec;
  for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
       it.increment(ec))
    EXPECT_FALSE(llvm::sys::path::filename(it->path()).ends_with(".tmp"))
        << it->path();
}

// A flipped bit in a tensor is caught by its CRC-32; resuming passes over
// the corrupt checkpoint to the newest intact one and says so.
TEST_F(CheckpointTest, ChecksumsAndFallback) {
  ASSERT_FALSE(llvm::errorToBool(write(4, 4.0f, 64)));
  ASSERT_FALSE(llvm::errorToBool(write(5, 5.0f, 64)));
  llvm::SmallString<128> state(dir);
  llvm::sys::path::append(state, "step-000000005", "state.safetensors");
  flipLastByte(state);
  EXPECT_NE(readError().find("state.safetensors' is corrupt: \"fc.weight\" "
                             "has CRC-32"),
            std::string::npos)
      << readError();
  std::vector<std::string> rejected;
  llvm::Expected<accel::io::Checkpoint> c =
      accel::io::readNewestIntactCheckpoint(dir, rejected);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->manifest.step, 4);
  ASSERT_EQ(rejected.size(), 1u);
  EXPECT_NE(rejected[0].find("is corrupt"), std::string::npos);

  // With every checkpoint corrupt the error lists each.
  llvm::SmallString<128> manifest(dir);
  llvm::sys::path::append(manifest, "step-000000004", "manifest.json");
  {
    std::error_code ec;
    llvm::raw_fd_ostream os(manifest, ec);
    ASSERT_FALSE(ec);
    os << "{";
  }
  rejected.clear();
  c = accel::io::readNewestIntactCheckpoint(dir, rejected);
  ASSERT_FALSE(static_cast<bool>(c));
  std::string message = llvm::toString(c.takeError());
  EXPECT_NE(message.find("no intact checkpoint in"), std::string::npos);
  EXPECT_NE(message.find("is corrupt"), std::string::npos);
  EXPECT_NE(message.find("is not valid JSON"), std::string::npos);
}

// A reader that needs only some files reads and checks only those (a
// corrupt file it does not need goes unnoticed); `atMostStep` passes over
// newer checkpoints without reading them.
TEST_F(CheckpointTest, SelectiveReadsAndStepBound) {
  ASSERT_FALSE(llvm::errorToBool(write(4, 4.0f, 64)));
  ASSERT_FALSE(llvm::errorToBool(write(5, 5.0f, 64)));
  llvm::SmallString<128> state(dir);
  llvm::sys::path::append(state, "step-000000005", "state.safetensors");
  flipLastByte(state);
  std::vector<std::string> rejected;
  accel::io::NeededFiles none = [](const accel::io::CheckpointLayout &layout) {
    return std::vector<bool>(layout.files.size(), false);
  };
  llvm::Expected<accel::io::Checkpoint> c =
      accel::io::readNewestIntactCheckpoint(dir, rejected, none);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->manifest.step, 5);
  EXPECT_TRUE(rejected.empty());
  EXPECT_EQ(c->loaded, std::vector<bool>{false});
  // Needed, the corrupt file sends the reader to step 4.
  c = accel::io::readNewestIntactCheckpoint(dir, rejected);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->manifest.step, 4);
  EXPECT_EQ(c->loaded, std::vector<bool>{true});
  // Bounded at step 4, step 5 is not even read.
  rejected.clear();
  c = accel::io::readNewestIntactCheckpoint(dir, rejected, nullptr, 4);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->manifest.step, 4);
  EXPECT_TRUE(rejected.empty());
  c = accel::io::readNewestIntactCheckpoint(dir, rejected, nullptr, 3);
  ASSERT_FALSE(static_cast<bool>(c));
  EXPECT_NE(llvm::toString(c.takeError()).find("at step 3 or before"),
            std::string::npos);
}

// The committer trusts the checksums the writers took when they read
// their files back: a file damaged after that is published with the
// checksum of what was written, so the reader catches the damage.
TEST_F(CheckpointTest, CommitTakesTheWritersChecksums) {
  std::vector<accel::io::StateTensorSpec> specs = {
      {"w", "param", accel::io::DType::F32, {8}, true}};
  accel::io::CheckpointLayout layout =
      accel::io::checkpointLayout(specs, 2, "fsdp");
  std::vector<float> w = {0, 1, 2, 3, 4, 5, 6, 7};
  auto bytes = [&](const accel::io::StateTensor &,
                   const accel::io::TensorPart &part) {
    return llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(w.data() + part.begin),
        (part.end - part.begin) * 4);
  };
  ASSERT_FALSE(llvm::errorToBool(accel::io::beginCheckpoint(dir, 3)));
  std::vector<accel::io::PartChecksums> checksums;
  for (size_t f = 0; f < 2; ++f) {
    llvm::Expected<accel::io::PartChecksums> crcs =
        accel::io::writeCheckpointFile(dir, 3, layout, f, bytes);
    ASSERT_TRUE(static_cast<bool>(crcs)) << llvm::toString(crcs.takeError());
    checksums.push_back(std::move(*crcs));
  }
  llvm::SmallString<128> file(dir);
  llvm::sys::path::append(file, ".step-000000003.tmp",
                          "rank-00001-of-00002.safetensors");
  flipLastByte(file);
  CheckpointManifest m;
  m.step = 3;
  ASSERT_FALSE(llvm::errorToBool(
      accel::io::commitCheckpoint(dir, layout, m, checksums)));
  EXPECT_NE(readError().find("rank-00001-of-00002.safetensors' is corrupt"),
            std::string::npos)
      << readError();
}

TEST_F(CheckpointTest, PruneKeepsTheNewest) {
  for (int64_t step = 1; step <= 5; ++step)
    ASSERT_FALSE(llvm::errorToBool(write(step, 1.0f, 4)));
  ASSERT_FALSE(llvm::errorToBool(accel::io::pruneCheckpoints(dir, 0)));
  auto names = [&] {
    std::vector<std::string> found;
    std::error_code ec;
    for (llvm::sys::fs::directory_iterator it(dir, ec), end; it != end && !ec;
         it.increment(ec))
      found.push_back(llvm::sys::path::filename(it->path()).str());
    std::sort(found.begin(), found.end());
    return found;
  };
  EXPECT_EQ(names().size(), 6u); // five steps and `latest`
  ASSERT_FALSE(llvm::errorToBool(accel::io::pruneCheckpoints(dir, 2)));
  EXPECT_EQ(names(), (std::vector<std::string>{"latest", "step-000000004",
                                               "step-000000005"}));
  EXPECT_EQ(latest(), (std::pair<int64_t, float>{5, 1.0f}));
}

// Three ranks, each writing its own file: a sharded tensor of 10 elements
// (shards of 4, 4, 2), one too small for every rank to hold a part (1
// element), and a whole one in rank 0's file. Read back as whole tensors
// and as ranges across parts.
TEST_F(CheckpointTest, ShardedLayout) {
  using accel::io::StateTensorSpec;
  std::vector<StateTensorSpec> specs = {
      {"w", "param", DType::F32, {2, 5}, true},
      {"w.exp_avg", "opt_state", DType::F32, {1}, true},
      {"running_mean", "buffer", DType::F32, {3}, false}};
  accel::io::CheckpointLayout layout =
      accel::io::checkpointLayout(specs, 3, "fsdp");
  ASSERT_EQ(layout.files.size(), 3u);
  EXPECT_EQ(layout.files[2], "rank-00002-of-00003.safetensors");
  ASSERT_EQ(layout.tensors[0].parts.size(), 3u);
  EXPECT_EQ(layout.tensors[0].parts[2].begin, 8);
  EXPECT_EQ(layout.tensors[0].parts[2].end, 10);
  EXPECT_TRUE(layout.tensors[1].whole()); // rank 0 holds its one element
  EXPECT_TRUE(layout.tensors[2].whole());

  // Element e of "w" is e; of the others 100 + e.
  std::vector<float> w(10), avg = {100}, mean = {100, 101, 102};
  for (int e = 0; e < 10; ++e)
    w[e] = static_cast<float>(e);
  auto bytes = [&](const accel::io::StateTensor &t,
                   const accel::io::TensorPart &part) {
    const std::vector<float> &v =
        t.name == "w" ? w : t.name == "w.exp_avg" ? avg : mean;
    return llvm::ArrayRef<uint8_t>(
        reinterpret_cast<const uint8_t *>(v.data() + part.begin),
        (part.end - part.begin) * 4);
  };
  CheckpointManifest m;
  m.step = 6;
  // As MPI ranks do it: begin, each file on its own, commit.
  ASSERT_FALSE(llvm::errorToBool(accel::io::beginCheckpoint(dir, 6)));
  std::vector<accel::io::PartChecksums> checksums;
  for (size_t f = 0; f < 3; ++f) {
    llvm::Expected<accel::io::PartChecksums> crcs =
        accel::io::writeCheckpointFile(dir, 6, layout, f, bytes);
    ASSERT_TRUE(static_cast<bool>(crcs)) << llvm::toString(crcs.takeError());
    EXPECT_EQ(crcs->size(), accel::io::partsInFile(layout, f));
    checksums.push_back(std::move(*crcs));
  }
  // The committer takes the writers' checksums (one list per file) and
  // reads no file.
  std::vector<accel::io::PartChecksums> short_(checksums.begin(),
                                               checksums.begin() + 2);
  EXPECT_NE(llvm::toString(accel::io::commitCheckpoint(dir, layout, m, short_))
                .find("2 files' checksums for 3 files"),
            std::string::npos);
  ASSERT_FALSE(llvm::errorToBool(
      accel::io::commitCheckpoint(dir, layout, m, checksums)));

  llvm::Expected<accel::io::Checkpoint> c = accel::io::readLatestCheckpoint(dir);
  ASSERT_TRUE(static_cast<bool>(c)) << llvm::toString(c.takeError());
  EXPECT_EQ(c->layout.ranks, 3);
  EXPECT_EQ(c->layout.strategy, "fsdp");
  const accel::io::StateTensor *t = c->layout.find("w");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 5}));
  EXPECT_EQ(t->role, "param");
  std::vector<float> got(10, -1);
  c->read(*t, 0, 10, reinterpret_cast<uint8_t *>(got.data()));
  EXPECT_EQ(got, w);
  // Elements 3..8 span all three files: another rank count's shard.
  std::vector<float> range(5, -1);
  c->read(*t, 3, 8, reinterpret_cast<uint8_t *>(range.data()));
  EXPECT_EQ(range, (std::vector<float>{3, 4, 5, 6, 7}));
  float one = -1;
  c->read(*c->layout.find("w.exp_avg"), 0, 1, reinterpret_cast<uint8_t *>(&one));
  EXPECT_EQ(one, 100);

  // A corrupt part names its file; a missing file is an error too.
  llvm::SmallString<128> file(dir);
  llvm::sys::path::append(file, "step-000000006", "rank-00001-of-00003.safetensors");
  flipLastByte(file);
  EXPECT_NE(readError().find("rank-00001-of-00003.safetensors' is corrupt: "
                             "\"w\" has CRC-32"),
            std::string::npos)
      << readError();
  ASSERT_FALSE(llvm::sys::fs::remove(file));
  EXPECT_NE(readError().find("rank-00001-of-00003.safetensors"),
            std::string::npos)
      << readError();
}

// A layout must describe files inside the step directory and parts that
// cover each tensor exactly once.
TEST_F(CheckpointTest, LayoutCrossChecks) {
  auto manifest = [](const std::string &files, const std::string &parts) {
    return R"({"step": 5, "epoch": 0, "batch_in_epoch": 0, "seed": 1, )"
           R"("ranks": 2, "strategy": "zero1", "files": )" +
           files + R"(, "tensors": [{"name": "w", "role": "opt_state", )"
                   R"("dtype": "F32", "shape": [2, 3], "parts": )" +
           parts + "}]}";
  };
  auto parse = [](const std::string &text) {
    llvm::Expected<accel::io::ParsedManifest> m =
        accel::io::parseManifest(text, "step-000000005", "manifest.json");
    return m ? std::string("(accepted)") : llvm::toString(m.takeError());
  };
  std::string two = R"(["a.safetensors", "b.safetensors"])";
  EXPECT_EQ(parse(manifest(two, "[[0, 0, 3, 7], [1, 3, 6, 9]]")), "(accepted)");
  EXPECT_NE(parse(manifest(R"(["../a.safetensors", "b.safetensors"])",
                           "[[0, 0, 6, 7]]"))
                .find("not a plain, unique"),
            std::string::npos);
  EXPECT_NE(parse(manifest(two, "[[0, 0, 3, 7], [1, 4, 6, 9]]"))
                .find("contiguous over its elements"),
            std::string::npos);
  EXPECT_NE(parse(manifest(two, "[[0, 0, 3, 7], [2, 3, 6, 9]]"))
                .find("contiguous over its elements"),
            std::string::npos);
  EXPECT_NE(parse(manifest(two, "[[0, 0, 3, 7]]")).find("cover 3 of its 6"),
            std::string::npos);
  EXPECT_NE(parse(manifest(two, "[[0, 0, 3, 7], [0, 3, 6, 9]]"))
                .find("two parts of \"w\" lie in one file"),
            std::string::npos);
  EXPECT_NE(parse(manifest(R"(["a.safetensors"])", "[[0, 0, 6, 4294967296]]"))
                .find("contiguous over its elements"),
            std::string::npos);
}

} // namespace
