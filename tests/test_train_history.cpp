// A training history written as JSON (every metric of every epoch, NaN as null) and as an SVG
// with a panel per headline metric.
#include "frontend/train/history.h"

#include <catch2/catch.hpp>

#include "tests/support/error_message.h"
#include "tests/support/temp_dir.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <sstream>

using namespace strata;
using Catch::Matchers::Contains;

namespace {
std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}
}  // namespace

TEST_CASE("write_history_json writes every metric of every epoch, and write_history_svg the headline ones",
          "[train][history]") {
    std::vector<EpochStats> history(2);
    for (int e = 0; e < 2; ++e) {
        history[e].epoch = e;
        history[e].lr = 0.1 / (e + 1);
        history[e].metrics = {{"loss", 1.0 / (e + 1)}, {"val_loss", 1.5 / (e + 1)}, {"precision/0", 0.25 * e},
                              {"binary_accuracy", e ? 0.9 : NAN}};
    }
    strata::testing::TempDir dir;
    const std::string json_path = dir / "metrics.json", svg_path = dir / "metrics.svg";
    write_history_json(json_path, history);
    const auto json = nlohmann::json::parse(read_text(json_path));
    REQUIRE(json.size() == 2);
    CHECK(json[0]["epoch"] == 1);
    CHECK(json[1]["lr"].get<double>() == 0.05);
    CHECK(json[1]["precision/0"].get<double>() == 0.25);
    CHECK(json[0]["binary_accuracy"].is_null());
    CHECK(json[1]["val_loss"].get<double>() == 0.75);

    write_history_svg(svg_path, history, "picker");
    const std::string svg = read_text(svg_path);
    CHECK_THAT(svg, Contains("<svg") && Contains("val_loss") && Contains("binary_accuracy") && Contains("picker"));
    CHECK_THAT(svg, !Contains("precision/0"));
    CHECK_THAT(strata::testing::error_message([&] { write_history_svg(svg_path, {}); }),
               Contains("the history has no epochs to plot"));
}
