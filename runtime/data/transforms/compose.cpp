#include "runtime/data/transforms/compose.h"

namespace strata::data {

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
    for (size_t i = 0; i < transforms_.size(); ++i)
        if (!transforms_[i]) fail("Compose: transform {} of {} is null", i, transforms_.size());
}

void Compose::apply(Example &example, Generator &rng) const {
    for (const TransformPtr &transform : transforms_) transform->apply(example, rng);
}

std::string Compose::describe() const {
    std::vector<std::string> parts;
    for (const TransformPtr &transform : transforms_) parts.push_back(transform->describe());
    return parts.empty() ? "identity" : fmt::format("{}", fmt::join(parts, " -> "));
}

}  // namespace strata::data
