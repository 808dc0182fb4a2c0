#pragma once
/// \file
/// The file operations of the compile cache, which loads code from disk into
/// the process: a folder is opened once and checked on its descriptor (owner,
/// permissions), its files are opened relative to it without following
/// symlinks or blocking (a FIFO), checked on their descriptor (a regular file,
/// owner, permissions, size) and read from that same descriptor, so what was
/// checked is what is hashed and loaded. No Halide in this header.

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

struct stat;

namespace strata::codegen {

/// An open file descriptor, closed when it goes.
class FileHandle {
public:
    FileHandle() = default;
    explicit FileHandle(int fd) : fd_(fd) {}
    ~FileHandle();
    FileHandle(FileHandle &&other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
    FileHandle &operator=(FileHandle &&other) noexcept;
    FileHandle(const FileHandle &) = delete;
    FileHandle &operator=(const FileHandle &) = delete;

    int get() const { return fd_; }
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

/// Whose files the cache may load: a user's own cache holds only their files;
/// a shared read-only cache (STRATA_CACHE_READONLY) may also be root's.
enum class CacheOwner { current_user, current_user_or_root };

/// Why a file or folder with status `st` must not be trusted, or "" when it may:
/// it must belong to the owner `owner` allows and be writable by nobody else.
std::string distrust_reason(const struct stat &st, CacheOwner owner);

/// Opens the folder `dir` (a symlink to it is followed: the folder itself is
/// checked) and checks it as `distrust_reason` does. Throws strata::Error
/// naming `what`, the reason and the fix (as ssh refuses a loose ~/.ssh).
FileHandle open_trusted_folder(const std::filesystem::path &dir, CacheOwner owner, const std::string &what);

/// A regular file read whole from its descriptor.
struct TrustedFile {
    FileHandle handle;
    std::string bytes;
};

/// Opens `name` in the open folder `folder` (O_NOFOLLOW | O_NONBLOCK), checks it
/// is a regular file of at most `max_bytes` that may be trusted, and reads it.
/// Nothing, with `why` empty, when there is no such file; nothing, with `why`
/// saying what is wrong, when it is unfit (a symlink, a FIFO, a device, another
/// user's, group-writable, too large, unreadable).
std::optional<TrustedFile> read_trusted_file(int folder, const std::string &name, CacheOwner owner,
                                             size_t max_bytes, std::string &why);

/// The SHA-256 of `bytes`, as 64 lowercase hex digits (OpenSSL's libcrypto).
std::string sha256_hex(const std::string &bytes);

}  // namespace strata::codegen
