//===- PickleCheckTest.cpp - pickles checked before LibTorch reads them ---===//

#include "compiler/support/PickleCheck.h"

#include "gtest/gtest.h"

#include <string>

namespace accel {
namespace {

/// The bytes of a literal, NULs included.
template <size_t N> std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

std::string check(const std::string &pickle) {
  llvm::Error e = checkPickle(pickle, "test.pkl");
  return e ? llvm::toString(std::move(e)) : "";
}

// Protocol 2, as torch.save writes it: GLOBAL, BINPUT 0, MARK,
// BINUNICODE "abc", LONG_BINPUT 1, BININT1 7, BINGET 0, TUPLE, REDUCE, STOP.
const std::string kWellFormed =
    bytes("\x80\x02" "ctorch._utils\n_rebuild_tensor_v2\nq\x00("
          "X\x03\x00\x00\x00" "abcr\x01\x00\x00\x00K\x07h\x00tR.");

TEST(PickleCheckTest, AcceptsAWellFormedPickle) {
  EXPECT_EQ(check(kWellFormed), "");
  // Bytes after STOP are not read.
  EXPECT_EQ(check(kWellFormed + "X\xff\xff\xff\xff"), "");
  // MEMOIZE (protocol 4) stores at the next free index.
  EXPECT_EQ(check(bytes("N\x94\x30h\x00.")), "");
}

TEST(PickleCheckTest, RejectsALengthBeyondTheData) {
  // BINUNICODE claiming 0xf8000000 bytes with 4 left.
  EXPECT_EQ(check(bytes("\x80\x02X\x00\x00\x00\xf8" "abc.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x58 at byte 2 "
            "claims 4160749568 bytes, 4 remain");
  EXPECT_NE(check(bytes("\x8e\xff\xff\xff\xff\xff\xff\xff\x7f.")), "");
  EXPECT_NE(check(bytes("\x8c\x05" "abcd")), "");
  EXPECT_EQ(check(bytes("T\xff\xff\xff\xff.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x54 at byte 0 "
            "claims a negative length");
  // A frame longer than the pickle.
  EXPECT_NE(check(bytes("\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00.")), "");
}

TEST(PickleCheckTest, RejectsMemoIndicesBeyondThePickleOrNeverStored) {
  EXPECT_EQ(check(bytes("N\x72\x00\x00\x00\xf0.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x72 at byte 1 "
            "uses memo index 4026531840 in a 7-byte pickle");
  EXPECT_NE(check(bytes("Np99999999\n.")), "");
  EXPECT_EQ(check(bytes("g12x\n.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x67 at byte 0 "
            "has no decimal memo index");
  EXPECT_EQ(check(bytes("Nq\x00h\x01.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x68 at byte 3 "
            "reads memo index 1, which nothing stored");
  EXPECT_EQ(check(bytes("Np0\n0g0\n.")), "");
}

TEST(PickleCheckTest, RejectsPopsTheStackCannotServe) {
  // TUPLE3 of two objects: LibTorch's unpickler would pop an empty vector.
  EXPECT_EQ(check(bytes("\x80\x02K\x00K\x00\x87.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x87 at byte 6 "
            "pops 3 objects and 2 are above the mark");
  // Objects below a mark are out of reach.
  EXPECT_NE(check(bytes("NN(\x86.")), "");
  EXPECT_EQ(check(bytes("]Ne.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x65 at byte 2 "
            "needs a mark and the stack has none");
  // APPENDS needs the list below its mark.
  EXPECT_NE(check(bytes("(Ne.")), "");
  EXPECT_EQ(check(bytes("NN.")),
            "'test.pkl' is not a well-formed pickle: opcode 0x2e at byte 2 "
            "(STOP) leaves 2 objects and 0 marks; one object and no mark are "
            "the result");
  EXPECT_NE(check(bytes("(N.")), "");
  EXPECT_NE(check(bytes(".")), "");
}

TEST(PickleCheckTest, RejectsArgumentsCutOff) {
  EXPECT_EQ(check(bytes("J\x01\x02")),
            "'test.pkl' is not a well-formed pickle: opcode 0x4a at byte 0 "
            "is cut off by the end of the pickle");
  EXPECT_EQ(check("ctorch._utils\n_rebuild"),
            "'test.pkl' is not a well-formed pickle: opcode 0x63 at byte 0 "
            "has no end of line");
}

TEST(PickleCheckTest, LeavesUnknownOpcodesAndMissingStopToTheUnpickler) {
  EXPECT_EQ(check(bytes("\xff" "X\xff\xff\xff\xff")), "");
  EXPECT_EQ(check(""), "");
  EXPECT_EQ(check("N"), "");
}

} // namespace
} // namespace accel
