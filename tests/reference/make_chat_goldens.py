"""Renders the real chat templates in tests/data/chat_templates/ with the real `transformers` and writes the
goldens in tests/data/goldens/chat_templates.json that r1's built-in templates (rendered by its Jinja engine)
are checked against.

Run: .venv/bin/python tests/reference/make_chat_goldens.py   (deterministic; rewrites the golden file)

Each template is rendered for every conversation in CONVERSATIONS, with add_generation_prompt False and True.
The reference path is transformers' own:
  * deepseek_r1*, qwen2_5: a tokenizer built from the shared tokenizer.json, with the bos/eos/pad tokens of the
    model's tokenizer_config.json and the template set as its chat_template, then
    `tokenizer.apply_chat_template(messages, tools=..., tokenize=False, add_generation_prompt=...)`.
  * llama3, llama3_1 (no tokenizer file is shipped): `transformers.utils.chat_template_utils.render_jinja_template`,
    the function apply_chat_template itself calls (same sandboxed Jinja environment: trim_blocks, lstrip_blocks,
    loopcontrols, the tojson override, raise_exception, strftime_now, namespace), fed exactly what
    apply_chat_template feeds it: the messages with None-valued keys dropped, and the special-tokens map as template
    variables.
For the tokenizer-backed templates the script also checks that render_jinja_template on that same input gives
the same string, so the two paths are known to agree.

Output: a list of {"template", "case", "messages", "tools" (only where tools are passed), "add_generation_prompt",
"bos_token", "eos_token", "rendered"}. bos_token/eos_token are what the template sees (null: undefined in the
template, as for Qwen2.5 whose tokenizer_config.json has "bos_token": null).
"""
import json
import os
import sys

from transformers import PreTrainedTokenizerFast
from transformers.utils.chat_template_utils import render_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATES = os.path.join(ROOT, "tests", "data", "chat_templates")
OUT = os.path.join(ROOT, "tests", "data", "goldens", "chat_templates.json")
SHARED_TOKENIZERS = os.path.join(ROOT, "..", "shared", "data", "tokenizers")

R1_BOS, R1_EOS = "<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"

# name -> (special tokens from the model's tokenizer_config.json, shared tokenizer.json or None)
SPECS = {
    "deepseek_r1": (dict(bos_token=R1_BOS, eos_token=R1_EOS, pad_token=R1_EOS), "deepseek_r1_distill_qwen_tokenizer.json"),
    "deepseek_r1_old": (dict(bos_token=R1_BOS, eos_token=R1_EOS, pad_token=R1_EOS), "deepseek_r1_distill_qwen_tokenizer.json"),
    "qwen2_5": (dict(eos_token="<|im_end|>", pad_token="<|endoftext|>"), "qwen2_5_tokenizer.json"),
    "llama3": (dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"), None),
    "llama3_1": (dict(bos_token="<|begin_of_text|>", eos_token="<|eot_id|>"), None),
}

THINK = "<think>\nreasoning\n</think>\n\nanswer"

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string", "description": "City name, e.g. Paris"}},
            "required": ["city"],
        },
    },
}

# (case name, messages, tools or None, templates it applies to or None for all)
CONVERSATIONS = [
    ("single_user", [{"role": "user", "content": "Hello!"}], None, None),
    ("system_user", [{"role": "system", "content": "You are a helpful assistant."},
                     {"role": "user", "content": "What is 2+2?"}], None, None),
    ("multi_turn", [{"role": "user", "content": "Hi, who are you?"},
                    {"role": "assistant", "content": "I am an AI assistant."},
                    {"role": "user", "content": "Tell me a joke."}], None, None),
    ("ends_with_assistant", [{"role": "user", "content": "Say hi."},
                             {"role": "assistant", "content": "Hi!"}], None, None),
    ("think_in_history", [{"role": "user", "content": "What is 1+1?"},
                          {"role": "assistant", "content": THINK},
                          {"role": "user", "content": "And 2+2?"}], None, None),
    ("think_two_closers", [{"role": "user", "content": "q1"},
                           {"role": "assistant", "content": "<think>a</think>b</think>\n\nc"},
                           {"role": "user", "content": "q2"}], None, None),
    ("unicode", [{"role": "system", "content": "系统提示：请用中文回答。"},
                 {"role": "user", "content": "你好，世界！🌍 Ça va? Привет, мир. 😀👍🏽"},
                 {"role": "assistant", "content": "你好！👋 こんにちは、한국어 — naïve café"},
                 {"role": "user", "content": "再见 🤖🧠 ‘quotes’ “double” …"}], None, None),
    ("whitespace", [{"role": "system", "content": "  System with spaces.  \n"},
                    {"role": "user", "content": "\n  leading and trailing whitespace  \n\n"},
                    {"role": "assistant", "content": "  reply with spaces \n"},
                    {"role": "user", "content": "\tline one\nline two\t\n"}], None, None),
    ("two_systems", [{"role": "system", "content": "First system."},
                     {"role": "user", "content": "Hi"},
                     {"role": "assistant", "content": "Hello"},
                     {"role": "system", "content": "Second system."},
                     {"role": "user", "content": "Again"}], None, None),
    ("empty_user", [{"role": "user", "content": ""}], None, None),
    # Tool use, only for the templates that document a tools section (Qwen2.5 tools block, Llama 3.1 tools).
    ("tools", [{"role": "system", "content": "You can call tools."},
               {"role": "user", "content": "Weather in Paris?"},
               {"role": "assistant", "content": "",
                "tool_calls": [{"type": "function",
                                "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]},
               {"role": "tool", "content": "{\"temp_c\": 21}"},
               {"role": "user", "content": "Thanks"}],
     [WEATHER_TOOL], ("qwen2_5", "llama3_1")),
]


def load_template(name):
    with open(os.path.join(TEMPLATES, name + ".jinja"), encoding="utf-8", newline="") as f:
        return f.read()


def normalize(messages):
    # Exactly what apply_chat_template does before rendering: drop the keys whose value is None.
    return [{k: v for k, v in m.items() if v is not None} for m in messages]


def render_direct(template, special, messages, tools, add_generation_prompt):
    rendered, _ = render_jinja_template(conversations=[normalize(messages)], tools=tools, chat_template=template,
                                        add_generation_prompt=add_generation_prompt, **special)
    return rendered[0]


def main():
    out = []
    for name, (special, tokenizer_file) in SPECS.items():
        template = load_template(name)
        tokenizer = None
        if tokenizer_file is not None:
            tokenizer = PreTrainedTokenizerFast(tokenizer_file=os.path.join(SHARED_TOKENIZERS, tokenizer_file),
                                                **special)
            tokenizer.chat_template = template
            seen = tokenizer.special_tokens_map
        else:
            seen = dict(special)
        for case, messages, tools, only in CONVERSATIONS:
            if only is not None and name not in only:
                continue
            for agp in (False, True):
                direct = render_direct(template, seen, messages, tools, agp)
                if tokenizer is not None:
                    rendered = tokenizer.apply_chat_template(messages, tools=tools, tokenize=False,
                                                             add_generation_prompt=agp)
                    if rendered != direct:
                        sys.exit(f"{name}/{case}: apply_chat_template and render_jinja_template disagree")
                else:
                    rendered = direct
                entry = {"template": name, "case": case, "messages": messages}
                if tools is not None:
                    entry["tools"] = tools
                entry.update({"add_generation_prompt": agp, "bos_token": seen.get("bos_token"),
                              "eos_token": seen.get("eos_token"), "rendered": rendered})
                out.append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(out)} goldens to {os.path.relpath(OUT, ROOT)} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
