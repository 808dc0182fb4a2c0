#include "codegen/shared_object.h"

#include "runtime/buffer_pool.h"

#include <strata/error.h>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <spawn.h>
#include <sys/wait.h>
#include <vector>

extern char **environ;

namespace strata::codegen {

void link_shared_object(const std::vector<std::filesystem::path> &objects, const std::filesystem::path &out) {
    const char *cc_env = std::getenv("CC");
    const std::string cc = cc_env && *cc_env ? cc_env : "cc";
    std::vector<std::string> args = {cc, "-shared", "-o", out.string()};
    for (const auto &o : objects) args.push_back(o.string());
    for (const char *flag : {"-Wl,-Bsymbolic", "-lpthread", "-ldl", "-lm"}) args.push_back(flag);
    std::vector<char *> argv;
    for (std::string &a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    if (posix_spawnp(&pid, cc.c_str(), nullptr, nullptr, argv.data(), environ) != 0)
        fail("cannot run the C compiler '{}' to link a compiled pipeline (install gcc, set $CC, "
             "or set STRATA_NO_CACHE=1 to JIT-compile instead)", cc);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) fail("waiting for the linker '{}' failed", cc);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("linking the compiled pipeline failed: `{} -shared -o {} ...` exited with status {}", cc, out.string(),
             WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

namespace {

/// A sealed memory file holding `bytes`, under a /proc/self/fd name that no loaded
/// library has: glibc's dlopen returns an already loaded library of the same name,
/// and the descriptor of an earlier, since closed memory file may have had this number.
struct MemoryImage {
    std::vector<int> fds;  // the last one is the image; the others were names in use
    std::string path;
    ~MemoryImage() {
        for (int fd : fds) ::close(fd);
    }
};

void make_memory_image(MemoryImage &image, const std::string &name, const std::string &bytes) {
    const int fd = ::memfd_create("strata-pipeline", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) fail("cannot load the compiled pipeline {}: memfd_create failed: {}", name, std::strerror(errno));
    image.fds.push_back(fd);
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t got = ::write(fd, bytes.data() + done, bytes.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) fail("cannot load the compiled pipeline {}: {}", name, std::strerror(errno));
        done += static_cast<size_t>(got);
    }
    ::fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL);
    for (;;) {
        image.path = "/proc/self/fd/" + std::to_string(image.fds.back());
        void *loaded = dlopen(image.path.c_str(), RTLD_LAZY | RTLD_NOLOAD);
        if (!loaded) return;
        dlclose(loaded);
        const int again = ::fcntl(fd, F_DUPFD_CLOEXEC, image.fds.back() + 1);
        if (again < 0) fail("cannot load the compiled pipeline {}: {}", name, std::strerror(errno));
        image.fds.push_back(again);
    }
}

}  // namespace

SharedObject::SharedObject(const std::string &name, const std::string &bytes) : path_(name) {
    MemoryImage image;
    make_memory_image(image, name, bytes);
    handle_ = dlopen(image.path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) {
        const char *why = dlerror();
        fail("cannot load the compiled pipeline {}: {}", path_, why ? why : "unknown dlopen error");
    }
    // The object carries its own Halide runtime: its intermediate buffers come
    // from the pool of reused blocks (runtime/buffer_pool.h) too.
    using Malloc = void *(*)(void *, size_t);
    using Free = void (*)(void *, void *);
    auto set_malloc = reinterpret_cast<Malloc (*)(Malloc)>(dlsym(handle_, "halide_set_custom_malloc"));
    auto set_free = reinterpret_cast<Free (*)(Free)>(dlsym(handle_, "halide_set_custom_free"));
    if (set_malloc && set_free) {
        set_malloc([](void *, size_t bytes) { return pool_allocate(bytes); });
        set_free([](void *, void *block) { pool_release(block); });
    }
}

SharedObject::~SharedObject() {
    if (!handle_) return;
    // Join the object's Halide thread pool before its code is unmapped.
    if (auto shutdown = reinterpret_cast<void (*)()>(dlsym(handle_, "halide_shutdown_thread_pool"))) shutdown();
    dlclose(handle_);
}

void *SharedObject::symbol(const std::string &name) const {
    dlerror();
    void *address = dlsym(handle_, name.c_str());
    if (!address) fail("the compiled pipeline {} has no symbol '{}'", path_, name);
    return address;
}

}  // namespace strata::codegen
