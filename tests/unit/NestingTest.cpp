//===- NestingTest.cpp - bracket depth before parsing ---------------------===//

#include "compiler/support/Nesting.h"

#include <gtest/gtest.h>

#include <string>

using accel::checkNesting;
using accel::SourceSyntax;

namespace {

/// The error for `text` with a limit of 3, or "" when it is accepted.
std::string check(const std::string &text, SourceSyntax syntax) {
  llvm::Error e = checkNesting(text, "in.mlir", syntax, 3);
  return e ? llvm::toString(std::move(e)) : "";
}

TEST(Nesting, CountsEveryBracketKind) {
  EXPECT_EQ(check("{ [ ( ) ] }", SourceSyntax::Mlir), "");
  EXPECT_EQ(check("tensor<4x4xf32> { [ (x) ] }", SourceSyntax::Mlir), "");
  EXPECT_EQ(check("{ [ ( < > ) ] }", SourceSyntax::Mlir),
            "'in.mlir' nests brackets more than 3 deep (line 1, column 7); "
            "no program needs that, and parsing it would overflow the "
            "parser's stack");
  // The position is the line and column of the first bracket too deep.
  std::string message = check("{\n  {\n    {\n      [1]}}}", SourceSyntax::Mlir);
  EXPECT_NE(message.find("(line 4, column 7)"), std::string::npos) << message;
}

TEST(Nesting, SkipsStringsCommentsAndArrows) {
  EXPECT_EQ(check(R"("[[[[" // [[[[
{ (a) -> (b) } "\"[[[[" )", SourceSyntax::Mlir),
            "");
  // `->` closes nothing, so it cannot hide depth either.
  EXPECT_NE(check("<<<-><", SourceSyntax::Mlir), "");
  // In Python, < and > are comparisons, # starts a comment and either
  // quote a string.
  EXPECT_EQ(check("if a < b < c < d: f('((((', \"[[[[\") # ((((", SourceSyntax::Python),
            "");
  EXPECT_NE(check("f(((((x)))))", SourceSyntax::Python), "");
}

TEST(Nesting, ClosingMoreThanOpenedDoesNotHideDepth) {
  EXPECT_NE(check("]]]] [[[[", SourceSyntax::Mlir), "");
}

} // namespace
