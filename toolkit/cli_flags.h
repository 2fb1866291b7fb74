// How every r1 command reads its flags: --help prints the help and exits 0, a bad flag prints
// CLI11's message and exits 2 (r1sandbox aside, whose 1 is its own contract).
#pragma once

#include <CLI/CLI.hpp>  // CLI::App, CLI::ParseError

#include <optional>  // std::optional

namespace r1 {

// Parses argv into `app`; the exit code to return at once (0 after --help, 2 for a bad flag), or
// nullopt to go on.
inline std::optional<int> parse_flags(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return std::nullopt;
}

}  // namespace r1
