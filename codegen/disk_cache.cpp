#include "codegen/disk_cache.h"

#include "codegen/cache_files.h"
#include "codegen/cache_housekeeping.h"

#include <strata/error.h>

#include <fmt/format.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sstream>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

namespace strata::codegen {

namespace fs = std::filesystem;

namespace {

constexpr const char *kMagic = "strata-compile-cache 2";
constexpr size_t kMaxKeyFileBytes = size_t(1) << 28;  // a key holds a whole program's IR text
constexpr size_t kMaxObjectBytes = size_t(1) << 31;
/// LLVM aborts the process when it cannot write an object (a full disk), so a
/// compile starts only with this much room on the cache's disk.
constexpr uint64_t kMinFreeBytes = uint64_t(64) << 20;
constexpr std::chrono::hours kStaleTempAge{1};

/// FNV-1a, 64 bits: a stable file name for a key (the key file holds the whole key).
uint64_t fnv1a(const std::string &s) {
    uint64_t h = 1469598103934665603ull;
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ull;
    }
    return h;
}

std::string key_file_text(const std::string &key, const std::string &object_name, size_t size,
                          const std::string &sha256) {
    return fmt::format("{}\nobject {}\nsize {}\nsha256 {}\n{}", kMagic, object_name, size, sha256, key);
}

/// Object names are ours: "<stem>-<hash prefix><extension>", nothing that could leave the folder.
bool plausible_object_name(const std::string &name) {
    return !name.empty() && name[0] != '.' && name.size() < 200 &&
           name.find_first_not_of("0123456789abcdefghijklmnopqrstuvwxyz.-_") == std::string::npos;
}

/// The verified entry for `key` in the open folder `folder`. Nothing with `damage`
/// empty when there is no key file; nothing with `damage` saying what is wrong
/// (and `bad_object` naming an unfit object) when the entry must not be used.
std::optional<CachedObject> lookup(const fs::path &dir, int folder, const std::string &stem, const std::string &key,
                                   CacheOwner owner, std::string &damage, std::string &bad_object) {
    auto key_file = read_trusted_file(folder, stem + ".key", owner, kMaxKeyFileBytes, damage);
    if (!key_file) {
        if (!damage.empty()) damage = "its key file: " + damage;
        return std::nullopt;
    }
    std::istringstream in(key_file->bytes);
    std::string magic, word, object_name;
    std::getline(in, magic);
    in >> word >> object_name;
    if (magic != kMagic || word != "object" || !plausible_object_name(object_name)) {
        damage = "its key file is not one this version writes";
        return std::nullopt;
    }
    auto object = read_trusted_file(folder, object_name, owner, kMaxObjectBytes, damage);
    if (!object) {
        damage = "its object " + (damage.empty() ? std::string("is missing") : damage);
        bad_object = object_name;
        return std::nullopt;
    }
    const std::string sha = sha256_hex(object->bytes);
    if (key_file->bytes != key_file_text(key, object_name, object->bytes.size(), sha)) {
        damage = "its key or its object's size or SHA-256 do not match";
        if (key_file->bytes.find(fmt::format("\nsha256 {}\n", sha)) == std::string::npos) bad_object = object_name;
        return std::nullopt;
    }
    if (owner == CacheOwner::current_user) {
        // Used now: least recently used files are evicted first.
        ::futimens(key_file->handle.get(), nullptr);
        ::futimens(object->handle.get(), nullptr);
    }
    return CachedObject{dir / object_name, CacheOutcome::hit, std::move(object->bytes), sha};
}

std::optional<fs::path> read_only_cache_dir() {
    const char *dir = std::getenv("STRATA_CACHE_READONLY");
    if (!dir || !*dir) return std::nullopt;
    return fs::path(dir);
}

/// Creates the cache folder (only its owner may enter a new one) and its parents.
void create_folder(const fs::path &dir) {
    std::error_code ec;
    if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);
    if (!ec && ::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) ec = std::error_code(errno, std::generic_category());
    if (ec || !fs::is_directory(dir, ec))
        fail("compile cache: cannot create the folder {}: {} (set STRATA_CACHE_DIR, or STRATA_NO_CACHE=1)",
             dir.string(), ec ? ec.message() : "a file of that name is in the way");
}

/// Removes stale temporary files the first time this process uses a folder.
void tidy_once(const fs::path &dir, int folder) {
    static std::mutex mutex;
    static std::set<std::string> tidied;
    std::lock_guard<std::mutex> lock(mutex);
    if (tidied.insert(dir.string()).second) remove_stale_cache_temp_files(folder, kStaleTempAge);
}

void require_free_space(const fs::path &dir, int folder) {
    struct statvfs disk {};
    if (::fstatvfs(folder, &disk) != 0) return;  // unknown: the writes below still report errors
    const uint64_t free_bytes = static_cast<uint64_t>(disk.f_bavail) * disk.f_frsize;
    if (free_bytes < kMinFreeBytes)
        fail("compile cache: the disk of {} is nearly full ({} MB free; a compile needs up to {} MB): free some "
             "space, point STRATA_CACHE_DIR at another disk, or set STRATA_NO_CACHE=1",
             dir.string(), free_bytes >> 20, kMinFreeBytes >> 20);
}

[[noreturn]] void fail_unwritable(const fs::path &dir, int err) {
    fail("compile cache: cannot write in the folder {}: {} (make it writable, point STRATA_CACHE_DIR at a folder "
         "of yours, or set STRATA_NO_CACHE=1)",
         dir.string(), std::strerror(err));
}

void write_all(int fd, const std::string &bytes, const fs::path &path) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("compile cache: cannot write {}: {}", path.string(), std::strerror(errno));
        done += static_cast<size_t>(got);
    }
    if (::fsync(fd) != 0) fail("compile cache: cannot flush {}: {}", path.string(), std::strerror(errno));
}

/// Writes the key file last (it makes the entry valid): a temporary file, then renamed.
void write_key_file(const fs::path &dir, int folder, const std::string &key_name, const std::string &text) {
    static std::atomic<unsigned> counter{0};
    const std::string temp = fmt::format("{}.{}.{}.tmp", key_name, ::getpid(), counter++);
    FileHandle out(::openat(folder, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644));
    if (!out) fail_unwritable(dir, errno);
    try {
        ::fchmod(out.get(), 0644);  // whatever the umask: readable, writable by its owner only
        write_all(out.get(), text, dir / key_name);
        if (::renameat(folder, temp.c_str(), folder, key_name.c_str()) != 0)
            fail("compile cache: cannot move {} into place: {}", (dir / key_name).string(), std::strerror(errno));
    } catch (...) {
        ::unlinkat(folder, temp.c_str(), 0);
        throw;
    }
}

}  // namespace

std::optional<fs::path> compile_cache_dir() {
    if (const char *off = std::getenv("STRATA_NO_CACHE"); off && *off && std::string(off) != "0") return std::nullopt;
    if (const char *dir = std::getenv("STRATA_CACHE_DIR"); dir && *dir) return fs::path(dir);
    if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) return fs::path(xdg) / "strata";
    if (const char *home = std::getenv("HOME"); home && *home) return fs::path(home) / ".cache" / "strata";
    return std::nullopt;
}

bool has_cached_entry(const fs::path &dir, const std::string &key) {
    const std::string key_name = cache_entry_stem(key) + ".key";
    std::error_code ec;
    if (const auto shared = read_only_cache_dir(); shared && fs::is_regular_file(*shared / key_name, ec)) return true;
    return fs::is_regular_file(dir / key_name, ec);
}

std::string cache_entry_stem(const std::string &key) { return fmt::format("{:016x}", fnv1a(key)); }

CachedObject find_or_build_cached(const fs::path &dir, const std::string &key, const std::string &extension,
                                  const std::function<void(const fs::path &)> &build) {
    const std::string stem = cache_entry_stem(key);
    const std::string key_name = stem + ".key";
    const uint64_t size_limit = cache_size_limit();
    std::string damage, bad_object;
    if (const auto shared = read_only_cache_dir()) {
        const FileHandle folder = open_trusted_folder(*shared, CacheOwner::current_user_or_root,
                                                      "read-only compile cache (STRATA_CACHE_READONLY)");
        if (auto hit = lookup(*shared, folder.get(), stem, key, CacheOwner::current_user_or_root, damage, bad_object))
            return std::move(*hit);
    }

    create_folder(dir);
    const FileHandle folder = open_trusted_folder(dir, CacheOwner::current_user, "compile cache");
    tidy_once(dir, folder.get());
    damage.clear();
    bad_object.clear();
    if (auto hit = lookup(dir, folder.get(), stem, key, CacheOwner::current_user, damage, bad_object))
        return std::move(*hit);
    CacheOutcome outcome = CacheOutcome::miss;
    if (!damage.empty()) {
        // Damaged, truncated, unfit or a hash collision: rebuild. An intact object is left
        // alone (another process may have just written it); an unfit one is removed.
        ::unlinkat(folder.get(), key_name.c_str(), 0);
        if (!bad_object.empty()) ::unlinkat(folder.get(), bad_object.c_str(), 0);
        outcome = CacheOutcome::rebuilt_corrupt;
    }

    // Build under a name no other process or thread uses, created here first (so an
    // unwritable folder is reported as such), then rename it to a name that carries
    // its hash, and last write the key file, which makes the entry valid.
    require_free_space(dir, folder.get());
    static std::atomic<unsigned> counter{0};
    const std::string temp = fmt::format("{}.{}.{}.tmp{}", stem, ::getpid(), counter++, extension);
    if (!FileHandle(::openat(folder.get(), temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600)))
        fail_unwritable(dir, errno);
    try {
        build(dir / temp);
        std::string why;
        auto built = read_trusted_file(folder.get(), temp, CacheOwner::current_user, kMaxObjectBytes, why);
        if (!built || built->bytes.empty())
            fail("compile cache: the compiled pipeline {} is {}", (dir / temp).string(),
                 built ? "empty" : why.empty() ? "missing" : why);
        ::fchmod(built->handle.get(), 0644);  // the linker made it executable, with the user's umask
        const std::string sha = sha256_hex(built->bytes);
        const std::string object_name = fmt::format("{}-{}{}", stem, sha.substr(0, 16), extension);
        if (::renameat(folder.get(), temp.c_str(), folder.get(), object_name.c_str()) != 0)
            fail("compile cache: cannot move {} into place: {}", (dir / object_name).string(), std::strerror(errno));
        write_key_file(dir, folder.get(), key_name, key_file_text(key, object_name, built->bytes.size(), sha));
        ::fsync(folder.get());
        evict_least_recently_used(folder.get(), size_limit, {key_name, object_name});
        return {dir / object_name, outcome, std::move(built->bytes), sha};
    } catch (...) {
        ::unlinkat(folder.get(), temp.c_str(), 0);
        throw;
    }
}

}  // namespace strata::codegen
