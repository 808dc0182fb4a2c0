#include "codegen/shared_object.h"

#include "runtime/buffer_pool.h"

#include <strata/error.h>

#include <cerrno>
#include <cstdlib>
#include <dlfcn.h>
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

SharedObject::SharedObject(const std::filesystem::path &path) : path_(path.string()) {
    handle_ = dlopen(path_.c_str(), RTLD_NOW | RTLD_LOCAL);
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
