"""Writes tests/data/grading/gold_rewrites.jsonl: (gold, pred, expected) pairs built from the real MATH-500 and
AIME 2024/2025 golds, for the grading-corpus test (tests/evals/test_grading_corpus.cpp) and the grading benchmark
(tests/bench/bench_grader.py). Each gold is paired with itself, with rewrites a grader must accept (\\dfrac, a
decimal for a terminating fraction, an "x = " prefix, a unit, reordered unordered lists, spacing, thousands
separators, AIME zero padding, ...) and with perturbations it must reject (+-1, sign, numerator, surd, swapped
tuple, interval bracket, another text answer, flipped operator, renamed variable). Rewrites are applied only
where they are unambiguous; golds that fit no rule get only the self pair.

Run from the repo root: python3 tests/reference/make_grading_rewrites.py   (stdlib only, deterministic; rewrites
the file and prints the count per kind to stderr)

Leaves out: responses (preds are bare answers), and rewrites that need a CAS to be sure of (factoring, surd
rationalisation); the perturbations are checked by construction, not by a grader.
"""
import json
import os
import random
import re
import sys
from collections import Counter
from decimal import Decimal
from fractions import Fraction

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(ROOT, "..", "shared", "data", "benchmarks")
OUT = os.path.join(ROOT, "tests", "data", "grading", "gold_rewrites.jsonl")
SEED = 1234  # only picks which unit is appended to a plain number

INT = re.compile(r"-?\d+")
DECIMAL = re.compile(r"-?(\d+\.\d+|\.\d+)")
THOUSANDS = re.compile(r"\d{1,3}(,(\\!)?\s*\d{3})+")  # "10,\!080", "58,500"
COMMAND = re.compile(r"\\[a-zA-Z]+")
UNIT = re.compile(r"^(.*?)\s*\\(text|mbox)\{\s*[a-zA-Z ]+\}(\^\d)?$")  # "5.4 \text{ cents}"
TEXT = re.compile(r"^\\text\{([^{}]+)\}$")
NUMERIC_COMMANDS = re.compile(r"\\(d|t)?frac|\\sqrt|\\pi|\\left|\\right")
# A gold containing any of these is not a plain number/expression (sets, intervals, text, bases, ...).
NOT_PLAIN = (",", "=", "\\pm", "\\text", "\\mbox", "\\$", "\\circ", "\\!", "\\begin", "\\infty", "\\cup", "\\in",
             "\\{", "[", "]", "_")


# ---- small LaTeX helpers -------------------------------------------------------------------------------------

def matching(s, i):
    """Index of the bracket closing the one at s[i] ('{' or '(' or '[')."""
    pairs = {"{": "}", "(": ")", "[": "]"}
    depth = 0
    for j in range(i, len(s)):
        if s[j] in pairs:
            depth += 1
        elif s[j] in pairs.values():
            depth -= 1
            if depth == 0:
                return j
    return -1


def frac_arg(s, i):
    """One \\frac argument starting at s[i] (spaces skipped): '{...}' or a single character -> (text, end)."""
    while i < len(s) and s[i] == " ":
        i += 1
    if i >= len(s):
        return None, i
    if s[i] == "{":
        j = matching(s, i)
        return (s[i + 1:j], j + 1) if j > 0 else (None, i)
    return s[i], i + 1


def whole_fraction(g):
    """(sign, num, den) when g is exactly [-]\\frac/\\dfrac/\\tfrac{int}{int}, in any brace form; else None."""
    m = re.match(r"(-?)\s*\\[dt]?frac", g)
    if not m:
        return None
    num, i = frac_arg(g, m.end())
    den, i = frac_arg(g, i) if num is not None else (None, i)
    if den is None or i != len(g) or not num.isdigit() or not den.isdigit() or int(den) == 0:
        return None
    return m.group(1), int(num), int(den)


def top_level_split(s, sep=","):
    """Splits s at sep outside any brackets."""
    parts, depth, start = [], 0, 0
    for k, c in enumerate(s):
        if c in "{([":
            depth += 1
        elif c in "})]":
            depth -= 1
        elif c == sep and depth == 0:
            parts.append(s[start:k])
            start = k + 1
    return parts + [s[start:]]


def binary_ops(s):
    """Indices of binary '+'/'-' (preceded, spaces skipped, by a digit, letter, '}' or ')')."""
    out = []
    for k, c in enumerate(s):
        if c in "+-":
            prev = s[:k].rstrip()
            if prev and (prev[-1].isalnum() or prev[-1] in "})"):
                out.append(k)
    return out


def group(g):
    """(open, inner, close, has_left) when g is one bracketed group '(...)', '[...)', '\\left( ... \\right]'."""
    m = re.fullmatch(r"(\\left)?\s*([(\[])(.*)\\right\s*([)\]])|([(\[])(.*)([)\]])", g, re.S)
    if not m:
        return None
    if m.group(1):
        op, inner, cl = m.group(2), m.group(3), m.group(4)
    else:
        op, inner, cl = m.group(5), m.group(6), m.group(7)
        if m.group(2):  # "\left" without "\right": not a form we rewrite
            return None
    # the opening bracket must close only at the very end: "(a+5)(b+2)" and unions are not one group
    depth = 0
    for c in inner:
        depth += {"(": 1, "[": 1, "{": 1, ")": -1, "]": -1, "}": -1}.get(c, 0)
        if depth < 0:
            return None
    return (op, inner, cl, bool(m.group(1))) if depth == 0 else None


def is_plain(g):
    return not any(t in g for t in NOT_PLAIN)


def letters(g):
    """Letters of g outside LaTeX commands."""
    return [c for c in COMMAND.sub(" ", g) if c.isalpha()]


def is_numeric(g):
    """A plain number/expression with no variables (the imaginary unit i allowed)."""
    return is_plain(g) and set(letters(NUMERIC_COMMANDS.sub(" ", g))) <= {"i"} and "\\" not in \
        NUMERIC_COMMANDS.sub(" ", g).replace("\\cdot", "")


def is_single_term(g):
    """A numeric gold with one term: '3\\sqrt{13}', '-\\frac{\\pi}{6}', '288 \\pi', '0.15' (no +/-, no i)."""
    body = g[1:] if g.startswith("-") else g
    return is_numeric(g) and not letters(NUMERIC_COMMANDS.sub(" ", g)) and not binary_ops(body) \
        and "-" not in body.replace("^{-", "")


def exact_decimal(q):
    """The terminating decimal of Fraction q as a string, or None."""
    d = q.denominator
    twos = fives = 0
    while d % 2 == 0:
        d, twos = d // 2, twos + 1
    while d % 5 == 0:
        d, fives = d // 5, fives + 1
    if d != 1:
        return None
    k = max(twos, fives)
    n = abs(q.numerator) * 10 ** k // q.denominator
    sign = "-" if q < 0 else ""
    if k == 0:
        return sign + str(n)
    digits = str(n).rjust(k + 1, "0")
    return sign + digits[:-k] + "." + digits[-k:]


def latex_frac(q):
    sign = "-" if q < 0 else ""
    return f"{sign}\\frac{{{abs(q.numerator)}}}{{{q.denominator}}}"


def group_thousands(n, sep):
    s = str(n)
    head = len(s) % 3 or 3
    return sep.join([s[:head]] + [s[k:k + 3] for k in range(head, len(s), 3)])


# ---- rewrites a grader must accept -----------------------------------------------------------------------------

def equivalents(g, subject, rng, counter):
    """(kind, pred) pairs equivalent to gold g."""
    out = []
    add = lambda kind, pred: out.append((kind, pred))
    if "\\frac" in g:
        add("dfrac", g.replace("\\frac", "\\dfrac"))
        add("tfrac", g.replace("\\frac", "\\tfrac"))
    if "\\dfrac" in g:
        add("dfrac_to_frac", g.replace("\\dfrac", "\\frac"))

    frac = whole_fraction(g)
    if frac:
        q = Fraction(int(frac[0] + str(frac[1])), frac[2])
        dec = exact_decimal(q)
        if dec is not None:
            add("frac_to_decimal", dec)
    if DECIMAL.fullmatch(g):
        q = Fraction(Decimal(g))
        if q.denominator != 1:
            add("decimal_to_frac", latex_frac(q))
    if INT.fullmatch(g):
        n = int(g)
        add("int_to_frac", ("-" if n < 0 else "") + f"\\frac{{{2 * abs(n)}}}{{2}}")

    # short and braced \frac / \sqrt arguments; a digit or letter right after would change the reading
    short = re.sub(r"\\frac\{(\d)\}\{(\d)\}(?![0-9a-zA-Z])", r"\\frac\1\2", g)
    if short != g:
        add("frac_short", short)
    if re.search(r"\\[dt]?frac\s*(\d|\{)", g):
        def brace(m):
            num, i = frac_arg(g, m.end())
            den, j = frac_arg(g, i)
            return f"{m.group(0)}{{{num}}}{{{den}}}", j
        pieces, k = [], 0
        for m in re.finditer(r"\\[dt]?frac", g):
            if m.start() < k:
                continue
            text, end = brace(m)
            pieces.append(g[k:m.start()] + text)
            k = end
        braced = "".join(pieces) + g[k:]
        if braced != g:
            add("frac_braced", braced)
    sq = re.sub(r"\\sqrt\{(\d)\}(?![0-9a-zA-Z])", r"\\sqrt\1", g)
    if sq != g:
        add("sqrt_short", sq)
    sq = re.sub(r"\\sqrt(\d)", r"\\sqrt{\1}", g)
    if sq != g:
        add("sqrt_braced", sq)

    # "x = <gold>" for numbers and numeric expressions; the variable and spacing rotate deterministically
    if is_numeric(g):
        var = "xynk"[counter["x_prefix"] % 4]
        eq = " = " if counter["x_prefix"] // 4 % 2 == 0 else "="
        counter["x_prefix"] += 1
        add("x_prefix", f"{var}{eq}{g}")

    plain_number = INT.fullmatch(g) or DECIMAL.fullmatch(g)
    if plain_number:
        unit = rng.choice(["\\text{ cm}", " \\text{ units}", "\\text{ inches}", " \\mbox{ cm}^2", "\\text{ dollars}",
                           " \\text{ meters}"])
        add("unit", g + unit)
    if INT.fullmatch(g) and subject in ("Geometry", "Precalculus"):
        add("degrees", g + "^\\circ")
    m = re.fullmatch(r"(\d+)\^\\circ", g)
    if m:
        add("degrees_removed", m.group(1))
        add("degrees_braced", m.group(1) + "^{\\circ}")
    m = UNIT.match(g)
    if m and not g.startswith("\\text"):
        add("unit_removed", m.group(1))
    if g.startswith("\\$"):
        add("unit_removed", g[2:])
    m = TEXT.match(g)
    if m:
        add("text_unwrapped", m.group(1))
    if g.startswith("x \\in "):
        add("in_prefix_removed", g[len("x \\in "):])

    # thousands separators: removed, "{,}" and "," for integers >= 1000
    body = g[2:] if g.startswith("\\$") else g
    if THOUSANDS.fullmatch(body):
        n = int(re.sub(r"[^\d]", "", body))
        add("thousands_removed", g.replace(body, str(n)))
        add("thousands_braced", g.replace(body, group_thousands(n, "{,}")))
        add("thousands_comma", g.replace(body, group_thousands(n, ",")))
    elif re.fullmatch(r"\d+", g) and int(g) >= 1000:
        add("thousands_braced", group_thousands(int(g), "{,}"))
        add("thousands_comma", group_thousands(int(g), ","))

    # unordered lists: bare comma lists (roots) and \{...\} sets, reversed (and rotated when 3+)
    items = None
    if "," in g and g[0] not in "([\\" and not THOUSANDS.fullmatch(g) and is_plain(g.replace(",", "")):
        items, fmt = top_level_split(g), "{}"
    elif g.startswith("\\{") and g.endswith("\\}"):
        items, fmt = top_level_split(g[2:-2]), "\\{{{}\\}}"
    if items and len(items) > 1:
        sep = ", " if ", " in g else ","
        stripped = [t.strip() for t in items]
        add("reorder", fmt.format(sep.join(reversed(stripped))))
        if len(stripped) > 2:
            add("reorder", fmt.format(sep.join(stripped[1:] + stripped[:1])))

    grp = group(g)
    if grp:
        op, inner, cl, has_left = grp
        if has_left:
            add("left_right_removed", f"{op}{inner.strip()}{cl}")
        else:
            add("left_right", f"\\left{op} {inner} \\right{cl}")

    # spacing: spaces dropped (kept after a command word before a letter: "\cot x"), and added after commas and
    # around binary operators
    if " " in g and "\\text" not in g and "\\mbox" not in g:
        kept = re.sub(r"(\\[a-zA-Z]+)\s+(?=[a-zA-Z])", "\\1\0", g)
        add("spaces_removed", re.sub(r"\s+", "", kept).replace("\0", " "))
    if not any(t in g for t in ("\\text", "\\mbox", "\\!", "\\begin")) and not THOUSANDS.fullmatch(g):
        spaced = g
        for k in reversed(binary_ops(g)):
            spaced = spaced[:k].rstrip() + " " + spaced[k] + " " + spaced[k + 1:].lstrip()
        spaced = re.sub(r",(?=\S)", ", ", spaced)
        add("spaces_added", spaced)
    return out


# ---- perturbations a grader must reject ------------------------------------------------------------------------

def perturbations(g, problem, text_golds):
    """(kind, pred) pairs that differ from gold g mathematically."""
    out = []
    add = lambda kind, pred: out.append((kind, pred))
    m = re.fullmatch(r"([a-z]\s*=\s*)?(-?\d+)", g)
    if m:
        prefix, n = m.group(1) or "", int(m.group(2))
        width = len(m.group(2)) if m.group(2).startswith("0") else 0  # keep AIME's zero padding
        fmt = lambda v: prefix + (str(v).zfill(width) if v >= 0 else str(v))
        add("int_plus_one", fmt(n + 1))
        add("int_minus_one", fmt(n - 1))
    if is_single_term(g) and not re.fullmatch(r"-?[0.]+", g):
        add("sign_flip", g[1:].lstrip() if g.startswith("-") else "-" + g)
    frac = whole_fraction(g)
    if frac:
        sign, num, den = frac
        add("frac_numerator", f"{sign}\\frac{{{num + 1}}}{{{den}}}")
    surds = list(re.finditer(r"\\sqrt(\{(\d+)\}|(\d))", g))
    if len(surds) == 1:
        s = surds[0]
        n = int(s.group(2) or s.group(3))
        m2 = n + 1
        while int(m2 ** 0.5) ** 2 == m2:
            m2 += 1
        new = f"\\sqrt{{{m2}}}" if s.group(2) else f"\\sqrt{m2}" if m2 < 10 else f"\\sqrt{{{m2}}}"
        add("surd_changed", g[:s.start()] + new + g[s.end():])

    interval = any(t in g for t in ("[", "]", "\\infty", "\\cup")) or (
        "interval" in problem.lower() and re.sub(r"^\\left\s*", "", g).startswith("("))
    grp = group(g)
    if grp and not interval:
        op, inner, cl, has_left = grp
        items = top_level_split(inner)
        if len(items) > 1 and items[0].strip() != items[1].strip():
            lead, trail = items[0][:len(items[0]) - len(items[0].lstrip())], items[1][len(items[1].rstrip()):]
            swapped = [lead + items[1].strip(), items[0].strip() + trail] + items[2:]
            left, right = ("\\left", "\\right") if has_left else ("", "")
            add("tuple_swap", f"{left}{op}{','.join(swapped)}{right}{cl}")
    if interval and "," in g:
        if "]" in g:
            k = g.index("]")
            changed = g[:k] + ")" + g[k + 1:]
        elif "[" in g:
            k = g.index("[")
            changed = g[:k] + "(" + g[k + 1:]
        elif re.match(r"(\\left)?\s*\(\s*-\\infty", g):
            k = g.index(")")
            changed = g[:k] + "]" + g[k + 1:]
        else:
            k = g.index("(")
            changed = g[:k] + "[" + g[k + 1:]
        add("interval_bracket", changed)

    m = TEXT.match(g)
    if m:
        others = [t for t in text_golds[text_golds.index(g) + 1:] + text_golds
                  if TEXT.match(t).group(1).lower() != m.group(1).lower()]
        if others:
            add("text_swapped", others[0])

    # expressions with variables or several terms: the first binary +/- flipped, the first variable renamed
    excluded = (",", "\\pm", "\\text", "\\mbox", "pmatrix", "\\cup", "\\in", "_", "\\$", "\\circ", "\\infty",
                "[", "]")
    if not any(t in g for t in excluded):
        ops = binary_ops(g)
        if ops:
            k = ops[0]
            add("op_flipped", g[:k] + ("-" if g[k] == "+" else "+") + g[k + 1:])
        variables = [c for c in letters(g) if c not in "ie"]
        if variables and "=" not in g:
            v = variables[0]
            fresh = next(c for c in "tuvwmnbcdpqrsaz" if c not in letters(g.lower()))
            fresh = fresh.upper() if v.isupper() else fresh
            add("var_renamed", re.sub(r"\\[a-zA-Z]+|[a-zA-Z]", lambda t: fresh if t.group(0) == v else t.group(0), g))

    if "pmatrix" in g:  # the first entry + 1
        m = re.search(r"-?\d+", g[g.index("pmatrix}") + 8:])
        k = g.index("pmatrix}") + 8 + m.start()
        add("matrix_entry", g[:k] + str(int(m.group(0)) + 1) + g[k + len(m.group(0)):])
    return out


# ---- main ------------------------------------------------------------------------------------------------------

def load(name):
    with open(os.path.join(BENCH, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main():
    rng = random.Random(SEED)
    counter = Counter()
    golds = [(f"math500/{r['unique_id']}", r["answer"], r["subject"], r["problem"]) for r in load("math500.jsonl")]
    aime = [(f"{name}/{r['id']}", str(r["answer"]).strip()) for name in ("aime24", "aime25")
            for r in load(f"{name}.jsonl")]
    text_golds = list(dict.fromkeys(g for _, g, _, _ in golds if TEXT.match(g)))

    rows = []

    def emit(source, gold, pairs, expected):
        seen = {gold} if expected else set()
        for kind, pred in pairs:
            if pred in seen or (not expected and pred == gold):
                continue
            seen.add(pred)
            rows.append({"source": source, "gold": gold, "pred": pred, "expected": expected, "kind": kind})

    for source, g, subject, problem in golds:
        rows.append({"source": source, "gold": g, "pred": g, "expected": True, "kind": "self"})
        emit(source, g, equivalents(g, subject, rng, counter), True)
        emit(source, g, perturbations(g, problem, text_golds), False)
    for source, g in aime:
        rows.append({"source": source, "gold": g, "pred": g, "expected": True, "kind": "self"})
        n = int(g)
        emit(source, g, [("aime_padded", f"{n:03d}"), ("aime_unpadded", str(n))], True)
        emit(source, g, [(k, p) for k, p in perturbations(g, "", text_golds) if k.startswith("int_")], False)

    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    kinds = Counter((r["kind"], r["expected"]) for r in rows)
    for (kind, expected), n in sorted(kinds.items(), key=lambda kv: (not kv[0][1], kv[0][0])):
        print(f"{kind:20s} {'true ' if expected else 'false'} {n:5d}", file=sys.stderr)
    print(f"{len(rows)} pairs -> {os.path.relpath(OUT, ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
