// What `r1pipeline check`, and `r1pipeline run` before anything runs, find wrong in a parsed recipe
// beyond its syntax (issue 17, D10), so that no stage trains before the mistake shows:
//   - a model directory that is not a checkpoint (no config.json);
//   - a data or prompt file, or an evaluation dataset, that is not a file;
//   - a trainer field out of range (steps: -3), by the trainer's own check;
//   - an SFT stage without data and no rejection_sampling stage before it to provide some;
//   - a gate on a benchmark the stage's evaluation does not evaluate.
// Files under the built-in model's ${assets} are made by the run itself and are not checked.
// Leaves out what only the run can know (a preset student's download, a benchmark file's place).
#pragma once

#include <string>  // std::string

#include "pipeline/recipe.h"  // r1::Recipe

namespace r1 {

// Throws r1::Error naming the recipe, the stage and the field. `run_dir` is the run's folder (the
// built-in model's assets live under it).
void preflight_recipe(const Recipe& recipe, const std::string& run_dir);

}  // namespace r1
