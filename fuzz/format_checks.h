#pragma once
/// \file
/// What each fuzz target checks, one function per input format Strata parses. Each takes
/// the raw bytes of one input (written to a file where the reader takes a path) and returns
/// normally when the reader either accepted it or rejected it with `strata::Error`. Anything
/// else is a finding: a crash or sanitizer report, or a `FuzzFinding` exception for a broken
/// promise (a round trip that differs, a value a reader documents it never returns).
///
/// The libFuzzer targets (fuzz_*.cpp) call these; tests/test_robust_fuzz_corpus.cpp runs every
/// file of fuzz/corpus/ through them in the ordinary test suite, so each kept crash input is a
/// regression test.

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace strata::fuzz {

/// A broken promise found by a check (not a user error, so not a strata::Error).
struct FuzzFinding : std::logic_error {
    using std::logic_error::logic_error;
};

/// IR text (ir/parser): parses or is rejected; what parses prints and parses back to the same text.
void check_ir_text(const uint8_t *data, size_t size);
/// A safetensors file and its JSON header (runtime/safetensors).
void check_safetensors(const uint8_t *data, size_t size);
/// An IDX file, plain or gzip (runtime/idx).
void check_idx(const uint8_t *data, size_t size);
/// A MiniSEED file through Strata's reader (runtime/miniseed).
void check_miniseed(const uint8_t *data, size_t size);
/// An HDF5 file through both HDF5 datasets (runtime/data/hdf5_dataset): a STEAD-like group
/// "data" (and the root) of traces, and arrays "waveforms" and "labels"; every example read
/// has the documented names, dtypes and shapes and finite samples.
void check_hdf5(const uint8_t *data, size_t size);
/// A SEG-Y file through the patch dataset (runtime/data/segy_dataset) as a 2-D line and as a
/// 3-D volume, labelled by itself; every patch read has the documented shape.
void check_segy(const uint8_t *data, size_t size);
/// A text or CSV series (runtime/series_text); the first byte picks the reader and the column.
void check_series_text(const uint8_t *data, size_t size);
/// A schedule file (codegen/schedule): parses or is rejected; what parses writes (`to_text`) a file
/// that parses back to the same text. Implemented in schedule_check.cpp, apart from the readers
/// above, because parse_schedule lives in the codegen library.
void check_schedule_text(const uint8_t *data, size_t size);
/// A safetensors file through the loader of an emitted C library (NAME_load_weights and
/// NAME_state_load of codegen/aot_c_safetensors.cpp): loads, or fails with a documented
/// error code and a message, leaving nothing loaded. Implemented in c_loader_check.cpp,
/// compiled against a header generated at build time (c_loader_header.cpp).
void check_c_loader(const uint8_t *data, size_t size);

}  // namespace strata::fuzz
