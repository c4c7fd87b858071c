//===- BoundedJson.cpp - JSON parsing with a nesting limit ----------------===//

#include "runtime/io/BoundedJson.h"

namespace accel::io {

llvm::Expected<llvm::json::Value> parseBoundedJson(llvm::StringRef text,
                                                   unsigned maxDepth) {
  unsigned depth = 0;
  bool inString = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (inString) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        inString = false;
      continue;
    }
    if (c == '"') {
      inString = true;
    } else if (c == '[' || c == '{') {
      if (++depth > maxDepth)
        return llvm::createStringError(
            llvm::inconvertibleErrorCode(),
            "arrays and objects nest deeper than %u levels (at byte %zu)",
            maxDepth, i);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return llvm::json::parse(text);
}

} // namespace accel::io
