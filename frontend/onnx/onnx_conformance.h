#pragma once
/// \file
/// The ONNX backend test data as a conformance suite (Debian's libonnx-testdata: folders of
/// cases, each a model.onnx with test_data_set_*/input_N.pb and output_N.pb). Each case is
/// imported, compiled and run on every data set, its outputs compared with ONNX's tolerance
/// (|got - want| <= atol + rtol |want|, rtol 1e-3, atol 1e-7 as ONNX's own runner uses).

#include <string>
#include <vector>

namespace strata::onnx {

enum class CaseStatus { pass, fail, unsupported };

struct CaseResult {
    std::string name;  ///< the case folder's name ("test_conv_with_strides_padding")
    CaseStatus status = CaseStatus::fail;
    std::string message;  ///< why it failed or is unsupported; the largest error when it passed
    double seconds = 0;
};

struct ConformanceOptions {
    double rtol = 1e-3;
    double atol = 1e-7;
};

/// Runs the case in `dir` (a folder holding model.onnx). Never throws for a bad case: it fails.
CaseResult run_conformance_case(const std::string &dir, const ConformanceOptions &options = {});

/// The case folders under `dir` (it holds model.onnx itself, or its subfolders do), sorted.
std::vector<std::string> conformance_cases(const std::string &dir);

const char *status_name(CaseStatus status);

}  // namespace strata::onnx
