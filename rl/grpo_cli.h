// `r1train grpo`: the GRPO trainer's subcommand, its flags derived from GrpoConfig.
// rl/cli/r1train.cpp adds it to its command list; leaves out everything but flag parsing and the
// summary line.
#pragma once

#include <functional>  // std::function

namespace CLI {
class App;
}

namespace r1 {

// Adds the "grpo" subcommand to `parent` and returns its action: -1 when the subcommand was not
// the one parsed, else runs the trainer, prints one summary line and returns the exit code.
std::function<int()> add_grpo_command(CLI::App& parent);

}  // namespace r1
