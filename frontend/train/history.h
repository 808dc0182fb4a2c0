#pragma once
/// \file
/// A training history written out: every value of every epoch as JSON (a `--metrics` file) and
/// the headline values as an SVG with one panel each (a `--plot` file).
///
///     const auto history = trainer.fit(train, &test);
///     strata::write_history_json("metrics.json", history);
///     strata::write_history_svg("metrics.svg", history);

#include "frontend/train/trainer.h"

#include <string>
#include <vector>

namespace strata {

/// [{"epoch": 1, "lr": 0.05, "seconds": 1.2, "examples_per_second": 900, "loss": ..., "val_loss": ...,
/// "precision/0": ..., ...}, ...]: epochs counted from 1, every key of `EpochStats::metrics`, NaN as
/// null; written atomically.
void write_history_json(const std::string &path, const std::vector<EpochStats> &history);
/// One panel per headline value (keys without '/': "loss", "val_loss", "binary_accuracy", ...)
/// over the epochs; written atomically.
void write_history_svg(const std::string &path, const std::vector<EpochStats> &history,
                       const std::string &title = "training");

}  // namespace strata
