//===- LossPlot.cpp - loss curves as SVG ----------------------------------===//

#include "tools/accel-run/LossPlot.h"

#include "llvm/Support/Format.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <cmath>

namespace accel::run {

namespace {

llvm::Error error(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// Tick values covering [lo, hi]: about `count` multiples of 1, 2 or 5
/// times a power of ten.
std::vector<double> ticks(double lo, double hi, int count) {
  double span = hi - lo > 0 ? hi - lo : std::max(std::abs(hi), 1.0);
  double raw = span / count;
  double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * power >= raw) {
      step = m * power;
      break;
    }
  std::vector<double> out;
  for (double t = std::ceil(lo / step) * step; t <= hi + step * 1e-9; t += step)
    out.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  return out;
}

std::string escape(llvm::StringRef text) {
  std::string out;
  for (char c : text) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else if (c == '\'')
      out += "&apos;";
    else
      out += c;
  }
  return out;
}

constexpr const char *kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728",
                                   "#9467bd", "#8c564b"};

} // namespace

llvm::Expected<LossSeries> readMetrics(llvm::StringRef path,
                                       llvm::StringRef label) {
  llvm::ErrorOr<std::unique_ptr<llvm::MemoryBuffer>> file =
      llvm::MemoryBuffer::getFile(path);
  if (!file)
    return error("cannot read '" + path + "': " + file.getError().message());
  LossSeries series;
  series.label = label.str();
  llvm::SmallVector<llvm::StringRef> lines;
  (*file)->getBuffer().split(lines, '\n', -1, false);
  for (auto [n, line] : llvm::enumerate(lines)) {
    llvm::Expected<llvm::json::Value> value = llvm::json::parse(line);
    if (!value)
      return error("'" + path + "' line " + llvm::Twine(n + 1) + ": " +
                   llvm::toString(value.takeError()));
    const llvm::json::Object *o = value->getAsObject();
    std::optional<int64_t> step = o ? o->getInteger("step") : std::nullopt;
    if (!step)
      return error("'" + path + "' line " + llvm::Twine(n + 1) +
                   ": not a metrics record (no \"step\")");
    if (std::optional<double> acc = o->getNumber("eval_accuracy"))
      series.evals.push_back({*step, *acc});
    if (const llvm::json::Value *loss = o->get("loss")) {
      std::optional<double> l = loss->getAsNumber();
      series.losses.push_back({*step, l ? *l : NAN});
    }
    if (o->getBoolean("skipped").value_or(false))
      series.skipped.push_back(*step);
  }
  if (series.losses.empty())
    return error("'" + path + "' has no losses");
  return series;
}

/// Ticks of a logarithmic axis over [lo, hi] (both positive): 1, 2 and 5
/// times powers of ten, or every integer multiple when that gives too few.
std::vector<double> logTicks(double lo, double hi) {
  std::vector<double> out;
  for (const std::vector<double> &mantissas :
       {std::vector<double>{1, 2, 5}, std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8, 9}}) {
    out.clear();
    for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); ++p)
      for (double m : mantissas) {
        double t = m * std::pow(10.0, p);
        if (t >= lo && t <= hi)
          out.push_back(t);
      }
    if (out.size() >= 4)
      break;
  }
  return out;
}

llvm::Error writeLossPlot(llvm::StringRef path, llvm::StringRef title,
                          const std::vector<LossSeries> &series, bool logLoss) {
  const double width = 720, height = 420, left = 64, right = 20, top = 44,
               bottom = 52;
  int64_t firstStep = INT64_MAX, lastStep = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (const LossSeries &s : series)
    for (auto [step, loss] : s.losses) {
      firstStep = std::min(firstStep, step);
      lastStep = std::max(lastStep, step);
      if (std::isfinite(loss)) {
        lo = std::min(lo, loss);
        hi = std::max(hi, loss);
      }
    }
  if (!std::isfinite(lo)) { // nothing finite to draw: an empty frame
    lo = 0;
    hi = 1;
  }
  logLoss = logLoss && lo > 0;
  // The loss axis works on log10(loss) when logarithmic.
  auto axis = [logLoss](double v) { return logLoss ? std::log10(v) : v; };
  std::vector<double> lossTicks =
      logLoss ? logTicks(lo, hi) : ticks(lo, hi, 6);
  lo = axis(lo);
  hi = axis(hi);
  double pad = (hi - lo) * 0.05 + 1e-12;
  lo -= pad;
  hi += pad;
  if (lastStep <= firstStep)
    lastStep = firstStep + 1;
  auto x = [&](double step) {
    return left + (width - left - right) * (step - firstStep) /
                      static_cast<double>(lastStep - firstStep);
  };
  auto y = [&](double loss) {
    return (height - bottom) -
           (height - bottom - top) * (axis(loss) - lo) / (hi - lo);
  };

  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec)
    return llvm::createStringError(ec, "cannot write '" + path + "'");
  os << "<svg xmlns='http://www.w3.org/2000/svg' width='" << width
     << "' height='" << height << "' font-family='sans-serif' font-size='12'>\n"
     << "<rect width='100%' height='100%' fill='white'/>\n"
     << "<text x='" << width / 2 << "' y='22' text-anchor='middle' "
     << "font-size='15'>" << escape(title) << "</text>\n";
  // Grid, ticks and their values.
  for (double t : lossTicks) {
    os << llvm::format("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                       "stroke='#e0e0e0'/>\n",
                       left, y(t), width - right, y(t))
       << llvm::format("<text x='%.1f' y='%.1f' text-anchor='end'>%g</text>\n",
                       left - 6, y(t) + 4, t);
  }
  for (double t : ticks(firstStep, lastStep, 8)) {
    os << llvm::format("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                       "stroke='#e0e0e0'/>\n",
                       x(t), top, x(t), height - bottom)
       << llvm::format("<text x='%.1f' y='%.1f' text-anchor='middle'>%g</text>\n",
                       x(t), height - bottom + 16, t);
  }
  os << llvm::format("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
                     "fill='none' stroke='black'/>\n",
                     left, top, width - left - right, height - bottom - top)
     << llvm::format("<text x='%.1f' y='%.1f' text-anchor='middle'>step</text>\n",
                     (left + width - right) / 2, height - 12)
     << llvm::format("<text x='16' y='%.1f' text-anchor='middle' "
                     "transform='rotate(-90 16 %.1f)'>%s</text>\n",
                     (top + height - bottom) / 2, (top + height - bottom) / 2,
                     logLoss ? "loss (log scale)" : "loss");

  for (auto [i, s] : llvm::enumerate(series)) {
    const char *color = kColors[i % std::size(kColors)];
    // A non-finite loss breaks the line.
    bool open = false;
    for (auto [step, loss] : s.losses) {
      if (!std::isfinite(loss)) {
        if (open)
          os << "'/>\n";
        open = false;
        continue;
      }
      if (!open)
        os << "<polyline fill='none' stroke-width='1.5' stroke='" << color
           << "' points='";
      open = true;
      os << llvm::format("%.1f,%.1f ", x(step), y(loss));
    }
    if (open)
      os << "'/>\n";
    // Evaluations: a dashed line and the accuracy.
    for (auto [step, accuracy] : s.evals)
      os << llvm::format("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                         "stroke='%s' stroke-dasharray='4 3'/>\n",
                         x(step), top, x(step), height - bottom, color)
         << llvm::format("<text x='%.1f' y='%.1f' text-anchor='end' "
                         "fill='%s'>eval %.2f%%</text>\n",
                         x(step) - 4, top + 30 + 16.0 * series.size() + 14.0 * i,
                         color, 100 * accuracy);
    // Steps loss scaling skipped: ticks under the curve area.
    for (int64_t step : s.skipped)
      os << llvm::format("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                         "stroke='%s' stroke-width='2'/>\n",
                         x(step), height - bottom - 8.0 - 4.0 * i, x(step),
                         height - bottom - 2.0 - 4.0 * i, color);
  }
  // Legend: a box in the top right corner, sized to its longest label.
  std::vector<std::string> labels;
  size_t longest = 0;
  for (const LossSeries &s : series) {
    std::string text = s.label;
    if (!s.skipped.empty())
      text += " (" + std::to_string(s.skipped.size()) + " skipped steps: ticks)";
    longest = std::max(longest, text.size());
    labels.push_back(std::move(text));
  }
  double boxWidth = 40 + 6.8 * longest, boxX = width - right - 8 - boxWidth;
  os << llvm::format("<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' "
                     "fill='white' fill-opacity='0.85' stroke='#c0c0c0'/>\n",
                     boxX, top + 6, boxWidth, 8 + 16.0 * labels.size());
  for (auto [i, text] : llvm::enumerate(labels)) {
    const char *color = kColors[i % std::size(kColors)];
    double ly = top + 22 + 16.0 * i;
    os << llvm::format("<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' "
                       "stroke='%s' stroke-width='3'/>\n",
                       boxX + 8, ly - 4, boxX + 30, ly - 4, color)
       << llvm::format("<text x='%.1f' y='%.1f'>", boxX + 36, ly)
       << escape(text) << "</text>\n";
  }
  os << "</svg>\n";
  os.close();
  if (os.has_error()) {
    std::error_code error = os.error();
    os.clear_error();
    return llvm::createStringError(error, "cannot write '" + path +
                                              "': " + error.message());
  }
  return llvm::Error::success();
}

} // namespace accel::run
