#pragma once
/// \file
/// Linking a compiled object file into a shared object with the system C
/// compiler, and loading one with dlopen from memory. No Halide in this header.

#include <filesystem>
#include <string>
#include <vector>

namespace strata::codegen {

/// Links object files into the shared object `out` ($CC, else `cc`). Symbols
/// bind inside it (-Bsymbolic), so every loaded pipeline keeps its own Halide
/// runtime. Throws strata::Error with the command when it fails.
void link_shared_object(const std::vector<std::filesystem::path> &objects, const std::filesystem::path &out);

/// A dlopen'ed shared object, closed when the last copy goes.
class SharedObject {
public:
    /// Loads the shared object whose contents are `bytes` (RTLD_NOW | RTLD_LOCAL):
    /// they are copied into a sealed memory file (memfd) and that is loaded, so what
    /// runs is exactly what the caller verified, whatever happens on disk meanwhile.
    /// `name` (its path in the cache) is for messages. Throws strata::Error with
    /// dlerror's message.
    SharedObject(const std::string &name, const std::string &bytes);
    ~SharedObject();
    SharedObject(const SharedObject &) = delete;
    SharedObject &operator=(const SharedObject &) = delete;

    /// The address of `name`; throws when the object has no such symbol.
    void *symbol(const std::string &name) const;

private:
    void *handle_ = nullptr;
    std::string path_;
};

}  // namespace strata::codegen
