// Evaluation protocols (see protocol.h).
#include "evals/protocol.h"

#include "evals/code_benchmarks.h"  // r1::code_prompt
#include "toolkit/error.h"          // r1::Error, r1::check
#include "toolkit/hash.h"           // r1::fnv1a64
#include "toolkit/sampling.h"       // r1::derive_seed

namespace r1 {
namespace {

// The offset basis of the problem hash behind every evaluation's sample seeds: FNV's own with its
// last digit dropped (14695981039346656037 -> 1469598103934665603), as r1 first wrote it; kept,
// because changing it would change every stored evaluation's samples.
constexpr uint64_t kProblemHashBasis = 1469598103934665603ull;
uint64_t fnv1a(const std::string& s) { return fnv1a64(s, kProblemHashBasis); }

}  // namespace

Protocol protocol_preset(const std::string& name) {
  Protocol p;
  p.preset = name;
  if (name == "r1") return p;
  if (name == "r1-64") {
    p.samples = 64;
    return p;
  }
  if (name == "greedy") {
    p.temperature = 0;
    p.top_p = 1;
    p.samples = 1;
    return p;
  }
  if (name == "grpo") {
    p.prompt_template = "{problem}";
    return p;
  }
  throw Error("unknown protocol preset '" + name + "' (known: r1, r1-64, greedy, grpo)");
}

nlohmann::json protocol_to_json(const Protocol& p) {
  return {{"preset", p.preset},
          {"system_prompt", p.system_prompt},
          {"prompt_template", p.prompt_template},
          {"code_prompt_template", p.code_prompt_template},
          {"force_think", p.force_think},
          {"temperature", p.temperature},
          {"top_p", p.top_p},
          {"top_k", p.top_k},
          {"max_new_tokens", p.max_new_tokens},
          {"samples", p.samples},
          {"seed", p.seed},
          {"extract", p.extract},
          {"float_places", p.float_places}};
}

Protocol protocol_from_json(const nlohmann::json& j, const std::string& where) {
  check(j.is_object(), where + ": protocol must be a JSON object");
  Protocol p;
  auto get = [&](const char* key, auto& out) {
    check(j.contains(key), where + ": protocol is missing field " + key);
    try {
      j.at(key).get_to(out);
    } catch (const nlohmann::json::exception&) {
      throw Error(where + ": protocol field " + key + " has the wrong type");
    }
  };
  get("preset", p.preset);
  get("system_prompt", p.system_prompt);
  get("prompt_template", p.prompt_template);
  // Runs made before code benchmarks have no code_prompt_template: the default.
  if (j.contains("code_prompt_template")) get("code_prompt_template", p.code_prompt_template);
  get("force_think", p.force_think);
  get("temperature", p.temperature);
  get("top_p", p.top_p);
  get("top_k", p.top_k);
  get("max_new_tokens", p.max_new_tokens);
  get("samples", p.samples);
  get("seed", p.seed);
  get("extract", p.extract);
  get("float_places", p.float_places);
  return p;
}

std::string generation_difference(const Protocol& a, const Protocol& b) {
  if (a.system_prompt != b.system_prompt) return "system_prompt";
  if (a.prompt_template != b.prompt_template) return "prompt_template";
  if (a.code_prompt_template != b.code_prompt_template) return "code_prompt_template";
  if (a.force_think != b.force_think) return "force_think";
  if (a.temperature != b.temperature) return "temperature";
  if (a.top_p != b.top_p) return "top_p";
  if (a.top_k != b.top_k) return "top_k";
  if (a.max_new_tokens != b.max_new_tokens) return "max_new_tokens";
  if (a.seed != b.seed) return "seed";
  return "";
}

std::vector<ChatMessage> protocol_messages(const Protocol& p, const Problem& problem) {
  std::vector<ChatMessage> m;
  if (!p.system_prompt.empty()) m.push_back({"system", p.system_prompt});
  std::string user = problem.code ? p.code_prompt_template : p.prompt_template;
  const std::string key = "{problem}";
  const size_t at = user.find(key);
  check(at != std::string::npos, "prompt template has no {problem}: " + user);
  user.replace(at, key.size(), problem.code ? code_prompt(problem) : problem.question);
  m.push_back({"user", user});
  return m;
}

std::string render_generation_prompt(const ChatTemplate& chat,
                                     const std::vector<ChatMessage>& messages, bool force_think) {
  std::string text = render_chat(chat, messages, /*add_generation_prompt=*/true);
  const std::string think = "<think>\n";
  if (force_think && !text.ends_with(think)) text += think;
  return text;
}

uint64_t sample_seed(uint64_t run_seed, const std::string& benchmark, const std::string& problem_id,
                     int64_t sample_index) {
  return derive_seed(run_seed,
                     {fnv1a(benchmark), fnv1a(problem_id), static_cast<uint64_t>(sample_index)}) &
         0x7fffffffull;
}

}  // namespace r1
