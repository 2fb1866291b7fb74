// The generation engine (see engine.h). Active sequences occupy cache rows [0, B) with no gaps:
// a finished row is replaced by the last one (its K/V copied), so each decode step runs the model
// on exactly the live rows. Prefills run between decode steps whenever rows are free. One Batcher
// does the work for both Engine::generate (all requests known up front) and EngineLoop (requests
// arriving over time).
#include "toolkit/engine.h"

#include <torch/torch.h>  // torch ops

#include <algorithm>  // std::find
#include <chrono>     // std::chrono
#include <deque>      // std::deque
#include <exception>  // std::exception_ptr
#include <optional>   // std::optional

#include "toolkit/error.h"  // r1::Error, r1::check

namespace r1 {

// A request inside the batcher: its samples as they finish, and who to tell.
struct EnginePending {
  GenerationRequest req;
  size_t index = 0;  // reported to on_sample
  std::vector<GeneratedSample> results;
  int64_t remaining = 0;
  Engine::OnSample on_sample;
  std::function<void(std::vector<GeneratedSample>&&)> on_done;
  std::function<void(std::exception_ptr)> on_error;
};

namespace {

// A batch of samples of one request admitted together (they share the prefill).
struct Unit {
  std::shared_ptr<EnginePending> request;
  int64_t first, count;  // samples [first, first + count)
};

struct Row {
  std::shared_ptr<EnginePending> request;
  int64_t sample;
  int64_t length;  // tokens in the cache; the pending token goes to slot `length`
  int64_t next;    // sampled token not yet fed to the model
  SampleRng rng;
  GeneratedSample out;
};

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

size_t max_stop_chars(const GenerationRequest& r) {
  size_t m = 0;
  for (const auto& s : r.stop_strings) m = std::max(m, s.size());
  return m;
}

// Continuous batching over one cache: add() queues requests, step() runs one admission + prefill
// or one decode step.
class Batcher {
 public:
  Batcher(Transformer& model, const EngineOptions& options, int64_t rows, int64_t capacity,
          EngineStats& stats)
      : model_(model),
        options_(options),
        stats_(stats),
        cache_(model.config(), rows, std::min(capacity, options.max_context), options.max_context,
               model.options()) {
    stats_.rows = rows;
  }

  void add(std::shared_ptr<EnginePending> p) {
    p->results.resize(p->req.n);
    p->remaining = p->req.n;
    for (int64_t f = 0; f < p->req.n; f += cache_.rows())
      pending_.push_back({p, f, std::min(cache_.rows(), p->req.n - f)});
  }
  bool busy() const { return !pending_.empty() || !rows_.empty(); }
  int64_t live_rows() const { return static_cast<int64_t>(rows_.size()); }

  void step() {
    drop_cancelled();
    if (admit()) return;
    if (!rows_.empty()) decode();
  }

 private:
  // Appends a sampled token to a row and decides whether the row is finished.
  bool accept(Row& row, int64_t token, float logprob) {
    const auto& req = row.request->req;
    row.out.ids.push_back(token);
    row.out.logprobs.push_back(logprob);
    row.next = token;
    if (req.on_token) req.on_token(row.sample, token);
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
  }

  static bool is_cancelled(const EnginePending& p) {
    return p.req.cancelled && p.req.cancelled->load();
  }

  // A sample of a cancelled request that never ran: done, with nothing generated.
  static void complete_unstarted(EnginePending& p, int64_t sample) {
    p.results[sample].finish_reason = "cancelled";
    if (--p.remaining == 0 && p.on_done) p.on_done(std::move(p.results));
  }

  // Frees the rows and queued samples of cancelled requests (a client that went away, D2).
  void drop_cancelled() {
    for (auto it = pending_.begin(); it != pending_.end();) {
      if (!is_cancelled(*it->request)) {
        ++it;
        continue;
      }
      for (int64_t j = it->first; j < it->first + it->count; ++j)
        complete_unstarted(*it->request, j);
      it = pending_.erase(it);
    }
    for (size_t r = rows_.size(); r-- > 0;)
      if (is_cancelled(*rows_[r].request)) {
        rows_[r].out.finish_reason = "cancelled";
        finish(r);
      }
  }

  void finish(size_t r) {
    Row& row = rows_[r];
    row.out.finished_at = steady_seconds();
    auto p = row.request;
    p->results[row.sample] = std::move(row.out);
    const int64_t sample = row.sample;
    const size_t last = rows_.size() - 1;
    if (r != last) {
      cache_.move_row(static_cast<int64_t>(last), static_cast<int64_t>(r), rows_[last].length);
      rows_[r] = std::move(rows_[last]);
    }
    rows_.pop_back();
    if (p->on_sample) p->on_sample(p->index, sample, p->results[sample]);
    if (--p->remaining == 0 && p->on_done) p->on_done(std::move(p->results));
  }

  // Admits as many units as fit the free rows and the prefill budget (at least one) and samples
  // their first tokens; false when nothing could be admitted.
  bool admit() {
    std::vector<Unit> admit;
    int64_t free_rows = cache_.rows() - static_cast<int64_t>(rows_.size());
    int64_t max_len = 0;
    while (!pending_.empty() && pending_.front().count <= free_rows) {
      const int64_t len = pending_.front().request->req.prompt.size();
      const int64_t padded = std::max(max_len, len) * static_cast<int64_t>(admit.size() + 1);
      if (!admit.empty() && padded > options_.max_prefill_tokens) break;
      max_len = std::max(max_len, len);
      free_rows -= pending_.front().count;
      admit.push_back(pending_.front());
      pending_.pop_front();
    }
    if (admit.empty()) return false;
    const double admitted_at = steady_seconds();
    const auto dev = model_.options().device();
    const int64_t U = admit.size();
    auto ids = torch::zeros({U, max_len}, torch::kLong);
    auto valid = torch::zeros({U, max_len}, torch::kBool);
    for (int64_t u = 0; u < U; ++u) {
      const auto& p = admit[u].request->req.prompt;
      for (size_t t = 0; t < p.size(); ++t) ids[u][t] = p[t];
      valid[u].narrow(0, 0, p.size()).fill_(true);
    }
    auto positions = torch::arange(max_len, torch::kLong).unsqueeze(0).expand({U, max_len});
    LayerKV kv;
    auto hidden = model_.forward(ids.to(dev), positions.to(dev), valid.to(dev), &kv);
    ++stats_.prefills;
    std::vector<int64_t> last(U);
    for (int64_t u = 0; u < U; ++u) last[u] = admit[u].request->req.prompt.size() - 1;
    auto idx = torch::tensor(last, torch::kLong).to(dev);
    auto h_last = hidden.index({torch::arange(U, torch::dtype(torch::kLong).device(dev)), idx});
    auto logits = model_.logits(h_last);  // (U, V)
    std::vector<int64_t> row_unit;
    for (int64_t u = 0; u < U; ++u) {
      const auto& req = admit[u].request->req;
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
        row.rng.seed = req.sample_seeds.empty() ? derive_seed(req.seed, {static_cast<uint64_t>(j)})
                                                : req.sample_seeds[j];
        cache_.write_prefix(static_cast<int64_t>(rows_.size()), pk, pv);
        rows_.push_back(std::move(row));
        row_unit.push_back(u);
      }
    }
    // First token of every admitted row, from its prompt's last logits.
    const size_t first_new = rows_.size() - row_unit.size();
    auto unit_idx = torch::tensor(row_unit, torch::kLong).to(dev);
    auto row_logits = logits.index_select(0, unit_idx);
    std::vector<SamplingParams> params;
    std::vector<SampleRng*> rngs;
    for (size_t r = first_new; r < rows_.size(); ++r) {
      params.push_back(rows_[r].request->req.sampling);
      rngs.push_back(&rows_[r].rng);
    }
    auto s = sample_tokens(row_logits, params, rngs);
    const double first_token_at = steady_seconds();
    for (size_t r = first_new; r < rows_.size(); ++r) {
      rows_[r].out.admitted_at = admitted_at;
      rows_[r].out.first_token_at = first_token_at;
    }
    for (size_t r = rows_.size(); r-- > first_new;)
      if (accept(rows_[r], s.ids[r - first_new], s.logprobs[r - first_new])) finish(r);
    return true;
  }

  // One decode step over rows [0, B).
  void decode() {
    const auto dev = model_.options().device();
    const int64_t B = rows_.size();
    std::vector<int64_t> next(B), pos(B);
    std::vector<SamplingParams> params(B);
    std::vector<SampleRng*> rngs(B);
    for (int64_t r = 0; r < B; ++r) {
      next[r] = rows_[r].next;
      pos[r] = rows_[r].length;
      params[r] = rows_[r].request->req.sampling;
      rngs[r] = &rows_[r].rng;
    }
    auto ids = torch::tensor(next, torch::kLong).view({B, 1}).to(dev);
    auto positions = torch::tensor(pos, torch::kLong).to(dev);
    auto hidden = model_.decode(ids, positions, cache_);  // (B, 1, C)
    auto logits = model_.logits(hidden.squeeze(1));       // (B, V)
    ++stats_.decode_steps;
    stats_.decode_rows += B;
    auto s = sample_tokens(logits, params, rngs);
    for (int64_t r = 0; r < B; ++r) rows_[r].length += 1;
    for (int64_t r = B; r-- > 0;)
      if (accept(rows_[r], s.ids[r], s.logprobs[r])) finish(r);
  }

  Transformer& model_;
  const EngineOptions& options_;
  EngineStats& stats_;
  KVCache cache_;
  std::deque<Unit> pending_;
  std::vector<Row> rows_;
};

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

namespace {

// Options with the model's own context filled in; throws r1::Error for a bad batch size.
EngineOptions resolve_options(const Transformer& model, EngineOptions o) {
  if (o.max_context <= 0) o.max_context = model.config().max_position_embeddings;
  check(o.max_batch >= 1, "engine: max_batch must be at least 1");
  return o;
}

// check_request, and what only the engine knows: stop strings need its detokenizer.
void check_engine_request(const GenerationRequest& r, size_t index, const Transformer& model,
                          const EngineOptions& o) {
  check_request(r, index, model.config().vocab_size, o.max_context);
  check(r.stop_strings.empty() || o.detokenize,
        "request " + std::to_string(index) + ": stop strings need a tokenizer");
}

}  // namespace

Engine::Engine(std::shared_ptr<Transformer> model, EngineOptions options)
    : model_(std::move(model)), options_(resolve_options(*model_, std::move(options))) {}

std::vector<std::vector<GeneratedSample>> Engine::generate(
    const std::vector<GenerationRequest>& requests, const OnSample& on_sample) {
  for (size_t i = 0; i < requests.size(); ++i)
    check_engine_request(requests[i], i, *model_, options_);
  torch::InferenceMode inference;
  int64_t longest = 1, samples = 0;
  for (const auto& r : requests) {
    longest = std::max<int64_t>(longest, r.prompt.size() + 1);
    samples += r.n;
  }
  stats_ = {};
  // Rows for the sequences that can be live at once, not more: a cache row costs S * layers * KV.
  Batcher batcher(*model_, options_, std::min(options_.max_batch, std::max<int64_t>(samples, 1)),
                  longest + 64, stats_);
  std::vector<std::vector<GeneratedSample>> results(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto p = std::make_shared<EnginePending>();
    p->req = requests[i];
    p->index = i;
    p->on_sample = on_sample;
    p->on_done = [&results, i](std::vector<GeneratedSample>&& r) { results[i] = std::move(r); };
    batcher.add(std::move(p));
  }
  while (batcher.busy()) batcher.step();
  return results;
}

EngineLoop::EngineLoop(std::shared_ptr<Transformer> model, EngineOptions options)
    : model_(std::move(model)), options_(resolve_options(*model_, std::move(options))) {
  thread_ = std::thread([this] { run(); });
}

EngineLoop::~EngineLoop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::future<std::vector<GeneratedSample>> EngineLoop::submit(GenerationRequest request,
                                                             Engine::OnSample on_sample) {
  check_engine_request(request, 0, *model_, options_);
  auto p = std::make_shared<EnginePending>();
  auto promise = std::make_shared<std::promise<std::vector<GeneratedSample>>>();
  auto future = promise->get_future();
  p->req = std::move(request);
  p->on_sample = std::move(on_sample);
  p->on_done = [promise](std::vector<GeneratedSample>&& r) { promise->set_value(std::move(r)); };
  p->on_error = [promise](std::exception_ptr e) { promise->set_exception(e); };
  {
    std::lock_guard<std::mutex> lock(mu_);
    check(!stopping_, "engine: stopping, request refused");
    queue_.push_back(std::move(p));
  }
  cv_.notify_all();
  return future;
}

EngineStats EngineLoop::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void EngineLoop::run() {
  torch::InferenceMode inference;
  EngineStats stats;
  std::optional<Batcher> batcher;
  batcher.emplace(*model_, options_, options_.max_batch, 256, stats);
  std::vector<std::shared_ptr<EnginePending>> live;  // to fail them if the engine throws
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty() || batcher->busy(); });
      if (stopping_) break;
      while (!queue_.empty()) {
        live.push_back(queue_.front());
        batcher->add(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    try {
      const auto t0 = std::chrono::steady_clock::now();
      batcher->step();
      stats.busy_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    } catch (...) {
      // A failed forward (e.g. out of memory) fails every request in the batch; start afresh.
      for (auto& p : live)
        if (p->remaining > 0 && p->on_error) p->on_error(std::current_exception());
      live.clear();
      batcher.emplace(*model_, options_, options_.max_batch, 256, stats);
    }
    stats.cancelled += std::count_if(live.begin(), live.end(), [](const auto& p) {
      return p->remaining == 0 && p->req.cancelled && p->req.cancelled->load();
    });
    stats.requests += std::erase_if(live, [](const auto& p) { return p->remaining == 0; });
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = stats;
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& p : live)
    if (p->remaining > 0 && p->on_error)
      p->on_error(std::make_exception_ptr(Error("engine: stopped before the request finished")));
  for (auto& p : queue_)
    if (p->on_error)
      p->on_error(std::make_exception_ptr(Error("engine: stopped before the request finished")));
}

}  // namespace r1
