// `r1eval get`: a registered benchmark's file fetched from its pinned public URL (download.h:
// redirects, resume, progress), decompressed when the URL ends in .gz, checked against the
// registry's sha256 and only then given its name in the data directory. Leaves out sources
// without a single public file (aime2025): r1 says where the file comes from.
#pragma once

#include <string>  // std::string

#include "evals/benchmarks.h"  // r1::BenchmarkSpec
#include "toolkit/download.h"  // r1::FetchOptions

namespace r1 {

// Fetches `spec`'s file into `dir` (made if missing) and returns its path. A file already there
// with the registry's sha256 is kept (nothing fetched); one that differs is refused, not
// overwritten. `url` replaces spec.url (a mirror of the same bytes). Throws r1::Error naming the
// benchmark and the URL: no URL, an HTTP error, a sha256 mismatch (nothing is kept).
std::string download_dataset(const BenchmarkSpec& spec, const std::string& dir,
                             const std::string& url = "", const FetchOptions& options = {});

}  // namespace r1
