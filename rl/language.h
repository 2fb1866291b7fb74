// Language detection for R1's language-consistency reward and rejection sampling: words counted per
// Unicode script (code point ranges; utf8proc gives the categories, not the script), languages as
// sets of scripts. Leaves out dictionaries: a language is its script(s).
#pragma once

#include <cstdint>  // int64_t
#include <map>      // std::map
#include <string>   // std::string
#include <vector>   // std::vector

namespace r1 {

// Words per script. A word is a maximal run of letters (Unicode L*, with combining marks) of one
// script; scripts written without spaces (Han, Hiragana, Katakana) count every character as a
// word. Skipped: one-letter words of the other scripts (variables: "x", "n"), LaTeX commands
// ("\frac", and the environment name of \begin{..}/\end{..}), fenced code blocks (```...```),
// the tags <think> and </think>.
// Scripts: latin, greek, cyrillic, hebrew, arabic, devanagari, thai, hangul, han, hiragana,
// katakana, other (any other letter).
std::map<std::string, int64_t> count_words(const std::string& text);

// The languages, as sets of scripts: latin, greek, cyrillic, hebrew, arabic, devanagari, thai,
// other (one script each), zh (han), ja (han, hiragana, katakana), ko (hangul, han).
const std::vector<std::string>& language_names();
// The language of the script with the most words (ties: the first in count_words' list); han
// becomes ja when the text has any kana. "" when the text has no words.
std::string detect_language(const std::string& text);
// The share of `text`'s words written in `language` ("": in its own detected language); 0 when
// the text has no words. Throws r1::Error for an unknown language name.
double language_share(const std::string& text, const std::string& language);

}  // namespace r1
