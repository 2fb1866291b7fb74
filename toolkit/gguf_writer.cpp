// GGUF writer (see gguf_writer.h); the layout is the one gguf.h reads.
#include "toolkit/gguf_writer.h"

#include <cstring>  // std::memcpy

#include "toolkit/error.h"  // r1::Error, r1::check
#include "toolkit/fs.h"     // r1::write_file_atomic
#include "toolkit/gguf.h"   // r1::gguf_value

namespace r1 {
namespace {

constexpr uint64_t kAlignment = 32;
using namespace gguf_value;  // kU32 ... kU64

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}
void put_string(std::string& out, const std::string& s) {
  put<uint64_t>(out, s.size());
  out += s;
}
uint64_t align(uint64_t n) { return (n + kAlignment - 1) / kAlignment * kAlignment; }

// The stored bytes of a float32 contiguous tensor as `type`.
std::string encode(const torch::Tensor& t, GgmlType type) {
  const torch::Tensor f = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
  const float* x = f.data_ptr<float>();
  const int64_t n = f.numel();
  std::string out;
  switch (type) {
    case GgmlType::kF32:
      out.assign(reinterpret_cast<const char*>(x), n * 4);
      break;
    case GgmlType::kF16:
    case GgmlType::kBF16:
      out.resize(n * 2);
      (type == GgmlType::kF16 ? float_to_f16 : float_to_bf16)(
          x, n, reinterpret_cast<uint16_t*>(out.data()));
      break;
    case GgmlType::kQ8_0:
      out.resize(n / 32 * 34);
      quantize_q8_0(x, n, reinterpret_cast<uint8_t*>(out.data()));
      break;
    default:
      throw Error("GGUF writer: cannot store type " + ggml_type_name(static_cast<uint32_t>(type)));
  }
  return out;
}

}  // namespace

void GgufWriter::key(const std::string& k, uint32_t type) {
  put_string(kv_, k);
  put<uint32_t>(kv_, type);
  ++n_kv_;
}
void GgufWriter::add_u32(const std::string& k, uint32_t v) { key(k, kU32), put(kv_, v); }
void GgufWriter::add_i32(const std::string& k, int32_t v) { key(k, kI32), put(kv_, v); }
void GgufWriter::add_u64(const std::string& k, uint64_t v) { key(k, kU64), put(kv_, v); }
void GgufWriter::add_f32(const std::string& k, float v) { key(k, kF32), put(kv_, v); }
void GgufWriter::add_bool(const std::string& k, bool v) {
  key(k, kBool);
  put<uint8_t>(kv_, v ? 1 : 0);
}
void GgufWriter::add_string(const std::string& k, const std::string& v) {
  key(k, kString);
  put_string(kv_, v);
}
void GgufWriter::add_strings(const std::string& k, const std::vector<std::string>& v) {
  key(k, kArray);
  put<uint32_t>(kv_, kString);
  put<uint64_t>(kv_, v.size());
  for (const auto& s : v) put_string(kv_, s);
}
void GgufWriter::add_i32s(const std::string& k, const std::vector<int32_t>& v) {
  key(k, kArray);
  put<uint32_t>(kv_, kI32);
  put<uint64_t>(kv_, v.size());
  for (int32_t x : v) put(kv_, x);
}

void GgufWriter::add_tensor(const std::string& name, const torch::Tensor& t, GgmlType type) {
  check(t.dim() >= 1 && t.dim() <= 4, "GGUF writer: tensor \"" + name + "\" has " +
                                          std::to_string(t.dim()) + " dimensions (1 to 4)");
  check(at::isFloatingType(t.scalar_type()), "GGUF writer: tensor \"" + name + "\" is not float");
  const auto block = ggml_block(static_cast<uint32_t>(type));
  check(block.has_value() && (type == GgmlType::kF32 || type == GgmlType::kF16 ||
                              type == GgmlType::kBF16 || type == GgmlType::kQ8_0),
        "GGUF writer: cannot store type " + ggml_type_name(static_cast<uint32_t>(type)));
  check(t.size(-1) % block->elements == 0,
        "GGUF writer: tensor \"" + name + "\" rows of " + std::to_string(t.size(-1)) +
            " are not a multiple of " + ggml_type_name(static_cast<uint32_t>(type)) + "'s block");
  const uint64_t bytes = static_cast<uint64_t>(t.numel() / block->elements) * block->bytes;
  tensors_.push_back({name, t, type, bytes});
}

void GgufWriter::write(const std::string& path) const {
  std::string head = "GGUF";
  put<uint32_t>(head, 3);
  put<uint64_t>(head, tensors_.size());
  put<uint64_t>(head, n_kv_);
  head += kv_;
  uint64_t offset = 0;
  for (const auto& t : tensors_) {
    put_string(head, t.name);
    put<uint32_t>(head, static_cast<uint32_t>(t.data.dim()));
    for (int64_t d = t.data.dim() - 1; d >= 0; --d) put<uint64_t>(head, t.data.size(d));
    put<uint32_t>(head, static_cast<uint32_t>(t.type));
    put<uint64_t>(head, offset);
    offset = align(offset + t.bytes);
  }
  head.resize(align(head.size()), '\0');
  write_file_atomic(path, [&](std::FILE* f) {
    if (std::fwrite(head.data(), 1, head.size(), f) != head.size()) return false;
    for (const auto& t : tensors_) {
      std::string data = encode(t.data, t.type);
      data.resize(align(data.size()), '\0');
      if (std::fwrite(data.data(), 1, data.size(), f) != data.size()) return false;
    }
    return true;
  });
}

}  // namespace r1
