#pragma once
/// \file
/// Every transform of the data layer, for `#include "runtime/data/transforms.h"`. Each applies
/// to one example in the loader's workers; the random ones draw only from the generator they
/// are given, so the same seed gives the same example.

#include "runtime/data/transforms/amplitude.h"
#include "runtime/data/transforms/bandpass.h"
#include "runtime/data/transforms/channel_drop.h"
#include "runtime/data/transforms/compose.h"
#include "runtime/data/transforms/detrend.h"
#include "runtime/data/transforms/flip.h"
#include "runtime/data/transforms/normalize.h"
#include "runtime/data/transforms/taper.h"
#include "runtime/data/transforms/window.h"
