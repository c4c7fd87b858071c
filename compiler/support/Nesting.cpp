//===- Nesting.cpp - bracket depth of source text -------------------------===//

#include "compiler/support/Nesting.h"

namespace accel {

llvm::Error checkNesting(llvm::StringRef text, llvm::StringRef name,
                         SourceSyntax syntax, unsigned limit) {
  bool mlir = syntax == SourceSyntax::Mlir;
  unsigned depth = 0, line = 1;
  size_t lineStart = 0;
  char quote = 0; // the open string's quote character
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      lineStart = i + 1;
    }
    if (quote) {
      if (c == '\\')
        ++i; // the escaped character
      else if (c == quote)
        quote = 0;
      continue;
    }
    bool comment = mlir ? c == '/' && i + 1 < text.size() && text[i + 1] == '/'
                        : c == '#';
    if (comment) {
      size_t end = text.find('\n', i);
      i = (end == llvm::StringRef::npos ? text.size() : end) - 1;
      continue;
    }
    if (c == '"' || (!mlir && c == '\'')) {
      quote = c;
      continue;
    }
    bool open = c == '(' || c == '[' || c == '{' || (mlir && c == '<');
    bool close = c == ')' || c == ']' || c == '}' ||
                 (mlir && c == '>' && (i == 0 || text[i - 1] != '-'));
    if (close && depth > 0)
      --depth;
    if (open && ++depth > limit)
      return llvm::createStringError(
          llvm::inconvertibleErrorCode(),
          "'" + name + "' nests brackets more than " + llvm::Twine(limit) +
              " deep (line " + llvm::Twine(line) + ", column " +
              llvm::Twine(i - lineStart + 1) +
              "); no program needs that, and parsing it would overflow the "
              "parser's stack");
  }
  return llvm::Error::success();
}

} // namespace accel
