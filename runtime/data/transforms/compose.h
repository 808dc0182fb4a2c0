#pragma once
/// \file
/// Transforms applied one after another to the same example, with the same generator (so one
/// seed fixes the whole chain), like torchvision.transforms.Compose.

#include "runtime/data/dataset.h"

#include <string>
#include <vector>

namespace strata::data {

class Compose : public Transform {
public:
    explicit Compose(std::vector<TransformPtr> transforms);
    void apply(Example &example, Generator &rng) const override;
    /// "demean -> taper(...) -> bandpass(...)".
    std::string describe() const override;

private:
    std::vector<TransformPtr> transforms_;
};

}  // namespace strata::data
