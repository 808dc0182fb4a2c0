#pragma once
/// \file
/// Opening a file Strata reads: only a regular file is accepted. A FIFO would block in
/// `open()` until a writer comes, and a device such as /dev/zero never ends; a folder is
/// refused with its own message. The size is known before reading, so readers can bound
/// what they allocate by what the file really holds.

#include <cstdint>
#include <string>

namespace strata {

/// A regular file open for reading, closed at scope exit.
class InputFile {
public:
    /// Opens `path`; `expected` says what the file should be, for messages ("a safetensors file").
    /// Throws `strata::Error` when it cannot be opened or is not a regular file.
    InputFile(const std::string &path, const std::string &expected);
    ~InputFile();
    InputFile(const InputFile &) = delete;
    InputFile &operator=(const InputFile &) = delete;

    const std::string &path() const { return path_; }
    /// The size when the file was opened.
    uint64_t size() const { return size_; }
    /// The descriptor, still owned by this object.
    int fd() const { return fd_; }
    /// Hands the descriptor over (e.g. to zlib's gzdopen, which closes it).
    int release();

    /// Reads exactly `n` bytes of `what`; a short read means the file changed while being read.
    void read(void *out, size_t n, const std::string &what);
    /// The whole file as it was when opened (at most `size()` bytes).
    std::string read_all();

private:
    std::string path_;
    int fd_ = -1;
    uint64_t size_ = 0;
};

}  // namespace strata
