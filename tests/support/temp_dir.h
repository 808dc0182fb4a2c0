#pragma once
// A scratch folder for tests that write files.

#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <unistd.h>

namespace strata::testing {

/// A fresh directory under the system temp dir, removed with everything in it at scope exit.
struct TempDir {
    std::filesystem::path path;
    TempDir() {
        static int counter = 0;
        path = std::filesystem::temp_directory_path() /
               ("strata_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    TempDir(const TempDir &) = delete;
    TempDir &operator=(const TempDir &) = delete;
    std::string operator/(const std::string &name) const { return (path / name).string(); }
    /// Writes `text` to a file named `name` in this directory and returns its path.
    std::string write(const std::string &name, const std::string &text) const {
        const std::string file = (path / name).string();
        std::ofstream(file, std::ios::binary) << text;
        return file;
    }
    /// The names of the files in the directory.
    std::set<std::string> files() const {
        std::set<std::string> out;
        for (const auto &entry : std::filesystem::directory_iterator(path))
            out.insert(entry.path().filename().string());
        return out;
    }
};

}  // namespace strata::testing
