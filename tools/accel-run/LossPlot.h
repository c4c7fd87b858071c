//===- LossPlot.h - loss curves as SVG --------------------------*- C++ -*-===//
//
// The loss-curve plot accel-run writes beside its metrics, and accel-plot
// draws from several metrics files: labelled axes with ticks, one curve per
// run with a legend, evaluation accuracy marks and the steps that loss
// scaling skipped.
//
//===----------------------------------------------------------------------===//

#ifndef ACCEL_TOOLS_ACCEL_RUN_LOSSPLOT_H
#define ACCEL_TOOLS_ACCEL_RUN_LOSSPLOT_H

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/Error.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace accel::run {

/// One run's curve: (step, loss) points (non-finite losses are gaps),
/// (step, accuracy) evaluations and skipped steps.
struct LossSeries {
  std::string label;
  std::vector<std::pair<int64_t, double>> losses;
  std::vector<std::pair<int64_t, double>> evals;
  std::vector<int64_t> skipped;
};

/// Reads accel-run's metrics JSONL ("loss" null for a non-finite step).
llvm::Expected<LossSeries> readMetrics(llvm::StringRef path,
                                       llvm::StringRef label);

/// Writes the curves of `series` (at least one) as an SVG file; with
/// `logLoss` the loss axis is logarithmic (when every loss is positive), so
/// a large first loss does not flatten the rest of the curve.
llvm::Error writeLossPlot(llvm::StringRef path, llvm::StringRef title,
                          const std::vector<LossSeries> &series,
                          bool logLoss = false);

} // namespace accel::run

#endif // ACCEL_TOOLS_ACCEL_RUN_LOSSPLOT_H
