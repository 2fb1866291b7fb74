// The guard every command runs before it writes a run folder: a folder that holds someone else's
// files is refused, never written into. Leaves out what each command keeps in its runs.
#pragma once

#include <string>  // std::string

namespace r1 {

// Refuses a run folder that is someone else's: `dir` exists, is not empty, and holds no
// `marker` (the file every run of `command` writes first, e.g. run.json). Throws r1::Error naming
// it, so no user file is replaced or appended to. A missing or empty folder passes, and so does one
// holding only the temp files of a killed run's first write of `marker` (removed).
void check_run_dir(const std::string& dir, const std::string& marker, const std::string& command);

}  // namespace r1
