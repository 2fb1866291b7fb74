// The Qwen2/Llama transformer (see transformer.h). Numerics follow transformers' modeling_qwen2 /
// modeling_llama: RMSNorm in float32, rotary tables computed in float32 then cast, SDPA attention.
// q/k/v and gate/up are fused into one matrix each, so a decode step runs one GEMM for each.
#include "toolkit/transformer.h"

#include <torch/torch.h>  // torch ops

#include <cmath>       // M_PI
#include <filesystem>  // std::filesystem
#include <limits>      // std::numeric_limits

#include "toolkit/error.h"        // r1::Error, r1::check
#include "toolkit/fs.h"           // r1::write_file_atomic
#include "toolkit/gguf.h"         // r1::GgufFile, r1::is_gguf_file
#include "toolkit/gguf_model.h"   // r1::gguf_model_config, r1::gguf_hf_tensor
#include "toolkit/safetensors.h"  // r1::SafetensorsCheckpoint

namespace r1 {
namespace {

using torch::indexing::Slice;

// Rows at or below which dense() computes (W x^T)^T: on CPU, MKL runs this tall-skinny product
// up to 1.5x faster than x W^T for decode-sized batches (tests/bench/RESULTS.md). float32 only:
// in bf16 the other kernel rounds differently, and cached and uncached decoding must agree.
constexpr int64_t kSmallRows = 64;

torch::Tensor dense(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b) {
  const int64_t rows = x.numel() / x.size(-1);
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat && rows <= kSmallRows &&
      !torch::GradMode::is_enabled()) {
    auto y = torch::mm(w, x.reshape({rows, x.size(-1)}).t()).t();  // (rows, out)
    if (b.defined()) y = y + b;
    auto shape = x.sizes().vec();
    shape.back() = w.size(0);
    return y.reshape(shape);
  }
  return b.defined() ? torch::nn::functional::linear(x, w, b) : torch::nn::functional::linear(x, w);
}

// Rotary embedding as transformers applies it, x * cos + rotate_half(x) * sin, where
// rotate_half(x) = cat(-x2, x1): the same as roll(x, D/2) * sin_signed with sin_signed =
// cat(-sin1, sin2) (negation is exact), in four ops instead of seven. Not addcmul: its scalar
// and vectorised loops round bf16 differently, so decoding one token would not match a full
// forward.
torch::Tensor apply_rotary(const torch::Tensor& x, const torch::Tensor& cos,
                           const torch::Tensor& sin_signed) {
  return x * cos + x.roll(x.size(-1) / 2, -1) * sin_signed;
}

// Sequences up to this length attend through grouped_attention in float32 on CPU: at these sizes
// LibTorch's fused CPU kernel (blocked, with per-thread buffers) costs several times more than the
// two batched products, forward and backward. Longer ones keep SDPA, which never materialises
// (T, T) scores.
constexpr int64_t kSmallAttention = 256;

bool small_attention(const torch::TensorOptions& o, int64_t T) {
  return o.device().is_cpu() && o.dtype() == torch::kFloat && T <= kSmallAttention;
}

// Softmax attention as two batched products over grouped heads: q (B, H, T, D); keys, values
// (B, Hkv, S, D), query heads [g G, (g + 1) G) sharing kv head g (as repeat_interleave orders
// them); mask additive float32 (0 or -inf), broadcastable to (B, Hkv, G, T, S). Returns
// (B, H, T, D).
torch::Tensor grouped_attention(const torch::Tensor& q, const torch::Tensor& keys,
                                const torch::Tensor& values, const torch::Tensor& mask) {
  const int64_t B = q.size(0), H = q.size(1), T = q.size(2), D = q.size(3);
  const int64_t Hkv = keys.size(1), G = H / Hkv, S = keys.size(2);
  auto scores =
      torch::matmul(q.reshape({B, Hkv, G * T, D}), keys.transpose(-1, -2)).view({B, Hkv, G, T, S});
  const double scale = 1.0 / std::sqrt(static_cast<double>(D));
  // In place when no gradient is taken: on a view, autograd would have to copy slices back.
  auto p = torch::softmax(
      torch::GradMode::is_enabled() ? scores * scale + mask : scores.mul_(scale).add_(mask), -1);
  return torch::matmul(p.view({B, Hkv, G * T, S}), values).view({B, H, T, D});
}

// 0 where `seen` (bool) is true, -inf elsewhere, float32.
torch::Tensor additive_mask(const torch::Tensor& seen) {
  return torch::zeros(seen.sizes(), torch::dtype(torch::kFloat).device(seen.device()))
      .masked_fill_(seen.logical_not(), -std::numeric_limits<float>::infinity());
}

// inv_freq as transformers computes it, including llama3's frequency-dependent scaling.
torch::Tensor make_inv_freq(const ModelConfig& c) {
  const int64_t d = c.head_dim;
  auto exponent = torch::arange(0, d, 2, torch::kLong).to(torch::kFloat) / static_cast<double>(d);
  auto inv_freq = 1.0 / torch::pow(torch::scalar_tensor(c.rope_theta, torch::kFloat), exponent);
  if (c.rope_type == "llama3") {
    const double old_len = static_cast<double>(c.rope_original_max_position);
    const double low_wavelen = old_len / c.rope_low_freq_factor;
    const double high_wavelen = old_len / c.rope_high_freq_factor;
    auto wavelen = 2 * M_PI / inv_freq;
    auto scaled = torch::where(wavelen > low_wavelen, inv_freq / c.rope_factor, inv_freq);
    auto smooth = (old_len / wavelen - c.rope_low_freq_factor) /
                  (c.rope_high_freq_factor - c.rope_low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / c.rope_factor + smooth * scaled;
    auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = torch::where(medium, smoothed, scaled);
  }
  return inv_freq;
}

}  // namespace

Transformer::Transformer(const ModelConfig& config, torch::TensorOptions options)
    : config_(config), options_(options) {
  const auto& c = config_;
  const int64_t C = c.hidden_size, D = c.head_dim, H = c.num_attention_heads,
                Hkv = c.num_key_value_heads, I = c.intermediate_size;
  auto make = [&](const std::string& name, std::vector<int64_t> shape) {
    return register_parameter(name, torch::zeros(shape, options_));
  };
  embed_ = make("embed_tokens", {c.vocab_size, C});
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    const std::string p = "layer" + std::to_string(i) + "_";
    Layer l;
    l.input_norm = make(p + "input_norm", {C});
    l.post_norm = make(p + "post_norm", {C});
    l.qkv_w = make(p + "qkv_w", {(H + 2 * Hkv) * D, C});
    if (c.qkv_bias) l.qkv_b = make(p + "qkv_b", {(H + 2 * Hkv) * D});
    l.o_w = make(p + "o_w", {C, H * D});
    if (c.o_bias) l.o_b = make(p + "o_b", {C});
    l.gate_up_w = make(p + "gate_up_w", {2 * I, C});
    if (c.mlp_bias) l.gate_up_b = make(p + "gate_up_b", {2 * I});
    l.down_w = make(p + "down_w", {C, I});
    if (c.mlp_bias) l.down_b = make(p + "down_b", {C});
    layers_.push_back(l);
  }
  final_norm_ = make("norm", {C});
  if (!c.tie_word_embeddings) lm_head_ = make("lm_head", {c.vocab_size, C});
  inv_freq_ = make_inv_freq(c).to(options_.device());
}

torch::Tensor Transformer::lm_head_weight() const { return lm_head_.defined() ? lm_head_ : embed_; }

std::vector<std::pair<std::string, torch::Tensor>> Transformer::hf_parameters() {
  const auto& c = config_;
  const int64_t D = c.head_dim, H = c.num_attention_heads, Hkv = c.num_key_value_heads,
                I = c.intermediate_size;
  std::vector<std::pair<std::string, torch::Tensor>> out;
  out.emplace_back("model.embed_tokens.weight", embed_);
  for (size_t i = 0; i < layers_.size(); ++i) {
    auto& l = layers_[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    out.emplace_back(p + "input_layernorm.weight", l.input_norm);
    out.emplace_back(p + "post_attention_layernorm.weight", l.post_norm);
    const int64_t qn = H * D, kn = Hkv * D;
    out.emplace_back(p + "self_attn.q_proj.weight", l.qkv_w.narrow(0, 0, qn));
    out.emplace_back(p + "self_attn.k_proj.weight", l.qkv_w.narrow(0, qn, kn));
    out.emplace_back(p + "self_attn.v_proj.weight", l.qkv_w.narrow(0, qn + kn, kn));
    if (l.qkv_b.defined()) {
      out.emplace_back(p + "self_attn.q_proj.bias", l.qkv_b.narrow(0, 0, qn));
      out.emplace_back(p + "self_attn.k_proj.bias", l.qkv_b.narrow(0, qn, kn));
      out.emplace_back(p + "self_attn.v_proj.bias", l.qkv_b.narrow(0, qn + kn, kn));
    }
    out.emplace_back(p + "self_attn.o_proj.weight", l.o_w);
    if (l.o_b.defined()) out.emplace_back(p + "self_attn.o_proj.bias", l.o_b);
    out.emplace_back(p + "mlp.gate_proj.weight", l.gate_up_w.narrow(0, 0, I));
    out.emplace_back(p + "mlp.up_proj.weight", l.gate_up_w.narrow(0, I, I));
    if (l.gate_up_b.defined()) {
      out.emplace_back(p + "mlp.gate_proj.bias", l.gate_up_b.narrow(0, 0, I));
      out.emplace_back(p + "mlp.up_proj.bias", l.gate_up_b.narrow(0, I, I));
    }
    out.emplace_back(p + "mlp.down_proj.weight", l.down_w);
    if (l.down_b.defined()) out.emplace_back(p + "mlp.down_proj.bias", l.down_b);
  }
  out.emplace_back("model.norm.weight", final_norm_);
  if (lm_head_.defined()) out.emplace_back("lm_head.weight", lm_head_);
  return out;
}

torch::Tensor Transformer::rms_norm(const torch::Tensor& x, const torch::Tensor& w) const {
  const bool f32 = x.scalar_type() == torch::kFloat;
  auto h = f32 ? x : x.to(torch::kFloat);
  h = h * torch::rsqrt(h.pow(2).mean(-1, /*keepdim=*/true) + config_.rms_norm_eps);
  return w * (f32 ? h : h.to(x.scalar_type()));
}

std::pair<torch::Tensor, torch::Tensor> Transformer::rotary(const torch::Tensor& positions) const {
  auto freqs = positions.to(torch::kFloat).unsqueeze(-1) * inv_freq_;  // (B, T, D/2)
  auto emb = torch::cat({freqs, freqs}, -1).unsqueeze(1);              // (B, 1, T, D)
  const auto dt = options_.dtype().toScalarType();
  auto sin = freqs.sin();
  auto sin_signed = torch::cat({-sin, sin}, -1).unsqueeze(1);  // for apply_rotary
  return {emb.cos().to(dt), sin_signed.to(dt)};
}

torch::Tensor Transformer::layer_forward(Layer& l, size_t index, const torch::Tensor& x,
                                         const torch::Tensor& cos, const torch::Tensor& sin,
                                         const torch::Tensor& mask, LayerKV* kv_out, KVCache* cache,
                                         const torch::Tensor& slots) {
  const auto& c = config_;
  const int64_t B = x.size(0), T = x.size(1), D = c.head_dim, H = c.num_attention_heads,
                Hkv = c.num_key_value_heads;
  auto h = rms_norm(x, l.input_norm);
  auto qkv = dense(h, l.qkv_w, l.qkv_b);  // (B, T, (H + 2 Hkv) D)
  // q and k get their rotary embedding together; split (not narrow) so the backward pass
  // concatenates gradients instead of scattering each piece into zeros.
  auto parts = qkv.split_with_sizes({(H + Hkv) * D, Hkv * D}, -1);
  auto qk = apply_rotary(parts[0].view({B, T, H + Hkv, D}).transpose(1, 2), cos, sin);
  auto qk_parts = qk.split_with_sizes({H, Hkv}, 1);
  auto q = qk_parts[0], k = qk_parts[1];
  auto v = parts[1].view({B, T, Hkv, D}).transpose(1, 2);
  torch::Tensor keys = k, values = v;
  if (cache != nullptr) {
    // Write each row's new K/V at its own slot, then attend over the used span of every row.
    auto rows = torch::arange(B, slots.options());
    cache->k[index].index_put_({rows, Slice(), slots}, k.squeeze(2));
    cache->v[index].index_put_({rows, Slice(), slots}, v.squeeze(2));
    const int64_t span = mask.size(-1);
    keys = cache->k[index].narrow(0, 0, B).narrow(2, 0, span);
    values = cache->v[index].narrow(0, 0, B).narrow(2, 0, span);
  } else if (kv_out != nullptr) {
    kv_out->k.push_back(k);
    kv_out->v.push_back(v);
  }
  torch::Tensor a;
  if (mask.defined() && mask.dim() == 5) {
    // float32 on CPU, decoding or a short full forward: `mask` is additive (see forward, decode).
    a = grouped_attention(q, keys, values, mask).transpose(1, 2).reshape({B, T, H * D});
  } else {
    // Other dtypes and long sequences: SDPA (bf16 decoding shares its rounding with the full
    // forward this way).
    std::optional<torch::Tensor> attn_mask;
    if (mask.defined()) attn_mask = mask;
    a = at::scaled_dot_product_attention(q, keys, values, attn_mask, 0.0,
                                         /*is_causal=*/!mask.defined(), std::nullopt,
                                         /*enable_gqa=*/H != Hkv);
    a = a.transpose(1, 2).reshape({B, T, H * D});
  }
  auto x2 = x + dense(a, l.o_w, l.o_b);
  auto gu = dense(rms_norm(x2, l.post_norm), l.gate_up_w, l.gate_up_b);
  const int64_t I = c.intermediate_size;
  auto gate_up = gu.split_with_sizes({I, I}, -1);
  auto m = torch::silu(gate_up[0]) * gate_up[1];
  return x2 + dense(m, l.down_w, l.down_b);
}

torch::Tensor Transformer::forward(const torch::Tensor& ids, const torch::Tensor& positions,
                                   const torch::Tensor& valid, LayerKV* kv_out) {
  TORCH_CHECK(ids.dim() == 2 && positions.sizes() == ids.sizes(),
              "forward: ids and positions must both be (B, T)");
  const int64_t T = ids.size(1);
  torch::Tensor mask;  // undefined: plain causal attention (SDPA's is_causal)
  auto causal = [&] {
    return torch::ones({T, T}, torch::dtype(torch::kBool).device(ids.device())).tril();
  };
  if (valid.defined()) {
    TORCH_CHECK(valid.sizes() == ids.sizes(), "forward: valid must be (B, T)");
    auto self = torch::eye(T, torch::dtype(torch::kBool).device(ids.device()));
    // A padded query sees itself, so its softmax row is never empty (no NaN); its output is unused.
    mask = (valid.to(torch::kBool).unsqueeze(1).unsqueeze(1) & causal()).logical_or(self);
  }
  // Short float32 sequences on CPU: grouped_attention, with the mask additive (B|1, 1, 1, T, T).
  if (small_attention(options_, T))
    mask = additive_mask(mask.defined() ? mask.unsqueeze(1) : causal().view({1, 1, 1, T, T}));
  auto [cos, sin] = rotary(positions);
  auto x = torch::embedding(embed_, ids);
  for (size_t i = 0; i < layers_.size(); ++i)
    x = layer_forward(layers_[i], i, x, cos, sin, mask, kv_out, nullptr, {});
  return rms_norm(x, final_norm_);
}

torch::Tensor Transformer::decode(const torch::Tensor& ids, const torch::Tensor& positions,
                                  KVCache& cache) {
  TORCH_CHECK(ids.dim() == 2 && ids.size(1) == 1 && positions.dim() == 1 &&
                  positions.size(0) == ids.size(0),
              "decode: ids must be (B, 1) and positions (B)");
  const int64_t B = ids.size(0);
  TORCH_CHECK(B <= cache.rows(), "decode: batch larger than the cache");
  const int64_t span = positions.max().item<int64_t>() + 1;
  cache.reserve(span);
  auto slots = torch::arange(span, positions.options());
  // Each row sees its slots up to its position: a bool mask for SDPA, or in float32 (see
  // layer_forward) an additive one, 0 where seen and -inf after.
  auto mask = (slots.unsqueeze(0) <= positions.unsqueeze(1)).view({B, 1, 1, span});
  if (small_attention(options_, 1)) mask = additive_mask(mask.unsqueeze(1));  // (B, 1, 1, 1, S)
  auto [cos, sin] = rotary(positions.unsqueeze(1));
  auto x = torch::embedding(embed_, ids);
  for (size_t i = 0; i < layers_.size(); ++i)
    x = layer_forward(layers_[i], i, x, cos, sin, mask, nullptr, &cache, positions);
  return rms_norm(x, final_norm_);
}

torch::Tensor Transformer::logits(const torch::Tensor& hidden) {
  return dense(hidden, lm_head_weight(), torch::Tensor()).to(torch::kFloat);
}

KVCache::KVCache(const ModelConfig& c, int64_t rows, int64_t capacity, int64_t max_capacity,
                 torch::TensorOptions options)
    : rows_(rows), capacity_(std::min(capacity, max_capacity)), max_capacity_(max_capacity) {
  for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
    k.push_back(torch::zeros({rows, c.num_key_value_heads, capacity_, c.head_dim}, options));
    v.push_back(torch::zeros_like(k.back()));
  }
}

void KVCache::reserve(int64_t needed) {
  if (needed <= capacity_) return;
  check(needed <= max_capacity_, "KV cache: " + std::to_string(needed) +
                                     " positions exceed the context of " +
                                     std::to_string(max_capacity_));
  int64_t cap = std::max<int64_t>(capacity_, 16);
  while (cap < needed) cap *= 2;
  cap = std::min(cap, max_capacity_);
  for (auto* list : {&k, &v})
    for (auto& t : *list) {
      auto grown = torch::zeros({t.size(0), t.size(1), cap, t.size(3)}, t.options());
      grown.narrow(2, 0, capacity_).copy_(t);
      t = grown;
    }
  capacity_ = cap;
}

void KVCache::write_prefix(int64_t row, const std::vector<torch::Tensor>& pk,
                           const std::vector<torch::Tensor>& pv) {
  const int64_t len = pk.at(0).size(1);
  reserve(len);
  for (size_t i = 0; i < k.size(); ++i) {
    k[i][row].narrow(1, 0, len).copy_(pk[i]);
    v[i][row].narrow(1, 0, len).copy_(pv[i]);
  }
}

void KVCache::move_row(int64_t from, int64_t to, int64_t length) {
  if (from == to || length == 0) return;
  for (size_t i = 0; i < k.size(); ++i) {
    k[i][to].narrow(1, 0, length).copy_(k[i][from].narrow(1, 0, length));
    v[i][to].narrow(1, 0, length).copy_(v[i][from].narrow(1, 0, length));
  }
}

namespace {

// A GGUF file's tensors, dequantized and mapped to the checkpoint names (gguf_model.h).
std::shared_ptr<Transformer> load_gguf_transformer(const std::string& path,
                                                   std::optional<at::ScalarType> dtype,
                                                   torch::Device device) {
  const GgufFile file(path);
  const ModelConfig config = gguf_model_config(file);
  const at::ScalarType dt = dtype.value_or(device.is_cuda() ? config.dtype : at::kFloat);
  auto model = std::make_shared<Transformer>(config, torch::dtype(dt).device(device));
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : model->hf_parameters()) {
    const torch::Tensor w = gguf_hf_tensor(file, config, name, dt);
    check(w.sizes() == param.sizes(), path + ": tensor for \"" + name + "\" has shape " +
                                          c10::str(w.sizes()) + " but the metadata implies " +
                                          c10::str(param.sizes()));
    param.copy_(w);
  }
  return model;
}

}  // namespace

std::shared_ptr<Transformer> load_transformer(const std::string& dir,
                                              std::optional<at::ScalarType> dtype,
                                              torch::Device device) {
  if (is_gguf_file(dir)) return load_gguf_transformer(dir, dtype, device);
  const ModelConfig config = load_model_config(dir);
  SafetensorsCheckpoint weights(dir);
  const at::ScalarType dt = dtype.value_or(device.is_cuda() ? config.dtype : at::kFloat);
  auto model = std::make_shared<Transformer>(config, torch::dtype(dt).device(device));
  torch::NoGradGuard no_grad;
  for (auto& [name, param] : model->hf_parameters()) {
    check(weights.has(name), dir + ": checkpoint has no tensor \"" + name + "\" (required by " +
                                 config.model_type + " config)");
    const auto& e = weights.entry(name);
    const std::string where = weights.file_of(name) + ": tensor \"" + name + "\"";
    check(at::isFloatingType(e.dtype), where + " has dtype " + safetensors_dtype_name(e.dtype) +
                                           ", expected a floating-point type");
    check(e.shape == param.sizes().vec(), where + " has shape " +
                                              c10::str(c10::IntArrayRef(e.shape)) +
                                              " but the config implies " + c10::str(param.sizes()));
    param.copy_(weights.tensor(name));
  }
  return model;
}

void save_transformer(Transformer& model, const std::string& dir) {
  std::filesystem::create_directories(dir);
  std::vector<std::pair<std::string, torch::Tensor>> tensors;
  for (auto& [name, t] : model.hf_parameters()) tensors.emplace_back(name, t.detach());
  ModelConfig c = model.config();
  c.dtype = model.options().dtype().toScalarType();
  safetensors_save((std::filesystem::path(dir) / "model.safetensors").string(), tensors,
                   {{"format", "pt"}});
  write_file_atomic((std::filesystem::path(dir) / "config.json").string(), model_config_to_json(c));
}

torch::Device parse_device(const std::string& name, const std::string& flag) {
  torch::Device device(torch::kCPU);
  try {
    device = torch::Device(name);
  } catch (const c10::Error&) {
    throw Error(flag + ": \"" + name + "\" is not a device (cpu, cuda, cuda:1)");
  }
  if (device.is_cuda() && !torch::cuda::is_available())
    throw Error(flag + " " + name + ": CUDA is not available in this build or machine");
  return device;
}

std::shared_ptr<Transformer> load_transformer_for(const std::string& dir,
                                                  const std::string& dtype_name,
                                                  const std::string& device_name) {
  const torch::Device device = parse_device(device_name, "--device");
  std::optional<at::ScalarType> dtype;
  if (dtype_name != "auto") dtype = parse_dtype(dtype_name, "--dtype");
  return load_transformer(dir, dtype, device);
}

}  // namespace r1
