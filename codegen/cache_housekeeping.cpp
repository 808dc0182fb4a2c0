#include "codegen/cache_housekeeping.h"

#include <strata/error.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <vector>

namespace strata::codegen {

namespace {

struct FolderFile {
    std::string name;
    struct stat st;
};

/// The regular files of the open folder (symlinks and folders are not counted or touched).
std::vector<FolderFile> regular_files(int folder) {
    std::vector<FolderFile> files;
    const int copy = ::fcntl(folder, F_DUPFD_CLOEXEC, 0);  // closedir closes the descriptor it is given
    if (copy < 0) return files;
    DIR *listing = ::fdopendir(copy);
    if (!listing) {
        ::close(copy);
        return files;
    }
    ::rewinddir(listing);
    while (const dirent *entry = ::readdir(listing)) {
        FolderFile file{entry->d_name, {}};
        if (file.name == "." || file.name == "..") continue;
        if (::fstatat(folder, entry->d_name, &file.st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(file.st.st_mode))
            continue;
        files.push_back(std::move(file));
    }
    ::closedir(listing);
    return files;
}

}  // namespace

int remove_stale_cache_temp_files(int folder, std::chrono::seconds max_age) {
    const time_t cutoff = std::time(nullptr) - static_cast<time_t>(max_age.count());
    int removed = 0;
    for (const FolderFile &file : regular_files(folder)) {
        if (file.name.find(".tmp") == std::string::npos || file.st.st_mtime >= cutoff) continue;
        if (::unlinkat(folder, file.name.c_str(), 0) == 0) ++removed;
    }
    return removed;
}

uint64_t cache_size_limit() {
    constexpr uint64_t kDefaultMegabytes = 2048;
    const char *text = std::getenv("STRATA_CACHE_MAX_MB");
    if (!text || !*text) return kDefaultMegabytes << 20;
    const std::string value = text;
    const bool digits = value.size() <= 13 && value.find_first_not_of("0123456789") == std::string::npos;
    const uint64_t megabytes = digits ? std::strtoull(text, nullptr, 10) : 0;
    if (megabytes < 1 || megabytes > (uint64_t(1) << 40))
        fail("STRATA_CACHE_MAX_MB='{}': expected the compile cache's size limit as a whole number of megabytes "
             "from 1 to 1099511627776 (default {})",
             value, kDefaultMegabytes);
    return megabytes << 20;
}

int evict_least_recently_used(int folder, uint64_t limit_bytes, const std::set<std::string> &keep) {
    std::vector<FolderFile> files = regular_files(folder);
    uint64_t total = 0;
    for (const FolderFile &file : files) total += static_cast<uint64_t>(file.st.st_blocks) * 512;
    if (total <= limit_bytes) return 0;
    std::sort(files.begin(), files.end(), [](const FolderFile &a, const FolderFile &b) {
        if (a.st.st_mtim.tv_sec != b.st.st_mtim.tv_sec) return a.st.st_mtim.tv_sec < b.st.st_mtim.tv_sec;
        if (a.st.st_mtim.tv_nsec != b.st.st_mtim.tv_nsec) return a.st.st_mtim.tv_nsec < b.st.st_mtim.tv_nsec;
        return a.name < b.name;
    });
    int removed = 0;
    for (const FolderFile &file : files) {
        if (total <= limit_bytes) break;
        // Temporary files may be another process's compile in progress.
        if (keep.count(file.name) || file.name.find(".tmp") != std::string::npos) continue;
        // An entry whose key file or object goes is rebuilt on its next use; a process
        // that has it open keeps reading what it opened.
        if (::unlinkat(folder, file.name.c_str(), 0) == 0 || errno == ENOENT) {
            total -= std::min(total, static_cast<uint64_t>(file.st.st_blocks) * 512);
            ++removed;
        }
    }
    return removed;
}

}  // namespace strata::codegen
