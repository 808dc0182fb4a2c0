#include "runtime/atomic_file.h"

#include <strata/error.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
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

}  // namespace

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
    if (path_.empty()) fail("cannot write a file with an empty path");
    // pid + a process-wide counter: two writers of one path (threads, processes) never share a temp file.
    static std::atomic<unsigned> counter{0};
    temp_path_ = path_ + ".tmp" + std::to_string(getpid()) + "." + std::to_string(counter++);
    fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd_ < 0) fail("{}: cannot create the file: {}", path_, std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
    if (!committed_) discard();
}

void AtomicFileWriter::discard() noexcept {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
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
    if (std::rename(temp_path_.c_str(), path_.c_str()) != 0) {
        const int err = errno;
        discard();
        fail("{}: could not move the finished file into place: {}", path_, std::strerror(err));
    }
    committed_ = true;
    // Make the rename itself durable; the file is already complete, so this is best effort.
    const int dir = ::open(parent_folder(path_).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
