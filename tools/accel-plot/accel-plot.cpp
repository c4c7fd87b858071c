//===- accel-plot.cpp - loss curves of several runs -----------------------===//
//
//   accel-plot LABEL=METRICS.jsonl [LABEL=METRICS.jsonl ...] -o CURVES.svg
//             [--title TEXT] [--log-loss]
//
// Draws the loss curves of accel-run metrics files on one set of axes
// (e.g. the same model trained in fp32, bf16 and fp16), with evaluation
// accuracy marks and skipped loss-scaling steps.
//
//===----------------------------------------------------------------------===//

#include "tools/accel-run/LossPlot.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/WithColor.h"

using namespace llvm;

static cl::list<std::string> runs(cl::Positional, cl::OneOrMore,
                                  cl::desc("LABEL=METRICS.jsonl..."));
static cl::opt<std::string> output("o", cl::Required, cl::desc("Output SVG"),
                                   cl::value_desc("CURVES.svg"));
static cl::opt<std::string> title("title", cl::desc("Plot title"),
                                  cl::init("training loss"));
static cl::opt<bool> logLoss("log-loss",
                             cl::desc("Logarithmic loss axis (positive losses)"));
static cl::opt<bool> noEvals(
    "no-evals", cl::desc("Leave out the evaluation marks (many runs with "
                         "many evaluations crowd the plot)"));

int main(int argc, char **argv) {
  InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv,
                              "accel-plot: loss curves of accel-run metrics\n");
  std::vector<accel::run::LossSeries> series;
  for (const std::string &spec : runs) {
    auto [label, file] = StringRef(spec).split('=');
    if (file.empty()) {
      WithColor::error(errs(), "accel-plot")
          << "expected LABEL=METRICS.jsonl, got '" << spec << "'\n";
      return 1;
    }
    Expected<accel::run::LossSeries> s = accel::run::readMetrics(file, label);
    if (!s) {
      WithColor::error(errs(), "accel-plot") << toString(s.takeError()) << "\n";
      return 1;
    }
    if (noEvals)
      s->evals.clear();
    series.push_back(std::move(*s));
  }
  if (Error e = accel::run::writeLossPlot(output, title, series, logLoss)) {
    WithColor::error(errs(), "accel-plot") << toString(std::move(e)) << "\n";
    return 1;
  }
  return 0;
}
