#pragma once
/// \file
/// Keeping the compile cache folder in bounds: temporary files left by killed
/// compiles are removed once old, and past a size limit the least recently
/// used files go. Both work on an open, already trusted folder and are best
/// effort (another process may remove the same files at the same time).

#include <chrono>
#include <cstdint>
#include <set>
#include <string>

namespace strata::codegen {

/// Files whose name contains ".tmp" are a compile's (or a key file's) temporary
/// files; those last modified more than `max_age` ago belong to a killed or
/// crashed process (a compile writes its files within minutes) and are removed.
/// Returns how many were removed.
int remove_stale_cache_temp_files(int folder, std::chrono::seconds max_age);

/// $STRATA_CACHE_MAX_MB in bytes (default 2048 MB); throws strata::Error when
/// it is not a whole number of megabytes from 1 to 2^40.
uint64_t cache_size_limit();

/// Removes the least recently modified regular files (a hit touches its files)
/// until the folder's files take at most `limit_bytes`; files named in `keep`
/// stay. Returns how many were removed.
int evict_least_recently_used(int folder, uint64_t limit_bytes, const std::set<std::string> &keep);

}  // namespace strata::codegen
