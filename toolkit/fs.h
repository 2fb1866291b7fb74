// Small file helpers: read a whole file, write one atomically (temp file, fsync, rename).
// Leaves out directory-level atomic writes: checkpoints build a temp dir and rename it themselves.
#pragma once

#include <cstdio>      // std::FILE
#include <functional>  // std::function
#include <string>      // std::string

namespace r1 {

// The whole content of `path`; throws r1::Error naming the file if it cannot be read.
std::string read_file(const std::string& path);

// Writes `path` by calling `write` on a temporary file beside it, then fsync and rename, so a crash
// or a full disk leaves either the old file or the new one, never a torn one. `write` returns false
// on a failed write; the temp file is removed and r1::Error thrown.
void write_file_atomic(const std::string& path, const std::function<bool(std::FILE*)>& write);
// The same for a whole text (or byte string) at once.
void write_file_atomic(const std::string& path, const std::string& content);

}  // namespace r1
