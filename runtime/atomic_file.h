#pragma once
/// \file
/// Atomic file writes: the data goes to a temporary file in the destination's
/// folder, is flushed to disk (fsync), and only then renamed over the
/// destination. A crash, a full disk or an exception mid-write leaves the old
/// file (or no file) in place, never a half-written one, and no temporary file.
/// A symlink at the destination is written through (its final target is
/// replaced, the link stays); a replaced file keeps its mode, a new file gets
/// the user's umask (0666 & ~umask).
/// A killed writer (kill -9, power loss) does leave its temporary file,
/// `NAME.tmp<pid>.<n>`; the next writer of NAME removes it once that pid is gone.
///
///     AtomicFileWriter out("model.safetensors");
///     out.write(header.data(), header.size());
///     out.write(weights, weights_bytes);   // any number of pieces
///     out.commit();                        // now "model.safetensors" is the new file

#include <cstddef>
#include <string>

namespace strata {

class AtomicFileWriter {
public:
    /// Creates the temporary file beside `path`; throws `strata::Error` when it cannot.
    /// First removes stale temporary files of `path` (see `remove_stale_temp_files`).
    explicit AtomicFileWriter(std::string path);
    /// Removes the temporary file unless `commit` succeeded.
    ~AtomicFileWriter();
    AtomicFileWriter(const AtomicFileWriter &) = delete;
    AtomicFileWriter &operator=(const AtomicFileWriter &) = delete;

    /// Appends `n` bytes; on failure removes the temporary file and throws.
    void write(const void *data, size_t n);
    /// Flushes to disk and renames the temporary file to `path`; throws on failure
    /// (the temporary file is removed and `path` is left as it was).
    void commit();

    const std::string &path() const { return path_; }
    /// The temporary file being written (for tests and messages).
    const std::string &temp_path() const { return temp_path_; }
    /// Bytes written so far.
    size_t bytes_written() const { return written_; }

private:
    /// Closes and removes the temporary file (idempotent).
    void discard() noexcept;

    std::string path_;
    std::string target_;  ///< `path_`, or the final target of the symlink it is
    std::string temp_path_;
    int fd_ = -1;
    size_t written_ = 0;
    bool committed_ = false;
};

/// Removes the temporary files `path.tmp<pid>.<n>` left beside `path` by writers whose
/// process no longer exists (`kill(pid, 0)` fails with ESRCH), and those named with this
/// process's pid that none of its writers has open (left by an earlier process with the same
/// pid). Files of other live processes and every other file are kept. Best effort: never throws.
/// Pids are those of this pid namespace: a writer in another container sharing the folder
/// would look gone, and its save would then fail at the rename (with an error, no damage).
void remove_stale_temp_files(const std::string &path);

/// Writes `contents` to `path` atomically (see `AtomicFileWriter`).
void write_file_atomically(const std::string &path, const std::string &contents);

}  // namespace strata
