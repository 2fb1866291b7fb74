"""Chat-template render speed, r1's Jinja engine vs transformers (Python Jinja2, the path of
apply_chat_template(tokenize=False)), side by side in one run, on every corpus case that renders
(tests/data/goldens/jinja_templates.json: 64 real templates x 20 conversations x generation prompt on/off).
Each side parses each template once (transformers caches compiled templates; r1 keeps the parsed
template in its ChatTemplate), then renders every case; best of --repeats passes. Prints the parse time
of all templates, renders per second, microseconds per render, and the ratio.

Run: scripts/build.sh && .venv/bin/python tests/bench/bench_chat_template.py [--repeats 5]
"""
import argparse
import datetime as dt
import json
import os
import subprocess
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GOLDENS = os.path.join(ROOT, "tests", "data", "goldens", "jinja_templates.json")
CORPUS = os.path.join(ROOT, "tests", "data", "chat_templates", "corpus")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    r1 = json.loads(subprocess.run([os.path.join(ROOT, "build", "bin", "bench_chat_template"), "--goldens", GOLDENS,
                                    "--corpus", CORPUS, "--repeats", str(args.repeats)], check=True,
                                   capture_output=True, text=True, cwd=ROOT).stdout)

    import transformers
    import jinja2
    from transformers.utils import chat_template_utils as ctu

    class FixedClock(dt.datetime):  # the goldens' clock, so both sides render the same text
        @classmethod
        def now(cls, tz=None):
            return dt.datetime(2026, 1, 15, 10, 30, 0)
    ctu.datetime = FixedClock

    doc = json.load(open(GOLDENS, encoding="utf-8"))
    sources = {}
    for c in doc["cases"]:
        if c["template"] not in sources:
            with open(os.path.join(CORPUS, c["template"] + ".jinja"), encoding="utf-8", newline="") as f:
                sources[c["template"]] = f.read()
    compile_uncached = getattr(ctu._cached_compile_jinja_template, "__wrapped__", ctu._cached_compile_jinja_template)
    parse_s = min(_timed(lambda: [compile_uncached(s) for s in sources.values()]) for _ in range(args.repeats))
    cases = [c for c in doc["cases"] if "rendered" in c]

    def render_all():
        n = 0
        for c in cases:
            out, _ = ctu.render_jinja_template(conversations=[c["messages"]], tools=c.get("tools"),
                                               documents=c.get("documents"), chat_template=sources[c["template"]],
                                               add_generation_prompt=c["add_generation_prompt"],
                                               **c["special_tokens"], **c["kwargs"])
            n += len(out[0])
        return n
    render_all()  # compiles (and caches) every template, as the first request of a server would
    render_s = min(_timed(render_all) for _ in range(args.repeats))

    n = len(cases)
    assert n == r1["cases"], (n, r1["cases"])
    print(f"transformers {transformers.__version__}, Jinja2 {jinja2.__version__}; {len(sources)} templates, "
          f"{n} renders per pass, best of {args.repeats}; {os.cpu_count()} CPUs, one thread each side")
    print()
    print("| measure                          | r1        | transformers | r1 speed-up |")
    print("|----------------------------------|-----------|--------------|-------------|")
    print(f"| {'parse all %d templates' % len(sources):<32} | {r1['parse_s'] * 1e3:6.1f} ms | "
          f"{parse_s * 1e3:9.1f} ms | {parse_s / r1['parse_s']:10.1f}x |")
    print(f"| render every case once           | {r1['render_s'] * 1e3:6.1f} ms | "
          f"{render_s * 1e3:9.1f} ms | {render_s / r1['render_s']:10.1f}x |")
    print(f"| microseconds per render          | {r1['render_s'] / n * 1e6:9.1f} | "
          f"{render_s / n * 1e6:12.1f} |             |")


def _timed(f):
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
