//===- PickleCheck.cpp - a pickle's structure checked first ---------------===//

#include "compiler/support/PickleCheck.h"

#include <cstdio>
#include <optional>
#include <vector>

namespace accel {

namespace {

/// How an opcode's argument is laid out (pickletools' argument descriptors).
enum class Argument {
  None,
  Fixed,    // `bytes` bytes
  Counted,  // a `bytes`-byte little-endian count, then that many bytes
  Frame,    // an 8-byte frame length (the frame's opcodes follow)
  Memo,     // a `bytes`-byte little-endian memo index
  Line,     // up to and including a newline
  MemoLine, // PUT and GET: a decimal memo index on a line
  TwoLines, // GLOBAL and INST: module and name
};

enum class MemoUse { None, Put, Get, PutNext };

/// An opcode's argument and what it does to the stack: pops to the top
/// mark first when `toMark`, then pops `pops` objects and pushes `pushes`.
struct Opcode {
  Argument argument = Argument::None;
  unsigned bytes = 0;
  bool toMark = false;
  unsigned pops = 0, pushes = 0;
  MemoUse memo = MemoUse::None;
};

Opcode stack(unsigned pops, unsigned pushes, bool toMark = false) {
  Opcode op;
  op.pops = pops;
  op.pushes = pushes;
  op.toMark = toMark;
  return op;
}

Opcode argument(Argument kind, unsigned bytes, unsigned pushes,
                MemoUse memo = MemoUse::None) {
  Opcode op;
  op.argument = kind;
  op.bytes = bytes;
  op.pushes = pushes;
  op.memo = memo;
  if (memo == MemoUse::Put)
    op.pops = 1; // PUT stores the top and leaves it there
  return op;
}

/// The opcode `code`, or nullopt for a byte that is none (MARK and STOP are
/// handled by the caller).
std::optional<Opcode> opcode(uint8_t code) {
  switch (code) {
  case '0': // POP
    return stack(1, 0);
  case '1': // POP_MARK
    return stack(0, 0, /*toMark=*/true);
  case '2': // DUP
    return stack(1, 2);
  case 'N': case 0x88: case 0x89: // NONE, NEWTRUE, NEWFALSE
  case ')': case ']': case '}': case 0x8f: // the empty containers
  case 0x97: // NEXT_BUFFER
    return stack(0, 1);
  case 'R': case 'a': case 'b': case 0x81: case 0x93: case 0x86:
    // REDUCE, APPEND, BUILD, NEWOBJ, STACK_GLOBAL, TUPLE2
    return stack(2, 1);
  case 's': case 0x92: case 0x87: // SETITEM, NEWOBJ_EX, TUPLE3
    return stack(3, 1);
  case 'd': case 'l': case 't': case 0x91: case 'o':
    // DICT, LIST, TUPLE, FROZENSET, OBJ
    return stack(0, 1, /*toMark=*/true);
  case 'e': case 'u': case 0x90: // APPENDS, SETITEMS, ADDITEMS: into the
    return stack(1, 1, /*toMark=*/true); // container below the mark
  case 'Q': case 0x85: case 0x98: // BINPERSID, TUPLE1, READONLY_BUFFER
    return stack(1, 1);
  case 0x94: { // MEMOIZE
    Opcode op = stack(1, 1);
    op.memo = MemoUse::PutNext;
    return op;
  }
  case 0x80: // PROTO
    return argument(Argument::Fixed, 1, 0);
  case 'K': case 0x82: // BININT1, EXT1
    return argument(Argument::Fixed, 1, 1);
  case 'M': case 0x83: // BININT2, EXT2
    return argument(Argument::Fixed, 2, 1);
  case 'J': case 0x84: // BININT, EXT4
    return argument(Argument::Fixed, 4, 1);
  case 'G': // BINFLOAT
    return argument(Argument::Fixed, 8, 1);
  case 'U': case 'C': case 0x8c: case 0x8a:
    // SHORT_BINSTRING, SHORT_BINBYTES, SHORT_BINUNICODE, LONG1
    return argument(Argument::Counted, 1, 1);
  case 'T': case 'B': case 'X': case 0x8b:
    // BINSTRING, BINBYTES, BINUNICODE, LONG4
    return argument(Argument::Counted, 4, 1);
  case 0x8d: case 0x8e: case 0x96: // BINUNICODE8, BINBYTES8, BYTEARRAY8
    return argument(Argument::Counted, 8, 1);
  case 0x95: // FRAME
    return argument(Argument::Frame, 8, 0);
  case 'q': // BINPUT
    return argument(Argument::Memo, 1, 1, MemoUse::Put);
  case 'r': // LONG_BINPUT
    return argument(Argument::Memo, 4, 1, MemoUse::Put);
  case 'h': // BINGET
    return argument(Argument::Memo, 1, 1, MemoUse::Get);
  case 'j': // LONG_BINGET
    return argument(Argument::Memo, 4, 1, MemoUse::Get);
  case 'I': case 'L': case 'F': case 'S': case 'V': case 'P':
    // INT, LONG, FLOAT, STRING, UNICODE, PERSID
    return argument(Argument::Line, 0, 1);
  case 'p': // PUT
    return argument(Argument::MemoLine, 0, 1, MemoUse::Put);
  case 'g': // GET
    return argument(Argument::MemoLine, 0, 1, MemoUse::Get);
  case 'c': // GLOBAL
    return argument(Argument::TwoLines, 0, 1);
  case 'i': { // INST: module and name, arguments above the mark
    Opcode op = argument(Argument::TwoLines, 0, 1);
    op.toMark = true;
    return op;
  }
  default:
    return std::nullopt;
  }
}

uint64_t readLittleEndian(const uint8_t *p, unsigned bytes) {
  uint64_t v = 0;
  for (unsigned i = 0; i < bytes; ++i)
    v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

} // namespace

llvm::Error checkPickle(llvm::StringRef pickle, llvm::StringRef name) {
  const auto *data = reinterpret_cast<const uint8_t *>(pickle.data());
  const uint64_t size = pickle.size();
  uint64_t at = 0;
  auto fail = [&](const llvm::Twine &what) {
    char code[8];
    std::snprintf(code, sizeof code, "0x%02x", data[at]);
    return llvm::createStringError(llvm::inconvertibleErrorCode(),
                                   "'" + name +
                                       "' is not a well-formed pickle: opcode " +
                                       code + " at byte " + llvm::Twine(at) +
                                       " " + what);
  };
  // Objects above each mark; levels[0] is below every mark.
  std::vector<uint64_t> levels{0};
  // Memo slots stored so far (indices are below `size`, checked).
  std::vector<bool> stored(size);
  uint64_t memoEntries = 0;

  while (at < size) {
    uint8_t code = data[at];
    if (code == '(') { // MARK
      levels.push_back(0);
      ++at;
      continue;
    }
    if (code == '.') { // STOP
      if (levels.size() != 1 || levels[0] != 1)
        return fail("(STOP) leaves " + llvm::Twine(levels.back()) +
                    " objects and " + llvm::Twine(levels.size() - 1) +
                    " marks; one object and no mark are the result");
      return llvm::Error::success();
    }
    std::optional<Opcode> op = opcode(code);
    if (!op)
      return llvm::Error::success(); // the unpickler reports it

    // The argument.
    uint64_t next = at + 1, remaining = size - next;
    std::optional<uint64_t> memoIndex;
    switch (op->argument) {
    case Argument::None:
      break;
    case Argument::Fixed:
    case Argument::Counted:
    case Argument::Frame:
    case Argument::Memo: {
      if (remaining < op->bytes)
        return fail("is cut off by the end of the pickle");
      uint64_t value = readLittleEndian(data + next, op->bytes);
      next += op->bytes;
      remaining -= op->bytes;
      if (op->argument == Argument::Counted) {
        // BINSTRING's and LONG4's counts are signed.
        if ((code == 'T' || code == 0x8b) && (value >> 31))
          return fail("claims a negative length");
        if (value > remaining)
          return fail("claims " + llvm::Twine(value) + " bytes, " +
                      llvm::Twine(remaining) + " remain");
        next += value;
      }
      if (op->argument == Argument::Frame && value > remaining)
        return fail("frames " + llvm::Twine(value) + " bytes, " +
                    llvm::Twine(remaining) + " remain");
      if (op->argument == Argument::Memo)
        memoIndex = value;
      break;
    }
    case Argument::Line:
    case Argument::MemoLine:
    case Argument::TwoLines: {
      size_t end = pickle.find('\n', next);
      if (end != llvm::StringRef::npos && op->argument == Argument::TwoLines)
        end = pickle.find('\n', end + 1);
      if (end == llvm::StringRef::npos)
        return fail("has no end of line");
      if (op->argument == Argument::MemoLine) {
        uint64_t index;
        if (pickle.slice(next, end).trim().getAsInteger(10, index))
          return fail("has no decimal memo index");
        memoIndex = index;
      }
      next = end + 1;
      break;
    }
    }

    // The stack.
    if (op->toMark) {
      if (levels.size() == 1)
        return fail("needs a mark and the stack has none");
      levels.pop_back();
    }
    if (levels.back() < op->pops)
      return fail("pops " + llvm::Twine(op->pops) + " objects and " +
                  llvm::Twine(levels.back()) + " are above the mark");
    levels.back() += op->pushes;
    levels.back() -= op->pops;

    // The memo. A pickle stores fewer objects than it has bytes: a larger
    // index only makes the unpickler grow its table.
    if (op->memo == MemoUse::PutNext)
      memoIndex = memoEntries;
    if (memoIndex && *memoIndex >= size)
      return fail("uses memo index " + llvm::Twine(*memoIndex) + " in a " +
                  llvm::Twine(size) + "-byte pickle");
    if (op->memo == MemoUse::Get && !stored[*memoIndex])
      return fail("reads memo index " + llvm::Twine(*memoIndex) +
                  ", which nothing stored");
    if ((op->memo == MemoUse::Put || op->memo == MemoUse::PutNext) &&
        !stored[*memoIndex]) {
      stored[*memoIndex] = true;
      ++memoEntries;
    }
    at = next;
  }
  return llvm::Error::success(); // no STOP: the unpickler reports the end
}

} // namespace accel
