// The generation engine (see engine.h). Active sequences occupy cache rows [0, B) with no gaps:
// a finished row is replaced by the last one (its K/V copied), so each decode step runs the model
// on exactly the live rows. Prefills run between decode steps whenever rows are free.
#include "toolkit/engine.h"

#include <torch/torch.h>  // torch ops

#include <algorithm>  // std::find
#include <deque>      // std::deque

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {
namespace {

// A batch of samples of one request admitted together (they share the prefill).
struct Unit {
  size_t request;
  int64_t first, count;  // samples [first, first + count)
};

struct Row {
  size_t request;
  int64_t sample;
  int64_t length;  // tokens in the cache; the pending token goes to slot `length`
  int64_t next;    // sampled token not yet fed to the model
  SampleRng rng;
  GeneratedSample out;
};

size_t max_stop_chars(const GenerationRequest& r) {
  size_t m = 0;
  for (const auto& s : r.stop_strings) m = std::max(m, s.size());
  return m;
}

}  // namespace

void check_request(const GenerationRequest& r, size_t index, int64_t vocab_size,
                   int64_t max_context) {
  const std::string where = "request " + std::to_string(index);
  check(!r.prompt.empty(), where + ": prompt is empty");
  for (size_t i = 0; i < r.prompt.size(); ++i)
    check(r.prompt[i] >= 0 && r.prompt[i] < vocab_size,
          where + ": prompt id " + std::to_string(r.prompt[i]) + " at position " +
              std::to_string(i) + " is outside the vocabulary [0, " + std::to_string(vocab_size) +
              ")");
  check(static_cast<int64_t>(r.prompt.size()) < max_context,
        where + ": prompt of " + std::to_string(r.prompt.size()) +
            " tokens does not fit the context of " + std::to_string(max_context) +
            " (shorten it or raise --max-context)");
  check(r.n >= 1, where + ": n must be at least 1");
  check(r.max_new_tokens >= 1, where + ": max_new_tokens must be at least 1");
  check(r.sampling.temperature >= 0, where + ": temperature must be >= 0");
  check(r.sampling.top_p > 0 && r.sampling.top_p <= 1, where + ": top_p must be in (0, 1]");
  check(r.sampling.top_k >= 0, where + ": top_k must be >= 0");
  check(r.sample_seeds.empty() || static_cast<int64_t>(r.sample_seeds.size()) == r.n,
        where + ": sample_seeds must be empty or hold n seeds");
  for (int64_t id : r.stop_ids)
    check(id >= 0 && id < vocab_size,
          where + ": stop id " + std::to_string(id) + " is outside the vocabulary");
}

Engine::Engine(std::shared_ptr<Transformer> model, EngineOptions options)
    : model_(std::move(model)), options_(std::move(options)) {
  if (options_.max_context <= 0) options_.max_context = model_->config().max_position_embeddings;
  check(options_.max_batch >= 1, "engine: max_batch must be at least 1");
}

std::vector<std::vector<GeneratedSample>> Engine::generate(
    const std::vector<GenerationRequest>& requests, const OnSample& on_sample) {
  const auto& cfg = model_->config();
  for (size_t i = 0; i < requests.size(); ++i) {
    check_request(requests[i], i, cfg.vocab_size, options_.max_context);
    check(requests[i].stop_strings.empty() || options_.detokenize,
          "request " + std::to_string(i) + ": stop strings need a tokenizer");
  }
  torch::InferenceMode inference;
  const auto dev = model_->options().device();
  const auto long_opts = torch::dtype(torch::kLong).device(dev);

  std::vector<std::vector<GeneratedSample>> results(requests.size());
  std::deque<Unit> pending;
  for (size_t i = 0; i < requests.size(); ++i) {
    results[i].resize(requests[i].n);
    for (int64_t f = 0; f < requests[i].n; f += options_.max_batch)
      pending.push_back({i, f, std::min(options_.max_batch, requests[i].n - f)});
  }
  int64_t longest = 1;
  for (const auto& r : requests) longest = std::max<int64_t>(longest, r.prompt.size() + 1);
  int64_t samples = 0;
  for (const auto& r : requests) samples += r.n;
  // Rows for the sequences that can be live at once, not more: a cache row costs S * layers * KV.
  KVCache cache(cfg, std::min(options_.max_batch, std::max<int64_t>(samples, 1)),
                std::min<int64_t>(longest + 64, options_.max_context), options_.max_context,
                model_->options());
  std::vector<Row> rows;

  // Appends a sampled token to a row and decides whether the row is finished.
  auto accept = [&](Row& row, int64_t token, float logprob) {
    const auto& req = requests[row.request];
    row.out.ids.push_back(token);
    row.out.logprobs.push_back(logprob);
    row.next = token;
    if (std::find(req.stop_ids.begin(), req.stop_ids.end(), token) != req.stop_ids.end()) {
      row.out.finish_reason = "stop";
      return true;
    }
    if (!req.stop_strings.empty()) {
      // Only a window that ends at the new token can newly contain a stop string.
      const size_t window = std::min(row.out.ids.size(), max_stop_chars(req) + 4);
      const std::string tail =
          options_.detokenize(std::vector<int64_t>(row.out.ids.end() - window, row.out.ids.end()));
      for (const auto& s : req.stop_strings)
        if (!s.empty() && tail.find(s) != std::string::npos) {
          row.out.finish_reason = "stop";
          row.out.stop_string = s;
          return true;
        }
    }
    if (static_cast<int64_t>(row.out.ids.size()) >= req.max_new_tokens ||
        row.length + 1 >= options_.max_context) {
      row.out.finish_reason = "length";
      return true;
    }
    return false;
  };
  auto finish = [&](size_t r) {
    Row& row = rows[r];
    results[row.request][row.sample] = std::move(row.out);
    if (on_sample) on_sample(row.request, row.sample, results[row.request][row.sample]);
    const size_t last = rows.size() - 1;
    if (r != last) {
      cache.move_row(static_cast<int64_t>(last), static_cast<int64_t>(r), rows[last].length);
      rows[r] = std::move(rows[last]);
    }
    rows.pop_back();
  };

  while (!pending.empty() || !rows.empty()) {
    // Admission: as many units as fit the free rows and the prefill budget (at least one).
    std::vector<Unit> admit;
    int64_t free_rows = cache.rows() - static_cast<int64_t>(rows.size());
    int64_t max_len = 0;
    while (!pending.empty() && pending.front().count <= free_rows) {
      const int64_t len = requests[pending.front().request].prompt.size();
      const int64_t padded = std::max(max_len, len) * static_cast<int64_t>(admit.size() + 1);
      if (!admit.empty() && padded > options_.max_prefill_tokens) break;
      max_len = std::max(max_len, len);
      free_rows -= pending.front().count;
      admit.push_back(pending.front());
      pending.pop_front();
    }
    if (!admit.empty()) {
      const int64_t U = admit.size();
      auto ids = torch::zeros({U, max_len}, torch::kLong);
      auto valid = torch::zeros({U, max_len}, torch::kBool);
      for (int64_t u = 0; u < U; ++u) {
        const auto& p = requests[admit[u].request].prompt;
        for (size_t t = 0; t < p.size(); ++t) ids[u][t] = p[t];
        valid[u].narrow(0, 0, p.size()).fill_(true);
      }
      auto positions = torch::arange(max_len, torch::kLong).unsqueeze(0).expand({U, max_len});
      LayerKV kv;
      auto hidden = model_->forward(ids.to(dev), positions.to(dev), valid.to(dev), &kv);
      std::vector<int64_t> last(U);
      for (int64_t u = 0; u < U; ++u) last[u] = requests[admit[u].request].prompt.size() - 1;
      auto idx = torch::tensor(last, torch::kLong).to(dev);
      auto h_last = hidden.index({torch::arange(U, long_opts), idx});  // (U, C)
      auto logits = model_->logits(h_last);                            // (U, V)
      std::vector<int64_t> row_unit;
      for (int64_t u = 0; u < U; ++u) {
        const auto& req = requests[admit[u].request];
        const int64_t len = req.prompt.size();
        std::vector<torch::Tensor> pk, pv;
        for (size_t l = 0; l < kv.k.size(); ++l) {
          pk.push_back(kv.k[l][u].narrow(1, 0, len));
          pv.push_back(kv.v[l][u].narrow(1, 0, len));
        }
        for (int64_t j = admit[u].first; j < admit[u].first + admit[u].count; ++j) {
          Row row;
          row.request = admit[u].request;
          row.sample = j;
          row.length = len;
          row.next = -1;
          row.rng.seed = req.sample_seeds.empty()
                             ? derive_seed(req.seed, {static_cast<uint64_t>(j)})
                             : req.sample_seeds[j];
          cache.write_prefix(static_cast<int64_t>(rows.size()), pk, pv);
          rows.push_back(std::move(row));
          row_unit.push_back(u);
        }
      }
      // First token of every admitted row, from its prompt's last logits.
      const size_t first_new = rows.size() - row_unit.size();
      auto unit_idx = torch::tensor(row_unit, torch::kLong).to(dev);
      auto row_logits = logits.index_select(0, unit_idx);
      std::vector<SamplingParams> params;
      std::vector<SampleRng*> rngs;
      for (size_t r = first_new; r < rows.size(); ++r) {
        params.push_back(requests[rows[r].request].sampling);
        rngs.push_back(&rows[r].rng);
      }
      auto s = sample_tokens(row_logits, params, rngs);
      for (size_t r = rows.size(); r-- > first_new;)
        if (accept(rows[r], s.ids[r - first_new], s.logprobs[r - first_new])) finish(r);
      continue;  // admit more before decoding, if rows are still free
    }
    if (rows.empty()) continue;

    // One decode step over rows [0, B).
    const int64_t B = rows.size();
    std::vector<int64_t> next(B), pos(B);
    std::vector<SamplingParams> params(B);
    std::vector<SampleRng*> rngs(B);
    for (int64_t r = 0; r < B; ++r) {
      next[r] = rows[r].next;
      pos[r] = rows[r].length;
      params[r] = requests[rows[r].request].sampling;
      rngs[r] = &rows[r].rng;
    }
    auto ids = torch::tensor(next, torch::kLong).view({B, 1}).to(dev);
    auto positions = torch::tensor(pos, torch::kLong).to(dev);
    auto hidden = model_->decode(ids, positions, cache);  // (B, 1, C)
    auto logits = model_->logits(hidden.squeeze(1));      // (B, V)
    auto s = sample_tokens(logits, params, rngs);
    for (int64_t r = 0; r < B; ++r) rows[r].length += 1;
    for (int64_t r = B; r-- > 0;)
      if (accept(rows[r], s.ids[r], s.logprobs[r])) finish(r);
  }
  return results;
}

}  // namespace r1
