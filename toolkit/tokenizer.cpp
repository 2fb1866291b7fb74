// Byte-level BPE (see tokenizer.h). The vocabulary is converted once from GPT-2's byte-to-unicode
// alphabet back to raw bytes, so BPE runs directly on the text's bytes: symbols start as one id per
// byte and merge by rank through a min-heap (rank, then position), the order HF's Word::merge_all
// uses, in O(n log n) for a word of n bytes. Words are cached in a cache all threads share.
#include "toolkit/tokenizer.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>     // PCRE2 regex engine
#include <utf8proc.h>  // NFC and friends

#include <algorithm>      // std::sort
#include <array>          // std::array
#include <atomic>         // std::atomic
#include <filesystem>     // std::filesystem
#include <mutex>          // std::unique_lock
#include <queue>          // std::priority_queue
#include <shared_mutex>   // std::shared_mutex
#include <thread>         // std::thread
#include <unordered_map>  // std::unordered_map

#include <nlohmann/json.hpp>  // nlohmann::json

#include "toolkit/error.h"           // r1::Error, r1::check
#include "toolkit/fs.h"              // r1::read_file
#include "toolkit/gguf.h"            // r1::is_gguf_file
#include "toolkit/gguf_tokenizer.h"  // r1::load_gguf_tokenizer
#include "toolkit/json.h"            // r1::parse_json
#include "toolkit/utf8.h"            // r1::utf8_sequence, r1::utf8_lossy

namespace r1 {
namespace {

using nlohmann::json;

// ---- GPT-2 byte <-> unicode alphabet ---------------------------------------------------------

struct ByteAlphabet {
  uint32_t to_cp[256];
  std::unordered_map<uint32_t, unsigned char> from_cp;
  ByteAlphabet() {
    int n = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable =
          (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      to_cp[b] = printable ? b : 256 + n++;
      from_cp[to_cp[b]] = static_cast<unsigned char>(b);
    }
  }
};
const ByteAlphabet& alphabet() {
  static const ByteAlphabet a;
  return a;
}

}  // namespace

uint32_t byte_alphabet_char(unsigned char b) { return alphabet().to_cp[b]; }
bool in_byte_alphabet(uint32_t cp) { return alphabet().from_cp.count(cp) > 0; }

namespace {

// A token string of the byte-level alphabet -> raw bytes; nullopt if it has other characters.
std::optional<std::string> unmap_bytes(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    size_t bad = 0, n = utf8_sequence(token, i, &bad);
    if (n == 0) return std::nullopt;
    utf8proc_int32_t cp;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(token.data() + i), n, &cp);
    auto it = alphabet().from_cp.find(static_cast<uint32_t>(cp));
    if (it == alphabet().from_cp.end()) return std::nullopt;
    out.push_back(static_cast<char>(it->second));
    i += n;
  }
  return out;
}

// ByteLevel decoding of a token string: characters of the byte alphabet become their byte, any
// other character keeps its UTF-8 bytes (HF's decoder on added tokens).
std::string byte_level_decode(const std::string& token) {
  std::string out;
  for (size_t i = 0; i < token.size();) {
    size_t bad = 0, n = utf8_sequence(token, i, &bad);
    if (n == 0) {
      out.push_back(token[i++]);
      continue;
    }
    utf8proc_int32_t cp;
    utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(token.data() + i), n, &cp);
    auto it = alphabet().from_cp.find(static_cast<uint32_t>(cp));
    if (it != alphabet().from_cp.end())
      out.push_back(static_cast<char>(it->second));
    else
      out.append(token, i, n);
    i += n;
  }
  return out;
}

// ---- regex ---------------------------------------------------------------------------------

// Oniguruma's \s (what HF tokenizers uses): \t \n \v \f \r, U+0085 and the Unicode separators
// (Zs, Zl, Zp). PCRE2's \s with UCP leaves out U+0085, so \s is spelled out before compiling.
constexpr const char* kOnigSpace =
    "\\t\\n\\x{0B}\\f\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

std::string onig_to_pcre2(const std::string& p) {
  std::string out;
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    if (p[i] == '\\' && i + 1 < p.size()) {
      const char c = p[i + 1];
      if (c == 's' || (c == 'S' && !in_class)) {  // \s, or \S outside a class
        if (!in_class) out += c == 's' ? "[" : "[^";
        out += kOnigSpace;
        if (!in_class) out += ']';
      } else {
        out.append(p, i, 2);
      }
      ++i;
      continue;
    }
    if (p[i] == '[' && !in_class)
      in_class = true;
    else if (p[i] == ']' && in_class)
      in_class = false;
    out += p[i];
  }
  return out;
}

class Regex {
 public:
  Regex(const std::string& pattern, const std::string& origin) {
    int err = 0;
    PCRE2_SIZE off = 0;
    const std::string pcre = onig_to_pcre2(pattern);
    code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pcre.c_str()), pcre.size(),
                          PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &off, nullptr);
    if (code_ == nullptr) {
      PCRE2_UCHAR msg[256];
      pcre2_get_error_message(err, msg, sizeof msg);
      throw Error(origin + ": regex does not compile at offset " + std::to_string(off) + ": " +
                  reinterpret_cast<char*>(msg));
    }
    jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
  }
  ~Regex() { pcre2_code_free(code_); }

  // Whether the pattern matches at exactly byte offset `at` of s.
  bool matches_at(std::string_view s, size_t at) const {
    pcre2_match_data* md = pcre2_match_data_create(4, nullptr);
    const int rc = pcre2_match(code_, reinterpret_cast<PCRE2_SPTR>(s.data()), s.size(), at,
                               PCRE2_ANCHORED | PCRE2_NO_UTF_CHECK, md, nullptr);
    pcre2_match_data_free(md);
    return rc >= 0;
  }
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Calls f(begin, end) for each match in s, left to right (empty matches skipped).
  template <typename F>
  void for_each_match(std::string_view s, F&& f) const {
    // One match block per thread, sized for any of our patterns (they have few groups).
    thread_local struct Block {
      pcre2_match_data* md = pcre2_match_data_create(16, nullptr);
      ~Block() { pcre2_match_data_free(md); }
    } block;
    pcre2_match_data* md = block.md;
    size_t pos = 0;
    while (pos <= s.size()) {
      const auto* subj = reinterpret_cast<PCRE2_SPTR>(s.data());
      const int rc = jit_
                         ? pcre2_jit_match(code_, subj, s.size(), pos, 0, md, nullptr)
                         : pcre2_match(code_, subj, s.size(), pos, PCRE2_NO_UTF_CHECK, md, nullptr);
      if (rc < 0) break;
      const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
      if (ov[1] == ov[0]) {  // empty match: step one character
        if (ov[0] >= s.size()) break;
        size_t bad = 0, n = utf8_sequence(s, ov[0], &bad);
        pos = ov[0] + (n ? n : 1);
        continue;
      }
      f(ov[0], ov[1]);
      pos = ov[1];
    }
  }

 private:
  pcre2_code* code_ = nullptr;
  bool jit_ = false;
};

// ---- the pipeline ----------------------------------------------------------------------------

struct AddedToken {
  int64_t id;
  std::string content;
  bool single_word, lstrip, rstrip, normalized, special;
};

enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext };

struct PreTokenizer {
  enum Kind { kSplit, kByteLevel } kind = kSplit;
  std::shared_ptr<Regex> regex;  // kSplit; kByteLevel with use_regex
  SplitBehavior behavior = SplitBehavior::kIsolated;
  bool invert = false;
  bool add_prefix_space = false;  // kByteLevel
};

constexpr const char* kGpt2Pattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct MergeRule {
  int32_t rank;
  int32_t id;
};

}  // namespace

// BPE results of recent words, shared by all threads: sharded, each shard behind a reader-writer
// lock, so concurrent encodes mostly take shared locks on different shards.
class WordCache {
 public:
  static constexpr size_t kMaxWord = 256;          // longer words are not cached
  static constexpr size_t kMaxPerShard = 1 << 12;  // a full shard stops taking new words

  bool find(std::string_view w, std::vector<int64_t>& out) const {
    const Shard& s = shard(w);
    std::shared_lock lock(s.mu);
    auto it = s.map.find(w);
    if (it == s.map.end()) return false;
    out.insert(out.end(), it->second.begin(), it->second.end());
    return true;
  }
  void insert(std::string_view w, const std::vector<int64_t>& ids) const {
    Shard& s = shard(w);
    std::unique_lock lock(s.mu);
    if (s.map.size() < kMaxPerShard) s.map.emplace(std::string(w), ids);
  }

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return std::hash<std::string_view>()(v); }
  };
  struct Shard {
    mutable std::shared_mutex mu;
    std::unordered_map<std::string, std::vector<int64_t>, Hash, std::equal_to<>> map;
  };
  Shard& shard(std::string_view w) const { return shards_[std::hash<std::string_view>()(w) % 64]; }
  mutable std::array<Shard, 64> shards_;
};

struct TokenizerImpl {
  WordCache cache;
  std::vector<std::string> id_bytes;  // id -> raw bytes (BPE tokens) or content (added)
  std::vector<std::string> id_token;  // id -> token string as in tokenizer.json
  std::vector<char> id_special;       // id -> special added token
  std::vector<char> id_added;         // id -> added token
  std::unordered_map<std::string, int64_t> bytes_to_id;  // raw bytes -> BPE token id
  std::unordered_map<std::string, int64_t> token_to_id;  // tokenizer.json strings -> id
  int32_t byte_id[256];                                  // single byte -> id (-1: none)
  std::unordered_map<uint64_t, MergeRule> merges;        // (left id, right id) -> rule
  bool ignore_merges = false;
  std::optional<int64_t> unk_id;
  std::vector<AddedToken> added;
  std::vector<std::vector<size_t>> added_by_first_byte = std::vector<std::vector<size_t>>(256);
  std::vector<utf8proc_option_t> normalizers;  // applied in order
  std::vector<PreTokenizer> pre;
  std::vector<std::vector<int64_t>> template_single;  // post-processor: ids, -1 marks "$A"
  bool has_template = false;

  void bpe(std::string_view word, std::vector<int64_t>& out) const;
  void encode_plain(std::string_view text, std::vector<int64_t>& out) const;
  void split_added(std::string_view text, bool normalized_pass,
                   const std::function<void(std::string_view)>& plain,
                   std::vector<int64_t>& out) const;
};

namespace {

// ---- parsing -----------------------------------------------------------------------------

utf8proc_option_t normalizer_option(const json& n, const std::string& origin) {
  const std::string t = n.value("type", "");
  if (t == "NFC") return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE);
  if (t == "NFD") return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  if (t == "NFKC")
    return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_COMPOSE | UTF8PROC_COMPAT);
  if (t == "NFKD")
    return static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT);
  throw Error(origin + ": normalizer type \"" + t +
              "\" is not supported (NFC, NFD, NFKC, NFKD, Sequence)");
}

void parse_normalizer(const json& n, const std::string& origin,
                      std::vector<utf8proc_option_t>& out) {
  if (n.is_null()) return;
  check(n.is_object(), origin + ": normalizer must be an object or null");
  if (n.value("type", "") == "Sequence") {
    for (const auto& x : n.at("normalizers")) parse_normalizer(x, origin, out);
    return;
  }
  out.push_back(normalizer_option(n, origin));
}

void parse_pre(const json& p, const std::string& origin, std::vector<PreTokenizer>& out) {
  if (p.is_null()) return;
  check(p.is_object() && p.contains("type"),
        origin + ": pre_tokenizer must be an object with a type");
  const std::string t = p["type"].get<std::string>();
  if (t == "Sequence") {
    check(p.contains("pretokenizers") && p["pretokenizers"].is_array(),
          origin + ": pre_tokenizer Sequence needs pretokenizers");
    for (const auto& x : p["pretokenizers"]) parse_pre(x, origin, out);
  } else if (t == "Split") {
    PreTokenizer s;
    s.kind = PreTokenizer::kSplit;
    check(p.contains("pattern") && p["pattern"].is_object(), origin + ": Split needs a pattern");
    const auto& pat = p["pattern"];
    std::string regex;
    if (pat.contains("Regex")) {
      regex = pat["Regex"].get<std::string>();
    } else if (pat.contains("String")) {
      for (char c : pat["String"].get<std::string>()) {
        if (std::string("\\^$.|?*+()[]{}").find(c) != std::string::npos) regex += '\\';
        regex += c;
      }
    } else {
      throw Error(origin + ": Split pattern needs Regex or String");
    }
    s.regex = std::make_shared<Regex>(regex, origin + ": pre_tokenizer Split");
    const std::string b = p.value("behavior", "Isolated");
    if (b == "Isolated")
      s.behavior = SplitBehavior::kIsolated;
    else if (b == "Removed")
      s.behavior = SplitBehavior::kRemoved;
    else if (b == "MergedWithPrevious")
      s.behavior = SplitBehavior::kMergedWithPrevious;
    else if (b == "MergedWithNext")
      s.behavior = SplitBehavior::kMergedWithNext;
    else
      throw Error(origin + ": Split behavior \"" + b + "\" is not supported");
    s.invert = p.value("invert", false);
    out.push_back(std::move(s));
  } else if (t == "ByteLevel") {
    PreTokenizer s;
    s.kind = PreTokenizer::kByteLevel;
    s.add_prefix_space = p.value("add_prefix_space", false);
    if (p.value("use_regex", true)) s.regex = std::make_shared<Regex>(kGpt2Pattern, origin);
    out.push_back(std::move(s));
  } else {
    throw Error(origin + ": pre_tokenizer type \"" + t +
                "\" is not supported (Split, ByteLevel, Sequence)");
  }
}

void parse_post(const json& p, const std::string& origin, TokenizerImpl& impl) {
  if (p.is_null()) return;
  const std::string t = p.value("type", "");
  if (t == "Sequence") {
    for (const auto& x : p.at("processors")) parse_post(x, origin, impl);
  } else if (t == "ByteLevel") {
    // Only adjusts offsets, which r1 does not produce.
  } else if (t == "TemplateProcessing") {
    check(p.contains("single") && p["single"].is_array(),
          origin + ": TemplateProcessing needs single");
    impl.has_template = true;
    for (const auto& item : p["single"]) {
      if (item.contains("Sequence")) {
        impl.template_single.push_back({-1});
      } else if (item.contains("SpecialToken")) {
        const std::string name = item["SpecialToken"].at("id").get<std::string>();
        check(p.contains("special_tokens") && p["special_tokens"].contains(name),
              origin + ": TemplateProcessing special token \"" + name + "\" has no ids");
        impl.template_single.push_back(
            p["special_tokens"][name].at("ids").get<std::vector<int64_t>>());
      } else {
        throw Error(origin + ": TemplateProcessing item " + item.dump() + " is not understood");
      }
    }
  } else {
    throw Error(origin + ": post_processor type \"" + t +
                "\" is not supported (ByteLevel, TemplateProcessing, Sequence)");
  }
}

void check_decoder(const json& d, const std::string& origin) {
  if (d.is_null()) return;
  const std::string t = d.value("type", "");
  if (t == "Sequence") {
    for (const auto& x : d.at("decoders")) check_decoder(x, origin);
    return;
  }
  check(t == "ByteLevel", origin + ": decoder type \"" + t + "\" is not supported (ByteLevel)");
}

std::string normalize(std::string_view s, utf8proc_option_t opt) {
  utf8proc_uint8_t* out = nullptr;
  const auto n = utf8proc_map(reinterpret_cast<const utf8proc_uint8_t*>(s.data()),
                              static_cast<utf8proc_ssize_t>(s.size()), &out, opt);
  if (n < 0) return std::string(s);  // cannot happen on valid UTF-8; keep the text as it is
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  std::free(out);
  return r;
}

bool is_word_char(std::string_view s, size_t i, bool before) {
  // The character just before (or at) byte i is a word character of Unicode \w (Alphabetic,
  // marks, decimal digits, connector punctuation, joiners), HF's single_word boundary.
  if (before) {
    if (i == 0) return false;
    size_t j = i - 1;
    while (j > 0 && (static_cast<unsigned char>(s[j]) & 0xC0) == 0x80) --j;
    i = j;
  } else if (i >= s.size()) {
    return false;
  }
  static const Regex alnum("[\\p{Alphabetic}\\p{M}\\p{Nd}\\p{Pc}\\p{Join_Control}]",
                           "single_word boundary");
  return alnum.matches_at(s, i);
}

bool is_space_at(std::string_view s, size_t i, size_t* len) {
  utf8proc_int32_t cp = 0;
  const auto n =
      utf8proc_iterate(reinterpret_cast<const utf8proc_uint8_t*>(s.data() + i), s.size() - i, &cp);
  if (n <= 0) return false;
  *len = static_cast<size_t>(n);
  const auto cat = utf8proc_category(cp);
  return cp == '\t' || cp == '\n' || cp == '\v' || cp == '\f' || cp == '\r' || cp == 0x85 ||
         cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

}  // namespace

// ---- BPE -------------------------------------------------------------------------------------

void TokenizerImpl::bpe(std::string_view word, std::vector<int64_t>& out) const {
  if (word.empty()) return;
  const bool cacheable = word.size() <= WordCache::kMaxWord;
  if (cacheable && cache.find(word, out)) return;
  std::vector<int64_t> ids;
  if (ignore_merges) {
    auto it = bytes_to_id.find(std::string(word));
    if (it != bytes_to_id.end()) ids.push_back(it->second);
  }
  if (ids.empty()) {
    struct Sym {
      int64_t id;
      int64_t prev, next;
      bool alive;
    };
    std::vector<Sym> syms;
    syms.reserve(word.size());
    for (size_t i = 0; i < word.size(); ++i) {
      const int32_t id = byte_id[static_cast<unsigned char>(word[i])];
      if (id < 0) {
        check(unk_id.has_value(), "tokenizer: byte " +
                                      std::to_string(static_cast<unsigned char>(word[i])) +
                                      " has no token and there is no unk_token");
      }
      const int64_t n = static_cast<int64_t>(syms.size());
      syms.push_back({id >= 0 ? id : *unk_id, n - 1, n + 1, true});
    }
    syms.back().next = -1;
    struct Cand {
      int32_t rank;
      int64_t pos;
      int32_t id;
      bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
    };
    std::priority_queue<Cand, std::vector<Cand>, std::greater<Cand>> heap;
    auto push = [&](int64_t a) {
      const int64_t b = syms[a].next;
      if (a < 0 || b < 0) return;
      auto it = merges.find((static_cast<uint64_t>(syms[a].id) << 32) |
                            static_cast<uint64_t>(syms[b].id));
      if (it != merges.end()) heap.push({it->second.rank, a, it->second.id});
    };
    for (int64_t i = 0; i + 1 < static_cast<int64_t>(syms.size()); ++i) push(i);
    while (!heap.empty()) {
      const Cand c = heap.top();
      heap.pop();
      Sym& a = syms[c.pos];
      if (!a.alive || a.next < 0) continue;
      Sym& b = syms[a.next];
      auto it = merges.find((static_cast<uint64_t>(a.id) << 32) | static_cast<uint64_t>(b.id));
      if (it == merges.end() || it->second.id != c.id) continue;  // stale entry
      a.id = c.id;
      b.alive = false;
      a.next = b.next;
      if (b.next >= 0) syms[b.next].prev = c.pos;
      push(a.prev);
      push(c.pos);
    }
    for (const auto& s : syms)
      if (s.alive) ids.push_back(s.id);
  }
  out.insert(out.end(), ids.begin(), ids.end());
  if (cacheable) cache.insert(word, ids);
}

// Normalized text with no added tokens -> pre-tokenizers -> BPE.
void TokenizerImpl::encode_plain(std::string_view text, std::vector<int64_t>& out) const {
  if (text.empty()) return;
  std::vector<std::string> pieces = {std::string(text)};
  for (const auto& p : pre) {
    std::vector<std::string> next;
    for (auto& piece : pieces) {
      // HF's ByteLevel prepends a space to every split that does not start with one.
      if (p.kind == PreTokenizer::kByteLevel && p.add_prefix_space && !piece.empty() &&
          piece[0] != ' ')
        piece.insert(piece.begin(), ' ');
      if (!p.regex) {
        next.push_back(std::move(piece));
        continue;
      }
      // Matches and the gaps between them, in order, with `matched` after inversion.
      std::vector<std::pair<std::string_view, bool>> parts;
      size_t last = 0;
      const std::string_view s(piece);
      p.regex->for_each_match(s, [&](size_t b, size_t e) {
        if (b > last) parts.emplace_back(s.substr(last, b - last), false);
        parts.emplace_back(s.substr(b, e - b), true);
        last = e;
      });
      if (last < s.size()) parts.emplace_back(s.substr(last), false);
      if (p.kind == PreTokenizer::kSplit && p.invert)
        for (auto& part : parts) part.second = !part.second;
      const SplitBehavior behavior =
          p.kind == PreTokenizer::kByteLevel ? SplitBehavior::kIsolated : p.behavior;
      // As HF's fold: a match joins its neighbour only when that neighbour is not a match.
      std::vector<std::string> own;
      bool previous_match = false;
      switch (behavior) {
        case SplitBehavior::kIsolated:
          for (const auto& part : parts) own.emplace_back(part.first);
          break;
        case SplitBehavior::kRemoved:
          for (const auto& part : parts)
            if (!part.second) own.emplace_back(part.first);
          break;
        case SplitBehavior::kMergedWithPrevious:
          for (const auto& [t, matched] : parts) {
            if (matched && !previous_match && !own.empty())
              own.back().append(t);
            else
              own.emplace_back(t);
            previous_match = matched;
          }
          break;
        case SplitBehavior::kMergedWithNext:
          for (auto it = parts.rbegin(); it != parts.rend(); ++it) {
            if (it->second && !previous_match && !own.empty())
              own.back().insert(0, it->first);
            else
              own.emplace_back(it->first);
            previous_match = it->second;
          }
          std::reverse(own.begin(), own.end());
          break;
      }
      for (auto& o : own) next.push_back(std::move(o));
    }
    pieces.swap(next);
  }
  for (const auto& piece : pieces) bpe(piece, out);
}

// Splits `text` on added tokens (those with normalized == normalized_pass), sending the rest to
// `plain` and appending added ids to `out`. Leftmost match, longest at that position, as HF's
// leftmost-longest automaton; lstrip/rstrip absorb whitespace, single_word needs word boundaries.
void TokenizerImpl::split_added(std::string_view text, bool normalized_pass,
                                const std::function<void(std::string_view)>& plain,
                                std::vector<int64_t>& out) const {
  size_t start = 0, i = 0;
  while (i < text.size()) {
    const auto& cands = added_by_first_byte[static_cast<unsigned char>(text[i])];
    const AddedToken* hit = nullptr;
    for (size_t k : cands) {
      const AddedToken& t = added[k];
      if (t.normalized != normalized_pass) continue;
      if (text.compare(i, t.content.size(), t.content) != 0) continue;
      hit = &t;
      break;  // candidates are sorted longest first: the leftmost-longest match
    }
    if (hit == nullptr) {
      ++i;
      continue;
    }
    if (hit->single_word &&
        (is_word_char(text, i, true) || is_word_char(text, i + hit->content.size(), false))) {
      i += hit->content.size();  // HF drops the match whole; no shorter token inside it is tried
      continue;
    }
    size_t b = i, e = i + hit->content.size();
    if (hit->lstrip)
      while (b > start) {
        size_t j = b - 1, len = 0;
        while (j > start && (static_cast<unsigned char>(text[j]) & 0xC0) == 0x80) --j;
        if (!is_space_at(text, j, &len)) break;
        b = j;
      }
    if (hit->rstrip)
      for (size_t len = 0; e < text.size() && is_space_at(text, e, &len);) e += len;
    if (b > start) plain(text.substr(start, b - start));
    out.push_back(hit->id);
    start = i = e;
  }
  if (start < text.size()) plain(text.substr(start));
}

// ---- Tokenizer -------------------------------------------------------------------------------

Tokenizer Tokenizer::parse(const std::string& text, const std::string& origin) {
  const json j = parse_json(text, origin);
  check(j.is_object(), origin + ": expected a JSON object");
  auto impl = std::make_shared<TokenizerImpl>();
  check(j.contains("model") && j["model"].is_object(), origin + ": missing object field model");
  const json& m = j["model"];
  const std::string type = m.value("type", "BPE");
  check(type == "BPE", origin + ": model.type \"" + type + "\" is not supported (BPE)");
  check(m.contains("vocab") && m["vocab"].is_object(), origin + ": model.vocab is missing");
  check(m.contains("merges") && m["merges"].is_array(), origin + ": model.merges is missing");
  for (const char* f : {"continuing_subword_prefix", "end_of_word_suffix"})
    check(!m.contains(f) || m[f].is_null() || m[f] == "",
          origin + ": model." + f + " is not supported by r1's byte-level BPE");
  check(!m.value("byte_fallback", false), origin + ": model.byte_fallback is not supported");
  impl->ignore_merges = m.value("ignore_merges", false);

  int64_t max_id = -1;
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    check(it.value().is_number_integer() && it.value().get<int64_t>() >= 0,
          origin + ": model.vocab[\"" + it.key() + "\"] is not a non-negative id");
    max_id = std::max(max_id, it.value().get<int64_t>());
  }
  check(j.contains("added_tokens") ? j["added_tokens"].is_array() || j["added_tokens"].is_null()
                                   : true,
        origin + ": added_tokens must be a list");
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"]) {
      check(a.is_object() && a.contains("id") && a["id"].is_number_integer() &&
                a.contains("content") && a["content"].is_string(),
            origin + ": added_tokens entry " + a.dump() + " needs id and content");
      check(a["id"].get<int64_t>() >= 0, origin + ": added_tokens id must be >= 0");
      max_id = std::max(max_id, a["id"].get<int64_t>());
    }
  check(max_id < (int64_t{1} << 31), origin + ": ids above 2^31 are not supported");
  const size_t n = static_cast<size_t>(max_id + 1);
  impl->id_bytes.resize(n);
  impl->id_token.resize(n);
  impl->id_special.assign(n, 0);
  impl->id_added.assign(n, 0);
  std::fill(std::begin(impl->byte_id), std::end(impl->byte_id), -1);
  for (auto it = m["vocab"].begin(); it != m["vocab"].end(); ++it) {
    const int64_t id = it.value().get<int64_t>();
    impl->id_token[id] = it.key();
    impl->token_to_id[it.key()] = id;
    auto raw = unmap_bytes(it.key());
    impl->id_bytes[id] = raw ? *raw : it.key();
    if (raw) {
      impl->bytes_to_id[*raw] = id;
      if (raw->size() == 1)
        impl->byte_id[static_cast<unsigned char>((*raw)[0])] = static_cast<int32_t>(id);
    }
  }
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    auto it = impl->token_to_id.find(m["unk_token"].get<std::string>());
    check(it != impl->token_to_id.end(), origin + ": model.unk_token is not in the vocabulary");
    impl->unk_id = it->second;
  }
  int32_t rank = 0;
  for (const auto& mg : m["merges"]) {
    std::string a, b;
    if (mg.is_string()) {
      const std::string s = mg.get<std::string>();
      const size_t sp = s.find(' ');
      check(sp != std::string::npos && sp > 0 && sp + 1 < s.size(),
            origin + ": model.merges[" + std::to_string(rank) + "] \"" + s +
                "\" is not \"left right\"");
      a = s.substr(0, sp);
      b = s.substr(sp + 1);
    } else {
      check(mg.is_array() && mg.size() == 2 && mg[0].is_string() && mg[1].is_string(),
            origin + ": model.merges[" + std::to_string(rank) + "] is not a pair of strings");
      a = mg[0].get<std::string>();
      b = mg[1].get<std::string>();
    }
    auto ia = impl->token_to_id.find(a), ib = impl->token_to_id.find(b),
         iab = impl->token_to_id.find(a + b);
    check(ia != impl->token_to_id.end() && ib != impl->token_to_id.end() &&
              iab != impl->token_to_id.end(),
          origin + ": model.merges[" + std::to_string(rank) + "] (\"" + a + "\", \"" + b +
              "\") uses a token missing from the vocabulary");
    const uint64_t key =
        (static_cast<uint64_t>(ia->second) << 32) | static_cast<uint64_t>(ib->second);
    impl->merges[key] = MergeRule{rank, static_cast<int32_t>(iab->second)};  // last wins, as HF
    ++rank;
  }
  if (j.contains("added_tokens") && j["added_tokens"].is_array())
    for (const auto& a : j["added_tokens"]) {
      AddedToken t{a["id"].get<int64_t>(),        a["content"].get<std::string>(),
                   a.value("single_word", false), a.value("lstrip", false),
                   a.value("rstrip", false),      a.value("normalized", false),
                   a.value("special", false)};
      check(!t.content.empty(),
            origin + ": added token " + std::to_string(t.id) + " has empty content");
      // Decoding runs added tokens through the ByteLevel decoder too, as HF does: characters of
      // the byte alphabet become their bytes, others stay as they are.
      impl->id_bytes[t.id] = byte_level_decode(t.content);
      impl->id_token[t.id] = t.content;
      impl->id_added[t.id] = 1;
      impl->id_special[t.id] = t.special;
      // Content that the model's vocabulary already has is emitted with the vocabulary's id.
      if (auto v = impl->token_to_id.find(t.content); v != impl->token_to_id.end())
        t.id = v->second;
      else
        impl->token_to_id[t.content] = t.id;
      impl->added.push_back(t);
    }
  for (size_t k = 0; k < impl->added.size(); ++k)
    impl->added_by_first_byte[static_cast<unsigned char>(impl->added[k].content[0])].push_back(k);
  for (auto& list : impl->added_by_first_byte)
    std::stable_sort(list.begin(), list.end(), [&](size_t x, size_t y) {
      return impl->added[x].content.size() > impl->added[y].content.size();
    });
  parse_normalizer(j.value("normalizer", json()), origin, impl->normalizers);
  parse_pre(j.value("pre_tokenizer", json()), origin, impl->pre);
  parse_post(j.value("post_processor", json()), origin, *impl);
  check(j.contains("decoder") && !j["decoder"].is_null(),
        origin + ": decoder is missing (r1 decodes byte-level BPE: ByteLevel)");
  check_decoder(j["decoder"], origin);
  check(std::any_of(impl->pre.begin(), impl->pre.end(),
                    [](const PreTokenizer& p) { return p.kind == PreTokenizer::kByteLevel; }),
        origin + ": pre_tokenizer has no ByteLevel step (r1 supports byte-level BPE only)");
  Tokenizer t;
  t.impl_ = impl;
  return t;
}

Tokenizer Tokenizer::load(const std::string& path) {
  if (is_gguf_file(path)) return load_gguf_tokenizer(path);  // tokenizer.ggml.* metadata
  namespace fs = std::filesystem;
  const bool dir = fs::is_directory(path);
  const std::string file = dir ? (fs::path(path) / "tokenizer.json").string() : path;
  check(fs::exists(file), file + ": missing (r1 reads Hugging Face tokenizer.json files)");
  Tokenizer t = parse(read_file(file), file);
  // Companion files live beside tokenizer.json.
  const fs::path home = dir ? fs::path(path) : fs::path(path).parent_path();
  const std::string cfg = (home / "tokenizer_config.json").string();
  if (fs::exists(cfg)) {
    const json c = read_json_file(cfg);
    auto name = [&](const char* key) -> std::optional<std::string> {
      if (!c.contains(key)) return std::nullopt;
      if (c[key].is_string()) return c[key].get<std::string>();
      if (c[key].is_object() && c[key].contains("content"))
        return c[key]["content"].get<std::string>();
      return std::nullopt;
    };
    if (auto b = name("bos_token")) {
      t.bos_token = *b;
      t.bos_id = t.token_to_id(*b);
    }
    if (auto e = name("eos_token")) {
      t.eos_token = *e;
      t.eos_id = t.token_to_id(*e);
    }
    if (auto p = name("pad_token")) t.pad_id = t.token_to_id(*p);
  }
  const std::string model_cfg = (home / "config.json").string();
  if (fs::exists(model_cfg)) {
    const json c = read_json_file(model_cfg);
    auto id = [&](const char* key) -> std::optional<int64_t> {
      if (c.contains(key) && c[key].is_number_integer()) return c[key].get<int64_t>();
      if (c.contains(key) && c[key].is_array() && !c[key].empty() && c[key][0].is_number_integer())
        return c[key][0].get<int64_t>();
      return std::nullopt;
    };
    if (!t.bos_id) t.bos_id = id("bos_token_id");
    if (!t.eos_id) t.eos_id = id("eos_token_id");
    if (!t.pad_id) t.pad_id = id("pad_token_id");
  }
  t.think_open_id = t.token_to_id("<think>");
  t.think_close_id = t.token_to_id("</think>");
  return t;
}

std::vector<int64_t> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const TokenizerImpl& im = *impl_;
  std::string owned;
  if (!is_valid_utf8(text)) {
    owned = utf8_lossy(text);
    text = owned;
  }
  std::vector<int64_t> ids;
  im.split_added(
      text, /*normalized_pass=*/false,
      [&](std::string_view segment) {
        std::string norm(segment);
        for (auto opt : im.normalizers) norm = normalize(norm, opt);
        im.split_added(
            norm, /*normalized_pass=*/true, [&](std::string_view s) { im.encode_plain(s, ids); },
            ids);
      },
      ids);
  if (!add_special_tokens || !im.has_template) return ids;
  std::vector<int64_t> out;
  for (const auto& item : im.template_single) {
    if (item.size() == 1 && item[0] == -1)
      out.insert(out.end(), ids.begin(), ids.end());
    else
      out.insert(out.end(), item.begin(), item.end());
  }
  return out;
}

std::vector<std::vector<int64_t>> Tokenizer::encode_batch(const std::vector<std::string>& texts,
                                                          bool add_special_tokens,
                                                          int threads) const {
  std::vector<std::vector<int64_t>> out(texts.size());
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = std::min<int>(threads, static_cast<int>(std::max<size_t>(texts.size(), 1)));
  // Workers pull texts one at a time (lengths vary); the word cache is shared, so new threads
  // start warm.
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i; (i = next++) < texts.size();) out[i] = encode(texts[i], add_special_tokens);
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& th : pool) th.join();
  return out;
}

std::string Tokenizer::decode(const std::vector<int64_t>& ids, bool skip_special_tokens) const {
  std::string bytes;
  for (int64_t id : ids) {
    check(id >= 0, "decode: id " + std::to_string(id) + " is negative");
    if (id >= vocab_size()) continue;  // as HF: models often have more rows than the tokenizer
    if (skip_special_tokens && impl_->id_special[id]) continue;
    bytes += impl_->id_bytes[id];
  }
  return utf8_lossy(bytes);
}

int64_t Tokenizer::vocab_size() const { return static_cast<int64_t>(impl_->id_bytes.size()); }

std::optional<int64_t> Tokenizer::token_to_id(const std::string& token) const {
  auto it = impl_->token_to_id.find(token);
  if (it == impl_->token_to_id.end()) return std::nullopt;
  return it->second;
}

std::string Tokenizer::id_to_token(int64_t id) const {
  check(id >= 0 && id < vocab_size(), "id " + std::to_string(id) + " is outside the vocabulary");
  return impl_->id_token[id];
}

bool Tokenizer::is_special(int64_t id) const {
  return id >= 0 && id < vocab_size() && impl_->id_special[id];
}

std::string StreamDecoder::push(int64_t id) {
  const auto& im = *tok_.impl_;
  check(id >= 0, "decode: id " + std::to_string(id) + " is negative");
  if (id < tok_.vocab_size() && !(skip_special_ && im.id_special[id])) pending_ += im.id_bytes[id];
  // Emit everything up to an incomplete (but so far valid) trailing sequence.
  size_t i = 0, cut = 0;
  std::string out;
  while (i < pending_.size()) {
    size_t bad = 0, n = utf8_sequence(pending_, i, &bad);
    if (n == 0 && i + bad >= pending_.size()) break;  // could still complete
    i += n ? n : bad;
    cut = i;
  }
  out = utf8_lossy(std::string_view(pending_).substr(0, cut));
  pending_.erase(0, cut);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

nlohmann::ordered_json bpe_model_json(nlohmann::ordered_json vocab, nlohmann::ordered_json merges) {
  return {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", nullptr},
          {"continuing_subword_prefix", ""},
          {"end_of_word_suffix", ""},
          {"fuse_unk", false},
          {"byte_fallback", false},
          {"ignore_merges", false},
          {"vocab", std::move(vocab)},
          {"merges", std::move(merges)}};
}

}  // namespace r1
