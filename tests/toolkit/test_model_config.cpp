// config.json parsing: the fields r1 needs, transformers' defaults, both rope layouts
// (rope_scaling and transformers 5's rope_parameters), and errors naming the field.
#include "tests/test_util.h"
#include "toolkit/error.h"
#include "toolkit/model_config.h"

namespace r1 {
namespace {

const char* kQwen = R"({"model_type":"qwen2","vocab_size":100,"hidden_size":64,
  "intermediate_size":128,"num_hidden_layers":2,"num_attention_heads":8,"num_key_value_heads":2,
  "torch_dtype":"bfloat16","eos_token_id":[5,6],"bos_token_id":4,"tie_word_embeddings":true})";

std::string error_of(const std::string& text) {
  try {
    parse_model_config(text, "config.json");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(ModelConfig, QwenFieldsAndDefaults) {
  auto c = parse_model_config(kQwen, "config.json");
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.num_key_value_heads, 2);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.dtype, at::kBFloat16);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{5, 6}));
  EXPECT_EQ(c.bos_token_id, 4);
  EXPECT_DOUBLE_EQ(c.rope_theta, 10000.0);
  EXPECT_EQ(c.rope_type, "default");
  EXPECT_EQ(c.max_position_embeddings, 32768);
}

TEST(ModelConfig, LlamaRopeScalingInBothLayouts) {
  auto c = load_model_config("tests/data/models/llama-rope3-fp32");  // rope_parameters
  EXPECT_EQ(c.rope_type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.rope_factor, 8.0);
  EXPECT_EQ(c.rope_original_max_position, 64);
  EXPECT_TRUE(c.qkv_bias && c.o_bias && c.mlp_bias);
  auto old = parse_model_config(R"({"model_type":"llama","vocab_size":10,"hidden_size":8,
    "intermediate_size":8,"num_hidden_layers":1,"num_attention_heads":2,"rope_theta":1234.0,
    "rope_scaling":{"type":"llama3","factor":2,"low_freq_factor":1,"high_freq_factor":4,
    "original_max_position_embeddings":16}})",
                                "x");
  EXPECT_EQ(old.rope_type, "llama3");
  EXPECT_DOUBLE_EQ(old.rope_theta, 1234.0);
  EXPECT_EQ(old.num_key_value_heads, 2);
  auto verl = load_model_config(r1::test::shared_data("models/tiny_llama_verl_random"));
  EXPECT_EQ(verl.dtype, at::kBFloat16);
  EXPECT_EQ(verl.pad_token_id, 2);
}

TEST(ModelConfig, ErrorsNameTheField) {
  EXPECT_NE(error_of(R"({"model_type":"gpt2"})").find("model_type \"gpt2\""), std::string::npos);
  EXPECT_NE(error_of(R"({"model_type":"qwen2"})").find("missing field vocab_size"),
            std::string::npos);
  EXPECT_NE(error_of(R"({"model_type":"qwen2","vocab_size":"big"})").find("vocab_size"),
            std::string::npos);
  EXPECT_NE(error_of("{oops").find("not valid JSON"), std::string::npos);
  std::string bad_heads = kQwen;
  bad_heads.replace(bad_heads.find("\"num_key_value_heads\":2"), 23, "\"num_key_value_heads\":3");
  EXPECT_NE(error_of(bad_heads).find("not a multiple of num_key_value_heads"), std::string::npos);
  std::string bad_rope = kQwen;
  bad_rope.insert(1, R"("rope_scaling":{"rope_type":"yarn","factor":4},)");
  EXPECT_NE(error_of(bad_rope).find("yarn"), std::string::npos);
  std::string bad_dtype = kQwen;
  bad_dtype.replace(bad_dtype.find("bfloat16"), 8, "int4");
  EXPECT_NE(error_of(bad_dtype).find("int4"), std::string::npos);
  EXPECT_THROW(load_model_config("/nonexistent/dir"), Error);
  // Issue 17, D12: a context of -1 loaded, then every request failed; it is refused at load.
  std::string bad_context = kQwen;
  bad_context.insert(1, R"("max_position_embeddings":-1,)");
  EXPECT_NE(
      error_of(bad_context).find("config.json: field max_position_embeddings must be positive"),
      std::string::npos)
      << error_of(bad_context);
}

}  // namespace
}  // namespace r1
