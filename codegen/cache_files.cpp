#include "codegen/cache_files.h"

#include <strata/error.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <sys/stat.h>
#include <unistd.h>

namespace strata::codegen {

FileHandle::~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
}

FileHandle &FileHandle::operator=(FileHandle &&other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.fd_;
        other.fd_ = -1;
    }
    return *this;
}

std::string distrust_reason(const struct stat &st, CacheOwner owner) {
    const uid_t me = ::geteuid();
    const bool owner_ok = st.st_uid == me || (owner == CacheOwner::current_user_or_root && st.st_uid == 0);
    if (!owner_ok)
        return fmt::format("it belongs to user id {}, not to you (user id {}{})", st.st_uid, me,
                           owner == CacheOwner::current_user_or_root ? " or root" : "");
    if (st.st_mode & (S_IWGRP | S_IWOTH))
        return fmt::format("it is writable by {} (mode {:04o})", st.st_mode & S_IWOTH ? "every user" : "its group",
                           st.st_mode & 07777);
    return "";
}

FileHandle open_trusted_folder(const std::filesystem::path &dir, CacheOwner owner, const std::string &what) {
    FileHandle folder(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!folder)
        fail("{}: cannot open the folder {}: {} (set STRATA_CACHE_DIR to a folder of yours, or STRATA_NO_CACHE=1)",
             what, dir.string(), std::strerror(errno));
    struct stat st {};
    if (::fstat(folder.get(), &st) != 0)
        fail("{}: cannot read the status of {}: {}", what, dir.string(), std::strerror(errno));
    const std::string why = distrust_reason(st, owner);
    if (why.empty()) return folder;
    const std::string fix =
        owner == CacheOwner::current_user
            ? fmt::format("Fix it with `chown $(id -un) {0} && chmod go-w {0}`, point STRATA_CACHE_DIR at a folder "
                          "of your own, or set STRATA_NO_CACHE=1",
                          dir.string())
            : fmt::format("Its administrator can fix it with `chown -R root: {0} && chmod -R go-w {0}`; or unset "
                          "STRATA_CACHE_READONLY",
                          dir.string());
    fail("{}: refusing to load compiled code from {}: {}, so others could run code in this process. {}", what,
         dir.string(), why, fix);
}

std::optional<TrustedFile> read_trusted_file(int folder, const std::string &name, CacheOwner owner,
                                             size_t max_bytes, std::string &why) {
    why.clear();
    // O_NONBLOCK: opening a FIFO would otherwise wait for a writer forever.
    FileHandle file(::openat(folder, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    if (!file) {
        if (errno != ENOENT) why = errno == ELOOP ? "it is a symlink" : std::strerror(errno);
        return std::nullopt;
    }
    struct stat st {};
    if (::fstat(file.get(), &st) != 0) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    if (!S_ISREG(st.st_mode)) {
        why = "it is not a regular file";
        return std::nullopt;
    }
    why = distrust_reason(st, owner);
    if (!why.empty()) return std::nullopt;
    if (static_cast<unsigned long long>(st.st_size) > max_bytes) {
        why = fmt::format("it is {} bytes, more than the {} a cache file may have", st.st_size, max_bytes);
        return std::nullopt;
    }
    TrustedFile out{std::move(file), std::string(static_cast<size_t>(st.st_size), '\0')};
    size_t done = 0;
    while (done < out.bytes.size()) {
        const ssize_t got = ::read(out.handle.get(), out.bytes.data() + done, out.bytes.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            why = got < 0 ? std::strerror(errno) : "it shrank while being read";
            return std::nullopt;
        }
        done += static_cast<size_t>(got);
    }
    return out;
}

std::string sha256_hex(const std::string &bytes) {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!context || EVP_DigestInit_ex(context.get(), EVP_sha256(), nullptr) != 1 ||
        EVP_DigestUpdate(context.get(), bytes.data(), bytes.size()) != 1 ||
        EVP_DigestFinal_ex(context.get(), digest, &length) != 1)
        fail("compile cache: OpenSSL could not compute a SHA-256");
    std::string hex;
    for (unsigned int i = 0; i < length; ++i) hex += fmt::format("{:02x}", digest[i]);
    return hex;
}

}  // namespace strata::codegen
