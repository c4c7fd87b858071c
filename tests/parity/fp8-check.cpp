//===- fp8-check.cpp - accel's FP8 conversions against given codes --------===//
//
//   <lines "FLOAT_BITS E4M3_CODE E5M2_CODE" (hex)> | fp8-check
//
// Converts each float with accel's casts (runtime/cpu/Float8.h) and
// compares with the codes given, which the test takes from PyTorch's
// `x.to(torch.float8_e4m3fn / float8_e5m2)`. Any NaN code matches any NaN.
// Prints each mismatch and a summary; exits 1 on a mismatch.
//
//===----------------------------------------------------------------------===//

#include "runtime/cpu/Float8.h"

#include <cstdio>

using namespace accel::rt::cpu;

int main() {
  unsigned bits, e4m3, e5m2;
  long values = 0, bad = 0;
  while (std::scanf("%x %x %x", &bits, &e4m3, &e5m2) == 3) {
    ++values;
    float f = bitsFloat(bits);
    unsigned mine4 = floatToE4M3(f), mine5 = floatToE5M2(f);
    bool nan4 = (mine4 & 0x7f) == 0x7f && (e4m3 & 0x7f) == 0x7f;
    bool nan5 = (mine5 & 0x7c) == 0x7c && (mine5 & 3) && (e5m2 & 0x7c) == 0x7c &&
                (e5m2 & 3);
    if ((mine4 != e4m3 && !nan4) || (mine5 != e5m2 && !nan5)) {
      if (++bad <= 20)
        std::printf("mismatch: %.9g (0x%08x): e4m3 0x%02x, torch 0x%02x; "
                    "e5m2 0x%02x, torch 0x%02x\n",
                    f, bits, mine4, e4m3, mine5, e5m2);
    }
  }
  std::printf("%ld values, %ld mismatches\n", values, bad);
  return bad || values == 0 ? 1 : 0;
}
