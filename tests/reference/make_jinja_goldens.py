"""Renders every real chat template in tests/data/chat_templates/corpus/ with the real `transformers` and writes
the goldens in tests/data/goldens/jinja_templates.json that r1's native Jinja2 engine is checked against.

Run: .venv/bin/python tests/reference/make_jinja_goldens.py   (deterministic; rewrites the golden file)

Every template gets every conversation in CONVERSATIONS, with add_generation_prompt False and True. The reference
is what `tokenizer.apply_chat_template(messages, tools=..., documents=..., tokenize=False, add_generation_prompt=...,
**kwargs)` does in transformers 5.23:
  * the messages are normalized: keys whose value is None are dropped (the golden stores the normalized messages);
  * `transformers.utils.chat_template_utils.render_jinja_template(conversations=[messages], tools=tools,
    documents=documents, chat_template=template, add_generation_prompt=agp, **special_tokens, **kwargs)` renders
    them, in transformers' sandboxed environment (ImmutableSandboxedEnvironment with trim_blocks, lstrip_blocks,
    the loopcontrols extension and the `generation` tag; globals raise_exception, strftime_now, namespace (no
    underscore-prefixed attributes), dict; a `tojson` filter that is json.dumps(x, ensure_ascii=False, indent=indent,
    separators=separators, sort_keys=sort_keys), so no HTML escaping and ", "/": " separators by default);
  * inside render_jinja_template, before rendering, a message that has any of `reasoning_content`, `thinking`,
    `reasoning` (not None) gets both `thinking` (inserted as the first key) and `reasoning_content` (last key, or
    overwritten in place) set to that value. A native engine must do the same aliasing; the golden's messages are
    the ones before it;
  * special_tokens is the tokenizer's special_tokens_map (only the named tokens that are set: bos, eos, unk, sep,
    pad, cls, mask), from the model's tokenizer_config.json; kwargs override them (none of these cases collide).
For templates whose family has a tokenizer.json in ../shared/data/tokenizers (Qwen, DeepSeek) the script also
builds that tokenizer with the template's special tokens and checks that tokenizer.apply_chat_template gives the
same string (or raises the same error); every other template is checked the same way through the shared GPT-2
tokenizer.json carrying the template's special tokens (with tokenize=False the vocabulary plays no part).

A template that raises (raise_exception, or any error while rendering) gets "error" (str() of the exception) and
"error_type" (its Python class name, e.g. TemplateError, UndefinedError, TypeError) instead of "rendered".

The clock is fixed: strftime_now() sees datetime.now() == 2026-01-15 10:30:00 (naive local time; "fixed_now" in
the file), by patching the `datetime` name in transformers.utils.chat_template_utils. For the templates that call
strftime_now, every conversation except "single_user" also passes date_string=DATE_STRING (the Llama 3.x templates
read it; the others ignore it and use the clock), so both paths are covered.

Output: {"fixed_now", "about", "cases": [{"template", "case", "messages", "tools" (only when given), "documents"
(only when given), "add_generation_prompt", "kwargs", "special_tokens", "rendered" | "error" + "error_type"}]}.
"""
import datetime as _datetime_module
import json
import os
import sys

import transformers.utils.chat_template_utils as ctu
from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(ROOT, "tests", "data", "chat_templates", "corpus")
OUT = os.path.join(ROOT, "tests", "data", "goldens", "jinja_templates.json")
SHARED_TOKENIZERS = os.path.join(ROOT, "..", "shared", "data", "tokenizers")

FIXED_NOW = _datetime_module.datetime(2026, 1, 15, 10, 30, 0)
DATE_STRING = "02 Mar 2025"  # differs from the fixed clock's "15 Jan 2026", so the two paths can be told apart


class _FixedDatetime(_datetime_module.datetime):
    @classmethod
    def now(cls, tz=None):
        return FIXED_NOW if tz is None else FIXED_NOW.replace(tzinfo=tz)


# strftime_now (a closure inside transformers' template compiler) calls the module-global `datetime.now()`.
ctu.datetime = _FixedDatetime

# The special tokens of each model's tokenizer_config.json (see corpus/README.md for where each came from).
SPECIAL_TOKENS = {
    'codellama_70b': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'command_a': dict(bos_token='<BOS_TOKEN>', eos_token='<|END_OF_TURN_TOKEN|>', pad_token='<PAD>'),
    'command_r7b': dict(bos_token='<BOS_TOKEN>', eos_token='<|END_OF_TURN_TOKEN|>', pad_token='<PAD>'),
    'command_r7b_tool_use': dict(bos_token='<BOS_TOKEN>', eos_token='<|END_OF_TURN_TOKEN|>', pad_token='<PAD>'),
    'command_r_plus_tool_use': dict(bos_token='<BOS_TOKEN>', eos_token='<|END_OF_TURN_TOKEN|>', pad_token='<PAD>'),
    'command_r_v01_tool_use': dict(bos_token='<BOS_TOKEN>', eos_token='<|END_OF_TURN_TOKEN|>', pad_token='<PAD>'),
    'deepseek_coder_33b': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<|EOT|>'),
    'deepseek_llm_7b_chat': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<｜end▁of▁sentence｜>'),
    'deepseek_r1': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<｜end▁of▁sentence｜>'),
    'deepseek_r1_0528': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<｜end▁of▁sentence｜>'),
    'deepseek_r1_distill_qwen': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<｜end▁of▁sentence｜>', pad_token='<｜end▁of▁sentence｜>'),
    'deepseek_v3': dict(bos_token='<｜begin▁of▁sentence｜>', eos_token='<｜end▁of▁sentence｜>'),
    'falcon_rw_1b_chat': dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>'),
    'firefunction_v1': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'firefunction_v2': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'functionary_medium_v2_2': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'functionary_medium_v3_1': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'functionary_medium_v3_2': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'gemma2_2b_it': dict(bos_token='<bos>', eos_token='<eos>', pad_token='<pad>', unk_token='<unk>'),
    'gemma3_it': dict(bos_token='<bos>', eos_token='<eos>', pad_token='<pad>', unk_token='<unk>'),
    'glm4_9b_chat': dict(eos_token='<|endoftext|>', pad_token='<|endoftext|>'),
    'glm5_1': dict(eos_token='<|endoftext|>', pad_token='<|endoftext|>'),
    'gpt_oss_120b': dict(bos_token='<|startoftext|>', eos_token='<|return|>', pad_token='<|endoftext|>'),
    'granite3_3_2b': dict(bos_token='<|end_of_text|>', eos_token='<|end_of_text|>', pad_token='<|end_of_text|>', unk_token='<|end_of_text|>'),
    'granite4_0': dict(bos_token='<|end_of_text|>', eos_token='<|end_of_text|>', pad_token='<|pad|>', unk_token='<|unk|>'),
    'hammer2_1': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'hermes2_pro_llama3_tool_use': dict(bos_token='<|begin_of_text|>', eos_token='<|im_end|>'),
    'internlm2_chat_7b': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'jamba_1_6_large': dict(bos_token='<|startoftext|>', eos_token='<|endoftext|>', pad_token='<|pad|>', unk_token='<|unk|>'),
    'kimi_k2': dict(bos_token='[BOS]', eos_token='[EOS]', pad_token='[PAD]', unk_token='[UNK]'),
    'kimi_k2_thinking': dict(bos_token='[BOS]', eos_token='[EOS]', pad_token='[PAD]', unk_token='[UNK]'),
    'lfm2_5_vl_450m': dict(bos_token='<|startoftext|>', eos_token='<|im_end|>', pad_token='<|pad|>'),
    'llama2_7b_chat': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'llama3_1_8b': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'llama3_2_11b_vision': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>', pad_token='<|finetune_right_pad_id|>'),
    'llama3_2_3b': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'llama3_8b': dict(bos_token='<|begin_of_text|>', eos_token='<|eot_id|>'),
    'llama4_scout': dict(bos_token='<|begin_of_text|>', eos_token='<|eot|>', pad_token='<|finetune_right_pad|>'),
    'minicpm3_4b': dict(bos_token='<s>', eos_token='<|im_end|>', unk_token='<unk>'),
    'mistral_7b_v0_1': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'mistral_7b_v0_3': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'mistral_nemo': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'mistral_small_3_2': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'mixtral_8x7b': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'olmo2_7b': dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>', pad_token='<|pad|>'),
    'openchat_3_5': dict(bos_token='<s>', eos_token='<|end_of_turn|>', unk_token='<unk>'),
    'phi3_5_mini': dict(bos_token='<s>', eos_token='<|endoftext|>', pad_token='<|endoftext|>', unk_token='<unk>'),
    'phi3_medium': dict(bos_token='<s>', eos_token='<|endoftext|>', pad_token='<|endoftext|>', unk_token='<unk>'),
    'phi3_mini': dict(bos_token='<s>', eos_token='<|endoftext|>', pad_token='<|endoftext|>', unk_token='<unk>'),
    'phi4': dict(bos_token='<|endoftext|>', eos_token='<|im_end|>', pad_token='<|dummy_85|>'),
    'phi4_mini': dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>', pad_token='<|endoftext|>', unk_token='<|endoftext|>'),
    'phi4_mini_reasoning': dict(bos_token='<|endoftext|>', eos_token='<|endoftext|>', pad_token='<|endoftext|>', unk_token='<|endoftext|>'),
    'qwen1_5_72b_chat': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwen2_5_coder_0_5b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwen2_5_vl_7b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwen3_0_6b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwen3_5_4b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwen3_coder_30b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'qwq_32b': dict(eos_token='<|im_end|>', pad_token='<|endoftext|>'),
    'smollm2_135m': dict(bos_token='<|im_start|>', eos_token='<|im_end|>', unk_token='<|endoftext|>', pad_token='<|im_end|>'),
    'smollm3_3b': dict(eos_token='<|im_end|>', pad_token='<|im_end|>'),
    'solar_10_7b': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
    'yi_6b_chat': dict(bos_token='<|startoftext|>', eos_token='<|im_end|>', pad_token='<unk>', unk_token='<unk>'),
    'zephyr_7b_beta': dict(bos_token='<s>', eos_token='</s>', unk_token='<unk>'),
}

# Templates checked through a family tokenizer.json; all others go through the GPT-2 one.
FAMILY_TOKENIZER = {
    "qwen2_5_coder_0_5b": "qwen2_5_tokenizer.json", "qwen3_0_6b": "qwen2_5_tokenizer.json",
    "qwq_32b": "qwen2_5_tokenizer.json", "qwen3_coder_30b": "qwen2_5_tokenizer.json",
    "qwen1_5_72b_chat": "qwen2_5_tokenizer.json", "qwen2_5_vl_7b": "qwen2_5_tokenizer.json",
    "qwen3_5_4b": "qwen2_5_tokenizer.json", "hammer2_1": "qwen2_5_tokenizer.json",
    "deepseek_r1_distill_qwen": "deepseek_r1_distill_qwen_tokenizer.json",
    "deepseek_r1": "deepseek_r1_distill_qwen_tokenizer.json",
    "deepseek_r1_0528": "deepseek_r1_distill_qwen_tokenizer.json",
    "deepseek_v3": "deepseek_r1_distill_qwen_tokenizer.json",
}
GENERIC_TOKENIZER = "gpt2_tokenizer.json"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
            },
            "required": ["city"],
        },
    },
}
SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_web",
        "description": "Search the web. The query may hold \"quotes\", back\\slashes, ünïcödé and 🌍.",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to search for"},
                "max_results": {"type": "integer", "description": "How many results (1-10)"},
            },
            "required": ["query"],
        },
    },
}
TOOLS = [WEATHER_TOOL, SEARCH_TOOL]

# Cohere's own tool format (Command-R tool_use templates read tool.name / tool.parameter_definitions directly).
COHERE_TOOL = {
    "name": "internet_search",
    "description": "Returns a list of relevant document snippets for a textual query.",
    "parameter_definitions": {"query": {"description": "Query to search the internet with", "type": "str",
                                        "required": True}},
}

# Fireworks' firefunction templates take the function specs as a "functions" message (v1) or a `functions` string
# variable plus a `datetime` string (v2).
FUNCTIONS_JSON = json.dumps([t["function"] for t in TOOLS], ensure_ascii=False)

DOCUMENTS = [
    {"title": "Tides", "text": "The Moon's gravity causes two tidal bulges on Earth."},
    {"title": "Ünïcödé \"doc\"", "text": "Line one\nline two: 東京 🌊"},
]

UNICODE_USER = ("你好，世界！ مرحبا بالعالم שלום — e\u0301 n\u0303 (combining) 😀👍🏽👨‍👩‍👧 𝔘𝔫𝔦 “curly” ‘single’ "
                "He said \"hi\" and \\n is not a newline; C:\\temp\\new\\ {{ not_jinja }} {% raw %} </s> <|im_end|>")

# (name, messages, tools, documents, template kwargs). Message content None is dropped by the normalization, as in
# apply_chat_template.
CONVERSATIONS = [
    ("single_user", [{"role": "user", "content": "Hello!"}], None, None, {}),
    ("system_user", [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What is 2+2?"}], None, None, {}),
    ("multi_turn", [{"role": "user", "content": "Hi, who are you?"},
                    {"role": "assistant", "content": "I am an AI assistant."},
                    {"role": "user", "content": "Tell me a joke."}], None, None, {}),
    ("ends_with_assistant", [{"role": "user", "content": "Say hi."},
                             {"role": "assistant", "content": "Hi!"}], None, None, {}),
    ("tools", [{"role": "system", "content": "You can call tools."},
               {"role": "user", "content": "Weather in Zürich?"},
               {"role": "assistant", "content": "",
                "tool_calls": [{"id": "call12345", "type": "function",
                                "function": {"name": "get_weather",
                                             "arguments": {"city": "Zürich", "unit": "celsius"}}}]},
               {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
                "content": "{\"temp_c\": 21, \"sky\": \"clear\"}"},
               {"role": "user", "content": "Thanks! Anything about \"Zürich\" in the news?"}], TOOLS, None, {}),
    ("tools_args_string", [{"role": "user", "content": "Weather in Paris?"},
                           {"role": "assistant", "content": None,
                            "tool_calls": [{"id": "abcDEF789", "type": "function",
                                            "function": {"name": "get_weather",
                                                         "arguments": "{\"city\": \"Paris\"}"}}]},
                           {"role": "tool", "tool_call_id": "abcDEF789", "name": "get_weather", "content": "18 C"}],
     TOOLS, None, {}),
    ("tools_no_calls", [{"role": "user", "content": "Search for \"llama\" facts."}], TOOLS, None, {}),
    ("reasoning_content", [{"role": "user", "content": "What is 2+2?"},
                           {"role": "assistant", "content": "The answer is 4.",
                            "reasoning_content": "2 plus 2 makes 4."},
                           {"role": "user", "content": "And 3+3?"}], None, None, {}),
    ("reasoning_content_last", [{"role": "user", "content": "What is 2+2?"},
                                {"role": "assistant", "content": "4",
                                 "reasoning_content": "\nSimple arithmetic.\n"}], None, None, {}),
    ("think_in_content", [{"role": "user", "content": "What is 1+1?"},
                          {"role": "assistant", "content": "<think>\nreasoning\n</think>\n\nThe answer is 2."},
                          {"role": "user", "content": "And 2+2?"}], None, None, {}),
    ("unicode", [{"role": "system", "content": "系统提示：请用中文回答。 \"quoted\" \\ backslash"},
                 {"role": "user", "content": UNICODE_USER},
                 {"role": "assistant", "content": "こんにちは 👋 — naïve café ‘ok’ \"fine\" \\o/"},
                 {"role": "user", "content": "再见 🤖🧠 עברית"}], None, None, {}),
    ("whitespace", [{"role": "system", "content": "  System with spaces.  \n"},
                    {"role": "user", "content": "\n  leading and trailing whitespace  \n\n"},
                    {"role": "assistant", "content": "  reply with spaces \n"},
                    {"role": "user", "content": "\tline one\nline two\t\n"}], None, None, {}),
    ("empty_content", [{"role": "user", "content": ""},
                       {"role": "assistant", "content": ""},
                       {"role": "user", "content": ""}], None, None, {}),
    ("documents", [{"role": "user", "content": "What causes tides?"}], None, DOCUMENTS, {}),
    ("kwargs_thinking_off", [{"role": "user", "content": "Hi there"}], None, None, {"enable_thinking": False}),
    ("kwargs_thinking_on", [{"role": "user", "content": "Solve x+1=3."},
                            {"role": "assistant", "content": "x = 2", "reasoning_content": "Subtract 1."},
                            {"role": "user", "content": "Now x+2=5."}], None, None, {"enable_thinking": True}),
    ("tools_cohere_style", [{"role": "user", "content": "Find news about tides."}], [COHERE_TOOL], None, {}),
    ("functions_role", [{"role": "functions", "content": FUNCTIONS_JSON},
                        {"role": "user", "content": "Weather in Oslo?"}], None, None, {}),
    ("functions_kwarg", [{"role": "system", "content": "You are a helpful assistant."},
                         {"role": "user", "content": "Weather in Oslo?"}], None, None,
     {"functions": FUNCTIONS_JSON, "datetime": "2026-01-15 10:30"}),
    ("kwargs_misc", [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Date?"}], None, None,
     {"date_string": "15 Jan 2026", "reasoning_effort": "high", "some_unknown_kwarg": [1, "two", None]}),
]


def load_template(name):
    with open(os.path.join(CORPUS, name + ".jinja"), encoding="utf-8", newline="") as f:
        return f.read()


def normalize(messages):
    # What apply_chat_template does before rendering: drop the keys whose value is None.
    return [{k: v for k, v in m.items() if v is not None} for m in messages]


def run(fn):
    try:
        return ("rendered", fn())
    except Exception as e:  # noqa: BLE001 - every failure of the template is a golden
        return ("error", (str(e), type(e).__name__))


def render_direct(template, special, messages, tools, documents, agp, kwargs):
    rendered, _ = render_jinja_template(conversations=[normalize(messages)], tools=tools, documents=documents,
                                        chat_template=template, add_generation_prompt=agp, **special, **kwargs)
    return rendered[0]


def make_tokenizer(name, special, template):
    path = os.path.join(SHARED_TOKENIZERS, FAMILY_TOKENIZER.get(name, GENERIC_TOKENIZER))
    tok = PreTrainedTokenizerFast(tokenizer_file=path, **special)
    tok.chat_template = template
    if tok.special_tokens_map != special:
        sys.exit(f"{name}: tokenizer special_tokens_map {tok.special_tokens_map} != {special}")
    return tok


def main():
    names = sorted(f[:-len(".jinja")] for f in os.listdir(CORPUS) if f.endswith(".jinja"))
    missing = set(names) ^ set(SPECIAL_TOKENS)
    if missing:
        sys.exit(f"templates and SPECIAL_TOKENS disagree: {sorted(missing)}")
    uses_clock = {n for n in names if "strftime_now" in load_template(n)}
    cases, n_rendered, n_error = [], 0, 0
    for name in names:
        template = load_template(name)
        special = SPECIAL_TOKENS[name]
        tokenizer = make_tokenizer(name, special, template)
        for case, messages, tools, documents, kwargs in CONVERSATIONS:
            kwargs = dict(kwargs)
            if name in uses_clock and case != "single_user" and "date_string" not in kwargs:
                kwargs["date_string"] = DATE_STRING
            for agp in (False, True):
                direct = run(lambda: render_direct(template, special, messages, tools, documents, agp, kwargs))
                via_tok = run(lambda: tokenizer.apply_chat_template(messages, tools=tools, documents=documents,
                                                                    tokenize=False, add_generation_prompt=agp,
                                                                    **kwargs))
                if direct != via_tok:
                    sys.exit(f"{name}/{case}/agp={agp}: apply_chat_template and render_jinja_template disagree:\n"
                             f"{direct!r}\n{via_tok!r}")
                entry = {"template": name, "case": case, "messages": normalize(messages)}
                if tools is not None:
                    entry["tools"] = tools
                if documents is not None:
                    entry["documents"] = documents
                entry.update({"add_generation_prompt": agp, "kwargs": kwargs, "special_tokens": special})
                if direct[0] == "rendered":
                    entry["rendered"] = direct[1]
                    n_rendered += 1
                else:
                    entry["error"], entry["error_type"] = direct[1]
                    n_error += 1
                cases.append(entry)
    out = {
        "fixed_now": FIXED_NOW.isoformat(),
        "about": ("Goldens from tests/reference/make_jinja_goldens.py (transformers 5.23 render_jinja_template, the "
                  "renderer of apply_chat_template(tokenize=False)). messages are already normalized (None-valued "
                  "keys dropped); the renderer then aliases reasoning fields: a message with reasoning_content, "
                  "thinking or reasoning gets thinking (first key) and reasoning_content set to that value. The "
                  "template variables are messages, tools (null when absent), documents (null when absent), "
                  "add_generation_prompt, every special_tokens entry and every kwargs entry; strftime_now() uses "
                  "fixed_now as the naive local time."),
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    by_template = {}
    for c in cases:
        by_template.setdefault(c["template"], [0, 0])[0 if "rendered" in c else 1] += 1
    print(f"wrote {len(cases)} goldens for {len(names)} templates x {len(CONVERSATIONS)} conversations x 2 "
          f"to {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes): {n_rendered} rendered, {n_error} raised")
    for name, (r, e) in by_template.items():
        if e:
            print(f"  {name}: {r} rendered, {e} raised")


if __name__ == "__main__":
    main()
