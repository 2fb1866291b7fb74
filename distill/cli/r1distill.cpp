// r1distill: distil a teacher into a student, gated on held-out evaluations (distill/distill.h).
//   r1distill --teacher T --student S --prompts FILE --out DIR [--eval-data FILE] [...]
//   r1distill toy [--out DIR]   the CPU-sized proof: tiny R1-Zero teacher into a smaller student
#include <CLI/CLI.hpp>  // CLI::App

#include <cstdio>  // std::printf
#include <string>  // std::string

#include "distill/distill.h"    // r1::DistillConfig, r1::run_distill, r1::run_distill_toy
#include "rl/config_flags.h"    // r1::add_config_flags
#include "toolkit/cli_flags.h"  // r1::parse_flags
#include "toolkit/cli_main.h"   // r1::guarded_main
#include "toolkit/hf_hub.h"     // r1::resolve_model_path

namespace {

std::string command_line(int argc, char** argv) {
  std::string s = "r1distill";
  for (int i = 1; i < argc; ++i) s += std::string(" ") + argv[i];
  return s;
}

int run(int argc, char** argv) {
  CLI::App app{
      "r1distill: teacher traces -> rejection sampling -> student SFT, with the student evaluated "
      "before and after (OUT/report.md); rerun to resume"};
  r1::DistillConfig config;
  r1::add_config_flags(app, config, [](auto& c, auto&& f) { r1::visit_distill_config(c, f); }, {});
  auto* toy = app.add_subcommand(
      "toy", "the CPU-sized proof: distil the tiny R1-Zero (r1train zero) into a smaller student");
  r1::DistillToyConfig toy_config;
  r1::add_config_flags(*toy, toy_config,
                       [](auto& c, auto&& f) { r1::visit_distill_toy_config(c, f); }, {});
  if (const auto code = r1::parse_flags(app, argc, argv)) return *code;
  if (toy->parsed()) {
    const auto r = r1::run_distill_toy(toy_config);
    std::printf(
        "r1distill toy: %s/results.md: teacher %.3f, distilled student %.3f (%.1f%% of the "
        "teacher), student without traces %.3f\n",
        toy_config.out.c_str(), r.at("pass@1").at("teacher").get<double>(),
        r.at("pass@1").at("student_distilled").get<double>(),
        100 * r.at("distilled_over_teacher").get<double>(),
        r.at("pass@1").at("student_zero_rl").get<double>());
    return 0;
  }
  config.command = command_line(argc, argv);
  config.teacher = r1::resolve_model_path(config.teacher);  // a hub id: its cached snapshot
  config.student = r1::resolve_model_path(config.student);
  const auto r = r1::run_distill(config);
  if (!r.report_path.empty()) {
    std::printf("r1distill: %s\n", r.report_path.c_str());
  } else {
    std::printf("r1distill: stopped after stage %s (%s)\n", config.until.c_str(),
                r.student.empty() ? config.out.c_str() : r.student.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return r1::guarded_main("r1distill", [&] { return run(argc, argv); });
}
