#pragma once
// Generated training data for "spot the seismogram": 500-sample series of
// four kinds, each normalised to zero mean and unit standard deviation so
// that amplitude alone cannot give the class away.

#include <strata/strata.h>

#include <array>
#include <string>
#include <vector>

namespace spot {

constexpr int64_t kWindow = 500;
constexpr std::array<const char *, 4> kClasses = {"seismogram", "finance", "temperature", "noise"};

/// One window of each kind (before normalisation).
std::vector<double> seismogram(strata::Generator &gen);
std::vector<double> price_series(strata::Generator &gen);
std::vector<double> monthly_temperatures(strata::Generator &gen);
std::vector<double> gaussian_noise(strata::Generator &gen);

/// x - mean(x), divided by its standard deviation (left at zero mean when constant).
void normalize(std::vector<double> &x);

/// `per_class` normalised windows of every class, shuffled: inputs f32
/// [N, 1, 500], targets i32 [N]. `real_windows` (e.g. cut from a real
/// seismogram) are mixed into the seismogram class.
strata::Dataset make_dataset(int64_t per_class, uint64_t seed, const std::vector<std::vector<double>> &real_windows = {});

}  // namespace spot
