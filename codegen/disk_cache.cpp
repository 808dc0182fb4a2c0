#include "codegen/disk_cache.h"

#include "runtime/atomic_file.h"

#include <strata/error.h>

#include <fmt/format.h>
#include <zlib.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <unistd.h>

namespace strata::codegen {

namespace fs = std::filesystem;

namespace {

constexpr const char *kMagic = "strata-compile-cache 1";

/// FNV-1a, 64 bits: a stable file name for a key (the key file holds the whole key).
uint64_t fnv1a(const std::string &s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::optional<std::string> read_whole(const fs::path &path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    if (in.bad()) return std::nullopt;
    return s.str();
}

uint32_t crc_of(const std::string &bytes) {
    uLong crc = crc32(0L, Z_NULL, 0);
    size_t done = 0;
    while (done < bytes.size()) {
        const size_t piece = std::min<size_t>(bytes.size() - done, 1u << 30);
        crc = crc32(crc, reinterpret_cast<const Bytef *>(bytes.data() + done), static_cast<uInt>(piece));
        done += piece;
    }
    return static_cast<uint32_t>(crc);
}

std::string key_file_text(const std::string &key, const std::string &object_name, size_t size, uint32_t crc) {
    return fmt::format("{}\nobject {}\nsize {}\ncrc32 {:08x}\n{}", kMagic, object_name, size, crc, key);
}

/// The object an entry's key file names, when the key file is for `key` and
/// the object has the recorded size and CRC.
std::optional<fs::path> sound_entry(const fs::path &dir, const fs::path &key_path, const std::string &key) {
    const auto key_text = read_whole(key_path);
    if (!key_text) return std::nullopt;
    std::istringstream in(*key_text);
    std::string magic, word, object_name;
    std::getline(in, magic);
    in >> word >> object_name;
    if (magic != kMagic || word != "object" || object_name.find('/') != std::string::npos) return std::nullopt;
    const auto object = read_whole(dir / object_name);
    if (!object) return std::nullopt;
    if (*key_text != key_file_text(key, object_name, object->size(), crc_of(*object))) return std::nullopt;
    return dir / object_name;
}

void remove_quietly(const fs::path &p) {
    std::error_code ignored;
    fs::remove(p, ignored);
}

}  // namespace

std::optional<fs::path> compile_cache_dir() {
    if (const char *off = std::getenv("STRATA_NO_CACHE"); off && *off && std::string(off) != "0") return std::nullopt;
    if (const char *dir = std::getenv("STRATA_CACHE_DIR"); dir && *dir) return fs::path(dir);
    if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "strata";
    if (const char *home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "strata";
    return std::nullopt;
}

std::optional<fs::path> find_cached(const fs::path &dir, const std::string &key) {
    const fs::path key_path = dir / (cache_entry_stem(key) + ".key");
    std::error_code ec;
    if (!fs::is_regular_file(key_path, ec)) return std::nullopt;
    return sound_entry(dir, key_path, key);
}

std::string cache_entry_stem(const std::string &key) { return fmt::format("{:016x}", fnv1a(key)); }

CachedObject find_or_build_cached(const fs::path &dir, const std::string &key, const std::string &extension,
                                  const std::function<void(const fs::path &)> &build) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) fail("compile cache: cannot create the folder {}: {} (set STRATA_CACHE_DIR, or STRATA_NO_CACHE=1)",
                 dir.string(), ec.message());
    const std::string stem = cache_entry_stem(key);
    const fs::path key_path = dir / (stem + ".key");

    CacheOutcome outcome = CacheOutcome::miss;
    if (fs::exists(key_path)) {
        if (auto object = sound_entry(dir, key_path, key)) return {*object, CacheOutcome::hit};
        // Damaged, truncated or a hash collision: rebuild (the object it named is left
        // alone: another process may have just written it).
        remove_quietly(key_path);
        outcome = CacheOutcome::rebuilt_corrupt;
    }

    // Build under a name no other process uses, then rename it to a name that
    // carries its CRC (so a complete object is never overwritten by another),
    // and last write the key file, which makes the entry valid.
    const fs::path temp = dir / fmt::format("{}.{}.tmp{}", stem, ::getpid(), extension);
    try {
        build(temp);
    } catch (...) {
        remove_quietly(temp);
        throw;
    }
    const auto object = read_whole(temp);
    if (!object || object->empty()) {
        remove_quietly(temp);
        fail("compile cache: the compiled pipeline {} is missing or empty", temp.string());
    }
    const uint32_t crc = crc_of(*object);
    const std::string object_name = fmt::format("{}-{:08x}{}", stem, crc, extension);
    fs::rename(temp, dir / object_name, ec);
    if (ec) {
        remove_quietly(temp);
        fail("compile cache: cannot move {} into place: {}", (dir / object_name).string(), ec.message());
    }
    write_file_atomically(key_path.string(), key_file_text(key, object_name, object->size(), crc));
    return {dir / object_name, outcome};
}

}  // namespace strata::codegen
