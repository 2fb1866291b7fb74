// Small file helpers: read a whole file, write one atomically (temp file, fsync, rename).
// Leaves out directory-level atomic writes: checkpoints build a temp dir and rename it themselves.
#pragma once

#include <cstdint>     // uint8_t
#include <cstdio>      // std::FILE
#include <functional>  // std::function
#include <memory>      // std::shared_ptr
#include <string>      // std::string

namespace r1 {

// The whole content of `path`; throws r1::Error naming the file if it cannot be read or is not a
// regular file (a device, FIFO or directory: refused without reading or waiting).
std::string read_file(const std::string& path);

// A sibling of `path` for writing before a rename: "<path>.tmp.<pid>.<n>", distinct for every call
// in this process (threads included) and from every other process.
std::string unique_tmp_path(const std::string& path);

// Writes `path` by calling `write` on a temporary file beside it, then fsync and rename, so a crash
// or a full disk leaves either the old file or the new one, never a torn one. `write` returns false
// on a failed write; the temp file is removed and r1::Error thrown.
void write_file_atomic(const std::string& path, const std::function<bool(std::FILE*)>& write);
// The same for a whole text (or byte string) at once.
void write_file_atomic(const std::string& path, const std::string& content);

// A regular file mapped copy-on-write (readable and writable in memory; writes never reach the
// file), unmapped when the last owner goes.
struct MappedFile {
  uint8_t* data = nullptr;
  size_t size = 0;
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();
};
// Maps `path`; throws r1::Error naming it when it cannot be opened, is not a regular file (a FIFO
// is refused without waiting for a writer) or is shorter than `min_size` bytes (`kind` names what
// it should have been, e.g. "a safetensors file").
std::shared_ptr<MappedFile> map_file(const std::string& path, size_t min_size,
                                     const std::string& kind);

}  // namespace r1
