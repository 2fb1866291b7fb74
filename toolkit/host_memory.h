// How much memory this process may still use: the least of the host's available memory
// (/proc/meminfo MemAvailable), the cgroup's headroom (memory.max - memory.current, cgroup v2)
// and the address space left under RLIMIT_AS. Used to refuse work that cannot fit before
// allocating it. Leaves out swap and cgroup v1.
#pragma once

#include <cstdint>  // int64_t
#include <string>   // std::string

namespace r1 {

// Bytes this process can still allocate (INT64_MAX when nothing says).
int64_t available_memory_bytes();
// "1.5 GB", "340 MB": for error messages.
std::string format_bytes(int64_t bytes);

}  // namespace r1
