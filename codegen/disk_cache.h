#pragma once
/// \file
/// The on-disk cache of compiled pipelines. An entry is a shared object (the
/// pipeline compiled ahead of time and linked) and a small key file that
/// holds the full key, the object's size and its CRC-32. A warm start checks
/// both and loads the object without running LLVM.
///
/// Folder: $STRATA_CACHE_DIR, else $XDG_CACHE_HOME/strata, else ~/.cache/strata.
/// STRATA_NO_CACHE=1 turns the cache off (pipelines are then JIT-compiled).
/// Entries are written to temporary files and renamed into place, so two
/// processes can fill the same cache at once; an entry that fails its checks
/// (truncated, corrupt, another key) is removed and rebuilt, never loaded.
/// No Halide in this header.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

namespace strata::codegen {

/// The cache folder in effect, or nothing when the cache is turned off.
std::optional<std::filesystem::path> compile_cache_dir();

/// What a cache lookup did, for messages and tests.
enum class CacheOutcome { hit, miss, rebuilt_corrupt };

struct CachedObject {
    std::filesystem::path path;  ///< verified: complete, and built for this key
    CacheOutcome outcome;
};

/// Finds the entry for `key` in `dir`; when it is missing or damaged (then it
/// is removed first), `build(path)` must write the file afresh at `path` (a
/// temporary name ending in `extension`), which is then checked in atomically.
CachedObject find_or_build_cached(const std::filesystem::path &dir, const std::string &key, const std::string &extension,
                                  const std::function<void(const std::filesystem::path &)> &build);

/// The verified object of `key`'s entry in `dir`, or nothing when there is no
/// sound entry; never builds or removes anything.
std::optional<std::filesystem::path> find_cached(const std::filesystem::path &dir, const std::string &key);

/// The cache file names of a key (without extension), for tests.
std::string cache_entry_stem(const std::string &key);

}  // namespace strata::codegen
