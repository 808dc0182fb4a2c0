#include "runtime/atomic_file.h"

#include <strata/error.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

namespace {

/// The folder of `path` ("." for a bare file name), to fsync after the rename.
std::string parent_folder(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    if (slash == std::string::npos) return ".";
    if (slash == 0) return "/";
    return path.substr(0, slash);
}

/// The file name part of `path`.
std::string file_name(const std::string &path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

/// The writer's pid when `name` is "<destination>.tmp<pid>.<n>" (the temp names made below), else 0.
pid_t temp_file_owner(const std::string &name, const std::string &destination) {
    const std::string prefix = destination + ".tmp";
    if (name.size() <= prefix.size() || name.compare(0, prefix.size(), prefix) != 0) return 0;
    const std::string rest = name.substr(prefix.size());
    const size_t dot = rest.find('.');
    const auto digits = [](const std::string &s) {
        return !s.empty() && s.size() <= 18 && s.find_first_not_of("0123456789") == std::string::npos;
    };
    if (dot == std::string::npos || !digits(rest.substr(0, dot)) || !digits(rest.substr(dot + 1))) return 0;
    const long long pid = std::stoll(rest.substr(0, dot));
    return pid > 0 && pid <= INT32_MAX ? static_cast<pid_t>(pid) : 0;
}

/// The temporary files this process is writing now. A file named with this process's pid but
/// not listed here was left by an earlier process that had the same pid (pids are reused; a
/// container's main process often has the same small pid on every start).
class LiveTempFiles {
public:
    static LiveTempFiles &instance() {
        static LiveTempFiles live;
        return live;
    }
    void add(const std::string &temp_path) {
        std::lock_guard<std::mutex> lock(mutex_);
        paths_.insert(temp_path);
    }
    void remove(const std::string &temp_path) {
        std::lock_guard<std::mutex> lock(mutex_);
        paths_.erase(temp_path);
    }
    bool contains(const std::string &temp_path) {
        std::lock_guard<std::mutex> lock(mutex_);
        return paths_.count(temp_path) != 0;
    }

private:
    std::mutex mutex_;
    std::set<std::string> paths_;
};

/// The file `path` names: a symlink (a chain of them) is followed to its final target,
/// which need not exist yet; "" for a chain that loops or is too long.
std::string final_target(std::string path) {
    for (int hops = 0; hops < 40; ++hops) {
        struct stat st {};
        if (::lstat(path.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return path;
        std::string target(static_cast<size_t>(st.st_size > 0 ? st.st_size : 4096) + 1, '\0');
        const ssize_t n = ::readlink(path.c_str(), target.data(), target.size());
        if (n < 0 || static_cast<size_t>(n) >= target.size()) return "";
        target.resize(static_cast<size_t>(n));
        path = target[0] == '/' ? target : parent_folder(path) + "/" + target;
    }
    return "";
}

}  // namespace

void remove_stale_temp_files(const std::string &path) {
    const std::string destination = file_name(path);
    if (destination.empty()) return;  // "dir/" names no file
    DIR *folder = ::opendir(parent_folder(path).c_str());
    if (!folder) return;  // best effort: the writer's own open will report a missing folder
    const std::string prefix = path.substr(0, path.size() - destination.size());
    while (const dirent *entry = ::readdir(folder)) {
        const pid_t owner = temp_file_owner(entry->d_name, destination);
        if (owner == 0) continue;
        const std::string temp_path = prefix + entry->d_name;
        // Ours only when no writer of this process has it open (it is listed before it is created).
        // Another pid's only when that process no longer exists: ESRCH; a live one (EPERM: another
        // user's) keeps its file.
        const bool stale = owner == getpid() ? !LiveTempFiles::instance().contains(temp_path)
                                             : ::kill(owner, 0) != 0 && errno == ESRCH;
        if (stale) ::unlink(temp_path.c_str());
    }
    ::closedir(folder);
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
    if (path_.empty()) fail("cannot write a file with an empty path");
    // A symlink stays a symlink: its target is what gets written (the temporary file
    // goes beside the target, so the rename stays within one file system).
    target_ = final_target(path_);
    if (target_.empty()) fail("{}: cannot write the file: {}", path_, std::strerror(ELOOP));
    remove_stale_temp_files(target_);
    // pid + a process-wide counter: two writers of one path (threads, processes) never share a temp file.
    static std::atomic<unsigned> counter{0};
    temp_path_ = target_ + ".tmp" + std::to_string(getpid()) + "." + std::to_string(counter++);
    LiveTempFiles::instance().add(temp_path_);
    // A new file gets the user's umask; a replaced one keeps its mode (a 0600 checkpoint stays private).
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    if (fd_ < 0) {
        const int err = errno;
        LiveTempFiles::instance().remove(temp_path_);
        temp_path_.clear();  // not ours to remove
        fail("{}: cannot create the file: {}", path_, std::strerror(err));
    }
    struct stat existing {};
    if (::stat(target_.c_str(), &existing) == 0 && S_ISREG(existing.st_mode) &&
        ::fchmod(fd_, existing.st_mode & 07777) != 0) {
        const int err = errno;
        discard();
        fail("{}: cannot give the new file the mode {:04o} of the old one: {}", path_, existing.st_mode & 07777,
             std::strerror(err));
    }
}

AtomicFileWriter::~AtomicFileWriter() {
    if (!committed_) discard();
}

void AtomicFileWriter::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) {
        ::unlink(temp_path_.c_str());
        LiveTempFiles::instance().remove(temp_path_);
    }
    temp_path_.clear();
}

void AtomicFileWriter::write(const void *data, size_t n) {
    if (fd_ < 0) fail("{}: write after the file was committed or abandoned", path_);
    const auto *bytes = static_cast<const char *>(data);
    size_t done = 0;
    while (done < n) {
        const ssize_t got = ::write(fd_, bytes + done, n - done);
        if (got < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            discard();
            fail("{}: write failed after {} bytes: {}", path_, written_ + done, std::strerror(err));
        }
        done += static_cast<size_t>(got);
    }
    written_ += n;
}

void AtomicFileWriter::commit() {
    if (fd_ < 0) fail("{}: commit after the file was committed or abandoned", path_);
    if (::fsync(fd_) != 0) {
        const int err = errno;
        discard();
        fail("{}: could not flush the file to disk: {}", path_, std::strerror(err));
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const int err = errno;
        discard();
        fail("{}: could not close the file: {}", path_, std::strerror(err));
    }
    if (std::rename(temp_path_.c_str(), target_.c_str()) != 0) {
        const int err = errno;
        discard();
        fail("{}: could not move the finished file into place: {}", path_, std::strerror(err));
    }
    committed_ = true;
    LiveTempFiles::instance().remove(temp_path_);
    // Make the rename itself durable; the file is already complete, so this is best effort.
    const int dir = ::open(parent_folder(target_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
        ::fsync(dir);
        ::close(dir);
    }
}

void write_file_atomically(const std::string &path, const std::string &contents) {
    AtomicFileWriter out(path);
    out.write(contents.data(), contents.size());
    out.commit();
}

}  // namespace strata
