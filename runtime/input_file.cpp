#include "runtime/input_file.h"

#include <strata/error.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace strata {

namespace {

/// What a file that is not regular is, for a message.
const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "a special file";
}

}  // namespace

InputFile::InputFile(const std::string &path, const std::string &expected) : path_(path) {
    // O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting for one.
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd_ < 0) fail("{}: cannot open: {}", path, std::strerror(errno));
    struct stat st {};
    if (::fstat(fd_, &st) != 0) {
        const int err = errno;
        ::close(fd_);
        fail("{}: cannot read the file size: {}", path, std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd_);
        fail("{}: cannot read: is {}, not a regular file; expected {}", path, kind_of(st.st_mode), expected);
    }
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0) ::fcntl(fd_, F_SETFL, flags & ~O_NONBLOCK);
    size_ = static_cast<uint64_t>(st.st_size);
}

InputFile::~InputFile() {
    if (fd_ >= 0) ::close(fd_);
}

int InputFile::release() {
    const int fd = fd_;
    fd_ = -1;
    return fd;
}

void InputFile::read(void *out, size_t n, const std::string &what) {
    auto *p = static_cast<char *>(out);
    size_t done = 0;
    while (done < n) {
        const ssize_t got = ::read(fd_, p + done, n - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("{}: read error in {}: {}", path_, what, std::strerror(errno));
        if (got == 0)
            fail("{}: unexpected end of file in {} ({} of {} bytes; did the file change while being read?)", path_,
                 what, done, n);
        done += static_cast<size_t>(got);
    }
}

std::string InputFile::read_all() {
    std::string text(static_cast<size_t>(size_), '\0');
    read(text.data(), text.size(), "the file");
    return text;
}

}  // namespace strata
