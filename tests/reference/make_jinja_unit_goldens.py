"""Renders small Jinja snippets, one per engine feature, with transformers' own chat-template
environment (transformers.utils.chat_template_utils._compile_jinja_template: ImmutableSandboxedEnvironment with
trim_blocks, lstrip_blocks, loopcontrols, the tojson override, raise_exception, namespace, dict) and writes
tests/data/goldens/jinja_unit.json, which tests/toolkit/test_jinja.cpp checks r1's engine against.

Run: .venv/bin/python tests/reference/make_jinja_unit_goldens.py   (deterministic; rewrites the golden file)

Each entry: {"name", "template", "vars", "rendered"} or, where Jinja2 raises, {"name", "template", "vars",
"error", "error_type"}: r1 must raise too (the test checks that it does, and for raise_exception that the
message is the template's).
"""
import json
import os

from transformers.utils.chat_template_utils import _compile_jinja_template

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, "tests", "data", "goldens", "jinja_unit.json")

MSGS = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi \u00e9 \U0001F600"},
        {"role": "assistant", "content": "Hello", "tool_calls": [
            {"type": "function", "function": {"name": "f", "arguments": {"x": 1, "y": [1.5, None, True]}}}]}]

CASES = [
    # whitespace control: trim_blocks, lstrip_blocks, -, +
    ("text_only", "plain text\n", {}),
    ("trailing_newline_kept_once", "a\n\n", {}),
    ("crlf", "a\r\nb\rc{% if true %}\r\nx{% endif %}", {}),
    ("trim_blocks", "{% if true %}\nyes\n{% endif %}\nafter", {}),
    ("lstrip_blocks", "  {% if true %}\n  yes\n  {% endif %}\nend", {}),
    ("lstrip_not_var", "  {{ 'v' }}\n", {}),
    ("lstrip_mid_line", "x  {% if true %}y{% endif %}", {}),
    ("minus_strip", "a   \n  {%- if true -%}  \n  b  {{- ' c ' -}}  d {%- endif %}", {}),
    ("plus_keeps", "  {%+ if true %}x{% endif +%}\ny", {}),
    ("comment", "a {# note #}\nb\n  {# own line #}\nc{#- x -#}  d", {}),
    ("raw", "{% raw %}{{ not evaluated }}{% endraw %}!", {}),
    ("var_minus_newline", "{{ 'a' -}}\n\n  b", {}),
    ("line_starting_after_trim", "{% if true %}\n    {% if true %}x{% endif %}\n{% endif %}", {}),
    # literals and printing
    ("literals", "{{ 1 }} {{ -2 }} {{ 1.5 }} {{ 1e3 }} {{ 2.0 }} {{ 'a' \"b\" }} {{ true }} {{ none }} {{ None }}", {}),
    ("print_list_dict", "{{ [1, 'a', none, true, 2.5, [\"q'\"]] }} {{ {'k': 'v', 'n': {'m': 1}} }}", {}),
    ("print_tuple", "{{ (1,) }} {{ (1, 'x') }} {{ () }}", {}),
    ("float_repr", "{{ 0.1 + 0.2 }} {{ 1e16 }} {{ 1.5e-5 }} {{ 123456789.0 }} {{ 1/3 }} {{ 10/2 }}", {}),
    ("string_escapes", "{{ 'a\\nb\\tc\\\\d\\'e\\u00e9\\x41' }}", {}),
    ("repr_escapes", "{{ ['a\\nb', \"it's\", 'say \"hi\"', 'both \\' \"'] }}", {}),
    # operators
    ("arith", "{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 2 ** 10 }} {{ 7 / 2 }} {{ 3 * 'ab' }} {{ [1] * 2 }}", {}),
    ("arith_float", "{{ 7.5 // 2 }} {{ -7.5 % 2 }} {{ 2 ** 0.5 }} {{ 1 + 2.0 }} {{ true + 1 }}", {}),
    ("concat", "{{ 'a' ~ 1 ~ none ~ [1] ~ undefined_var }}", {}),
    ("plus_lists_strings", "{{ [1, 2] + [3] }} {{ 'ab' + 'cd' }}", {}),
    ("compare", "{{ 1 < 2 < 3 }} {{ 1 < 2 > 3 }} {{ 'a' < 'b' }} {{ [1, 2] < [1, 3] }} {{ 1 == 1.0 }} {{ 'a' != 'b' }}", {}),
    ("in", "{{ 'b' in 'abc' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 'x' not in 'abc' }}", {}),
    ("logic", "{{ 1 and 'x' }} {{ 0 and 'x' }} {{ 0 or 'y' }} {{ not 0 }} {{ none or [] }} {{ not (1 and 0) }}", {}),
    ("condexpr", "{{ 'a' if true else 'b' }} {{ 'a' if false else 'b' }} [{{ 'a' if false }}] {{ 1 if 0 else 2 if 1 else 3 }}", {}),
    ("unary", "{{ -(3) }} {{ +4 }} {{ - 2.5 }} {{ -x|abs }}", {"x": 3}),
    ("precedence", "{{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }} {{ 2 ** 3 ** 2 }} {{ 'a' ~ 1 + 2 }} {{ not 1 == 2 }}", {}),
    ("percent_format", "{{ '%s-%d-%05.2f-%r' % ('a', 3, 2.5, 'q') }} {{ '%s' % 5 }} {{ '100%%' % () }}", {}),
    # access
    ("attr_item", "{{ m.role }} {{ m['content'] }} {{ m.missing }}|{{ m['missing'] }}|{{ l[0] }} {{ l[-1] }} {{ l[9] }}|", {"m": {"role": "user", "content": "c"}, "l": [1, 2, 3]}),
    ("dict_method_vs_key", "{{ d.items()|list }} {{ d['items'] }} {{ d.get('items') }} {{ d.get('nope', 'dflt') }} {{ d.get('nope') }}", {"d": {"items": 5}}),
    ("slices", "{{ s[1:] }} {{ s[:-1] }} {{ s[::-1] }} {{ s[1:4:2] }} {{ l[1:] }} {{ l[-2:] }} {{ l[::-1] }} {{ l[5:] }}", {"s": "h\u00e9llo", "l": [1, 2, 3]}),
    ("string_index_unicode", "{{ s[1] }} {{ s|length }} {{ s[-1] }}", {"s": "a\U0001F600b\u00e9"}),
    ("nested_messages", "{{ messages[2].tool_calls[0].function.arguments|tojson }}", {"messages": MSGS}),
    ("undefined_attr_of_undefined", "{{ nothing.attr }}", {}),
    ("undefined_is_falsy", "{% if nothing %}y{% else %}n{% endif %}{{ nothing }}{% for x in nothing %}z{% endfor %}{{ nothing|length }}", {}),
    ("none_attr", "{{ n.attr }}", {"n": None}),
    # statements
    ("if_elif_else", "{% for i in [1, 2, 3] %}{% if i == 1 %}one{% elif i == 2 %}two{% else %}many{% endif %};{% endfor %}", {}),
    ("for_loop_vars", "{% for x in 'abc' %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}|{% endfor %}", {}),
    ("for_prev_next", "{% for x in [1, 2, 3] %}{{ loop.previtem }}-{{ loop.nextitem }}-{{ loop.previtem is defined }};{% endfor %}", {}),
    ("for_cycle", "{% for x in range(4) %}{{ loop.cycle('a', 'b', 'c') }}{% endfor %}", {}),
    ("for_else", "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in [1] %}x{% else %}empty{% endfor %}", {}),
    ("for_filter", "{% for m in messages if m.role != 'system' %}{{ loop.index }}:{{ m.role }} {% endfor %}", {"messages": MSGS}),
    ("for_unpack", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for (a, b) in [[1, 2], [3, 4]] %}{{ a + b }}{% endfor %}", {"d": {"x": 1, "y": "z"}}),
    ("for_dict_keys", "{% for k in d %}{{ k }}{% endfor %}", {"d": {"b": 1, "a": 2}}),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}", {}),
    ("loop_scope", "{% set x = 1 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }};{% endfor %}{{ x }}", {}),
    ("loop_scope_prev_iter", "{% for i in range(2) %}{% if i == 1 %}[{{ y }}]{% endif %}{% set y = i %}{% endfor %}[{{ y }}]", {}),
    ("if_no_scope", "{% if true %}{% set x = 5 %}{% endif %}{{ x }}", {}),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% if i == 1 %}{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.found }} {{ ns.n }}", {}),
    ("namespace_dict_arg", "{% set ns = namespace({'a': 1}, b=2) %}{{ ns.a }}{{ ns.b }}", {}),
    ("namespace_underscore", "{% set ns = namespace() %}{% set ns._x = 1 %}", {}),
    ("set_unpack", "{% set a, b = [1, 2] %}{{ a }}{{ b }}{% set c, d = 'xy' %}{{ d }}", {}),
    ("set_block", "{% set body %}  hello {{ name }}  {% endset %}[{{ body }}]{% set t | trim | upper %}  x  {% endset %}[{{ t }}]", {"name": "N"}),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('a') }} {{ greet('b', '?') }} {{ greet(punct='.', name='c') }}", {}),
    ("macro_varargs_kwargs", "{% macro m(a) %}{{ a }}{{ varargs }}{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}", {}),
    ("macro_outer_var", "{% set g = 'G' %}{% macro m() %}{{ g }}{% endmacro %}{{ m() }}", {}),
    ("macro_missing_arg", "{% macro m(a, b) %}[{{ a }}|{{ b }}|{{ b is defined }}]{% endmacro %}{{ m(1) }}", {}),
    ("macro_recursive", "{% macro r(n) %}{{ n }}{% if n > 0 %}{{ r(n - 1) }}{% endif %}{% endmacro %}{{ r(3) }}", {}),
    ("call_block", "{% macro wrap(tag) %}<{{ tag }}>{{ caller() }}</{{ tag }}>{% endmacro %}{% call wrap('b') %}bold {{ 1 + 1 }}{% endcall %}", {}),
    ("call_block_args", "{% macro each(xs) %}{% for x in xs %}{{ caller(x) }}{% endfor %}{% endmacro %}{% call(item) each([1, 2]) %}<{{ item }}>{% endcall %}", {}),
    ("filter_block", "{% filter upper %}abc {{ 'd' }}{% endfilter %}{% filter replace('a', 'b') | trim %}  aaa  {% endfilter %}", {}),
    ("with_block", "{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}[{{ a }}]", {}),
    ("generation_block", "{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}{% endgeneration %}{% endif %}{% endfor %}", {"messages": MSGS}),
    # filters
    ("tojson_default", "{{ x|tojson }}", {"x": {"a": [1, 2.5, None, True, False], "s": "\u00e9\"\\\n\t\u0001<>&'", "e": {}, "l": []}}),
    ("tojson_indent", "{{ x|tojson(indent=2) }}|{{ x|tojson(indent=0) }}", {"x": {"a": [1, {"b": []}], "c": {}}}),
    ("tojson_separators_sort", "{{ x|tojson(separators=(',', ':'), sort_keys=true) }} {{ x|tojson(ensure_ascii=true) }}", {"x": {"b": "\u00e9\U0001F600", "a": 1}}),
    ("tojson_scalars", "{{ 'str'|tojson }} {{ 1.0|tojson }} {{ none|tojson }} {{ [1, 'a']|tojson }} {{ 3|tojson }}", {}),
    ("trim", "[{{ '  a b \\n'|trim }}] [{{ 'xxaxx'|trim('x') }}] [{{ '\u3000a\u00a0'|trim }}]", {}),
    ("length_count", "{{ 'h\u00e9'|length }} {{ [1, 2]|count }} {{ {'a': 1}|length }}", {}),
    ("items_filter", "{% for k, v in {'a': 1, 'b': 2}|items %}{{ k }}{{ v }}{% endfor %}{{ nothing|items|list }}", {}),
    ("selectattr", "{{ messages|selectattr('role', 'equalto', 'user')|map(attribute='content')|list }} {{ messages|rejectattr('role', 'eq', 'user')|list|length }} {{ messages|selectattr('tool_calls', 'defined')|list|length }} {{ messages|selectattr('tool_calls')|list|length }}", {"messages": MSGS}),
    ("select_reject", "{{ [0, 1, 2, 3]|select|list }} {{ [1, 2, 3, 4]|select('odd')|list }} {{ [1, 2, 3]|reject('equalto', 2)|list }} {{ [1, 5, 9]|select('>', 3)|list }}", {}),
    ("map", "{{ ['a', 'b']|map('upper')|join(',') }} {{ [{'x': {'y': 1}}, {}]|map(attribute='x.y', default='d')|list }} {{ ['1', '2']|map('int')|sum }}", {}),
    ("join", "{{ [1, 'a', none]|join }} {{ ['a', 'b']|join(', ') }} {{ [{'n': 'x'}, {'n': 'y'}]|join('/', attribute='n') }}", {}),
    ("first_last", "{{ [1, 2, 3]|first }} {{ [1, 2, 3]|last }} {{ 'abc'|first }} [{{ []|first }}]", {}),
    ("default", "{{ nothing|default('d') }} {{ ''|default('d') }} {{ ''|default('d', true) }} {{ none|default('d') }} {{ nothing|d }}", {}),
    ("case_filters", "{{ 'hello world'|upper }} {{ 'HeLLo'|lower }} {{ 'hello WORLD'|capitalize }} {{ 'hello-world foo(bar)'|title }} {{ '\u00e9t\u00e9'|upper }}", {}),
    ("replace_filter", "{{ 'aaa'|replace('a', 'b') }} {{ 'aaa'|replace('a', 'b', 2) }} {{ 'abc'|replace('', '-') }}", {}),
    ("string_int_float", "{{ 5|string ~ 'x' }} {{ '42'|int + 1 }} {{ 'x'|int }} {{ '3.9'|int }} {{ 3.9|int }} {{ '2.5'|float }} {{ 'q'|float }} {{ true|int }}", {}),
    ("list_filter", "{{ 'ab'|list }} {{ {'a': 1}|list }} {{ (1, 2)|list }}", {}),
    ("sort_unique_reverse", "{{ [3, 1, 2]|sort }} {{ ['b', 'A', 'c']|sort }} {{ ['b', 'A']|sort(case_sensitive=true) }} {{ [3, 1]|sort(reverse=true) }} {{ [{'n': 2}, {'n': 1}]|sort(attribute='n')|map(attribute='n')|list }} {{ [1, 2, 1, 'a', 'A']|unique|list }} {{ [1, 2]|reverse|list }} {{ 'abc'|reverse }}", {}),
    ("dictsort", "{{ {'b': 1, 'a': 2, 'C': 0}|dictsort }} {{ {'b': 1, 'a': 2}|dictsort(by='value', reverse=true) }}", {}),
    ("min_max_sum_abs_round", "{{ [3, 1, 2]|min }} {{ [3, 1, 2]|max }} {{ [1, 2.5]|sum }} {{ [{'v': 1}, {'v': 2}]|sum(attribute='v') }} {{ -3|abs }} {{ 2.5|round }} {{ 3.14159|round(2) }} {{ 2.7|round(0, 'floor') }}", {}),
    ("indent", "{{ 'a\\nb\\n\\nc'|indent }}|{{ 'a\\nb'|indent(2, true) }}|{{ 'a\\n\\nb'|indent(2, blank=true) }}|{{ 'x\\ny'|indent('> ') }}", {}),
    ("wordcount_center", "{{ 'hello big world'|wordcount }} [{{ 'ab'|center(7) }}]", {}),
    ("escape_safe", "{{ '<a href=\"x\">&\\'</a>'|e }} {{ '<b>'|safe }}", {}),
    ("format_filter", "{{ '%s=%d'|format('a', 1) }}", {}),
    ("batch", "{{ [1, 2, 3, 4, 5]|batch(2)|list }} {{ [1, 2, 3]|batch(2, 0)|list }}", {}),
    ("truncate", "{{ 'hello world foo bar baz qux quux'|truncate(15) }} {{ 'short'|truncate(15) }} {{ 'hello world foo'|truncate(9, true, '..', 0) }}", {}),
    # tests
    ("tests_types", "{{ 1 is number }}{{ 1.5 is float }}{{ 1 is integer }}{{ true is integer }}{{ true is boolean }}{{ 's' is string }}{{ {} is mapping }}{{ [] is iterable }}{{ 's' is iterable }}{{ 5 is iterable }}{{ [] is sequence }}{{ none is none }}{{ x is defined }}{{ x is undefined }}{{ range is callable }}", {}),
    ("tests_values", "{{ 3 is odd }}{{ 4 is even }}{{ 9 is divisibleby 3 }}{{ 2 is eq 2 }}{{ 2 is equalto(2) }}{{ 2 is ne 3 }}{{ 1 is lt 2 }}{{ 2 is ge 2 }}{{ 'a' is in 'abc' }}{{ 'ab' is lower }}{{ 'AB' is upper }}{{ true is true }}{{ 0 is false }}{{ x is not none }}", {"x": 1}),
    ("test_sameas", "{{ a is sameas a }} {{ a is sameas b }} {{ none is sameas none }} {{ 1 is sameas 1 }}", {"a": [1], "b": [1]}),
    # string methods
    ("str_methods", "{{ ' a '.strip() }}|{{ 'xax'.strip('x') }}|{{ ' a '.lstrip() }}|{{ ' a '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}|{{ 'a b c'.split(' ', 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'a  b  '.split(none, 1) }}", {}),
    ("str_methods2", "{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'abc'.replace('b', 'B') }}{{ 'aXb'.upper() }}{{ 'aXb'.lower() }}{{ 'hello world'.title() }}{{ 'hELLO'.capitalize() }}{{ 'abcabc'.find('c') }}{{ 'abc'.find('z') }}{{ 'abcabc'.rfind('c') }}{{ 'abcab'.count('ab') }}{{ '-'.join(['a', 'b']) }}", {}),
    ("str_methods3", "{{ 'a\\nb\\r\\nc'.splitlines() }} {{ '{} {}'.format(1, 'x') }} {{ '{0}{0}{name}'.format('r', name='n') }} {{ '12'.isdigit() }}{{ 'ab'.isalpha() }}{{ ' '.isspace() }}{{ 'Ab'.isupper() }} {{ 'prefix_x'.removeprefix('prefix_') }} {{ '7'.zfill(3) }}", {}),
    ("str_split_maxsplit_ws", "{{ '  a b  c  '.split(none, 1) }} {{ ''.split() }} {{ ''.split(',') }}", {}),
    ("list_methods", "{{ [1, 2, 2].count(2) }} {{ ['a', 'b'].index('b') }}", {}),
    ("dict_methods", "{{ d.keys()|list }} {{ d.values()|list }} {{ d.items()|list }}", {"d": {"a": 1, "b": [2]}}),
    ("range_fn", "{{ range(3)|list }} {{ range(1, 7, 2)|list }} {{ range(5, 0, -2)|list }}", {}),
    ("dict_fn", "{{ dict(a=1, b='x') }} {{ dict({'z': 1}, y=2) }}", {}),
    # errors: both must raise
    ("raise_exception", "{% if true %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}", {}),
    ("unknown_filter_untaken", "{% if false %}{{ x|nosuchfilter }}{% endif %}ok", {}),
    ("unknown_test_untaken", "{% if false %}{{ x is nosuchtest }}{% endif %}ok", {}),
    ("err_unknown_filter", "{{ x|nosuchfilter }}", {}),
    ("err_unknown_test", "{{ x is nosuchtest }}", {}),
    ("err_list_append", "{% set l = [] %}{{ l.append(1) }}", {}),
    ("err_dict_update", "{% set d = {} %}{{ d.update({'a': 1}) }}", {}),
    ("err_add_types", "{{ 1 + 'a' }}", {}),
    ("err_undefined_call", "{{ nothing() }}", {}),
    ("err_unclosed_if", "{% if true %}x", {}),
    ("err_unclosed_tag", "{{ x ", {}),
    ("err_bad_syntax", "{{ 1 + }}", {}),
    ("err_unknown_tag", "{% frobnicate %}", {}),
    ("err_extends", "{% extends 'base.html' %}", {}),
    ("err_set_attr_non_namespace", "{% set d = {} %}{% set d.x = 1 %}", {}),
    ("err_div_zero", "{{ 1 / 0 }}", {}),
    ("err_compare_types", "{{ 1 < 'a' }}", {}),
    ("err_in_int", "{{ 1 in 5 }}", {}),
    ("err_stray_endif", "{% endif %}", {}),
    ("err_tojson_undefined", "{{ nothing|tojson }}", {}),
]


def main():
    out = []
    for name, template, variables in CASES:
        entry = {"name": name, "template": template, "vars": variables}
        try:
            entry["rendered"] = _compile_jinja_template(template).render(**variables)
        except Exception as e:  # noqa: BLE001 - every Jinja failure is a golden
            entry["error"] = str(e)
            entry["error_type"] = type(e).__name__
        out.append(entry)
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8", newline="\n") as f:
        json.dump(out, f, ensure_ascii=False, indent=1)
        f.write("\n")
    errors = sum("error" in e for e in out)
    print(f"wrote {len(out)} goldens ({errors} raise) to {os.path.relpath(OUT, ROOT)}")


if __name__ == "__main__":
    main()
