#include "runtime/progress.h"

#include <fmt/format.h>

#include <cstdio>
#include <unistd.h>

namespace strata {

ProgressBar::ProgressBar(std::string label, int64_t total, int64_t units, bool enabled)
    : label_(std::move(label)), total_(total), units_(units), enabled_(enabled), tty_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()), last_draw_(start_ - std::chrono::seconds(1)) {}

double ProgressBar::elapsed_seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressBar::line(int64_t done, const std::vector<std::pair<std::string, double>> &metrics) const {
    constexpr int width = 24;
    const double fraction = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
    const int filled = static_cast<int>(fraction * width);
    std::string bar(static_cast<size_t>(filled), '=');
    if (filled < width) bar += '>' + std::string(static_cast<size_t>(width - filled - 1), ' ');
    const double seconds = elapsed_seconds();
    const double rate = seconds > 0 ? static_cast<double>(done * units_) / seconds : 0.0;
    const double eta = done > 0 ? seconds * static_cast<double>(total_ - done) / static_cast<double>(done) : 0.0;
    std::string text = fmt::format("{} [{}] {}/{} {:.0f}/s {:.1f}s", label_, bar, done, total_, rate,
                                   done >= total_ ? seconds : eta);
    if (done < total_) text += " left";
    for (const auto &[name, value] : metrics) text += fmt::format("  {} {:.4g}", name, value);
    return text;
}

void ProgressBar::update(int64_t done, const std::vector<std::pair<std::string, double>> &metrics) {
    if (!enabled_ || !tty_) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_draw_ < std::chrono::milliseconds(100) && done < total_) return;
    last_draw_ = now;
    fmt::print(stderr, "\r{}\x1b[K", line(done, metrics));
    std::fflush(stderr);
}

void ProgressBar::finish(const std::vector<std::pair<std::string, double>> &metrics) {
    if (!enabled_) return;
    fmt::print(stderr, "{}{}\n", tty_ ? "\r" : "", line(total_, metrics));
    std::fflush(stderr);
}

}  // namespace strata
