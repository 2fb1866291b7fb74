#!/usr/bin/env python3
"""Include-layer check: every `#include "folder/file.h"` in r1's own sources must name a header of
a CMake target that the including file's target links (directly or through PUBLIC links), so a
wrong include is reported here, with its line, before it becomes a link error. tests/ may include
anything. Standard library only; run from anywhere: scripts/check_layers.py [--repo DIR] [FILE...]

The table below is written by hand, not parsed: it is derived from the layer table in
ARCHITECTURE.md (the layer numbers and folder order) and from each folder's CMakeLists.txt
(`add_library` sources and `target_link_libraries`, which are finer than the layer table: the
toolkit folder is five libraries, r1serve links r1_toolkit but not r1_evals, reports does not link
rl). Parsing CMake would have to follow if()s and GLOBs; when a CMakeLists.txt changes what a
target links, change TARGETS here in the same commit.
"""
import argparse
import os
import re
import subprocess
import sys

# target: (layer, folder, the r1 targets it links, PUBLIC or PRIVATE, from target_link_libraries).
# Header-only pseudo-targets: r1_error (toolkit/error.h: the standard library only, used by every
# library from r1_base and r1_http up) and r1_cli (toolkit/cli_flags.h: needs CLI11, so only targets
# that link CLI11::CLI11 may include it).
TARGETS = {
    "r1_kernels": (0, "kernels", []),
    "r1_error": (1, "toolkit", []),
    "r1_cli": (1, "toolkit", []),
    "r1_base": (1, "toolkit", ["r1_error"]),
    "r1_http": (1, "toolkit", ["r1_error"]),
    "r1_jinja": (1, "toolkit", ["r1_base"]),
    "r1_hub": (1, "toolkit", ["r1_base", "r1_http"]),
    "r1_toolkit": (1, "toolkit", ["r1_base", "r1_http", "r1_hub", "r1_jinja", "r1_kernels"]),
    "r1gen": (1, "toolkit", ["r1_toolkit", "r1_cli"]),
    "r1tok": (1, "toolkit", ["r1_toolkit", "r1_cli"]),
    "r1convert": (1, "toolkit", ["r1_toolkit", "r1_cli"]),
    "r1_sandbox": (2, "sandbox", ["r1_base"]),
    "r1sandbox-init": (2, "sandbox", []),  # static pid 1 of a sandbox: no r1 library at all
    "r1sandbox": (2, "sandbox", ["r1_sandbox", "r1_cli"]),
    "r1_evals": (2, "evals", ["r1_toolkit", "r1_sandbox"]),
    "r1eval": (2, "evals", ["r1_evals", "r1_cli"]),
    "r1serve": (2, "evals", ["r1_toolkit", "r1_cli"]),  # not r1_evals (evals/CMakeLists.txt)
    "r1_rl": (3, "rl", ["r1_evals", "r1_sandbox", "r1_toolkit", "r1_kernels", "r1_cli"]),
    "r1train": (3, "rl", ["r1_rl", "r1_cli"]),
    "r1_distill": (3, "distill", ["r1_rl", "r1_evals", "r1_toolkit"]),
    "r1distill": (3, "distill", ["r1_distill", "r1_cli"]),
    "r1_reports": (4, "reports", ["r1_evals", "r1_base"]),
    "r1report": (4, "reports", ["r1_reports", "r1_cli"]),
    "r1_pipeline": (5, "pipeline", ["r1_distill", "r1_rl", "r1_reports", "r1_evals", "r1_toolkit"]),
    "r1pipeline": (5, "pipeline", ["r1_pipeline", "r1_cli"]),
}

# The target of each folder's files unless FILES names the file (by path without extension, so a
# header and its .cpp go together). rl, distill, reports and pipeline GLOB their *.cpp.
FOLDER_DEFAULT = {
    "kernels": "r1_kernels",
    "toolkit": "r1_toolkit",
    "sandbox": "r1_sandbox",
    "evals": "r1_evals",
    "rl": "r1_rl",
    "distill": "r1_distill",
    "reports": "r1_reports",
    "pipeline": "r1_pipeline",
}
FILES = {
    **{f"toolkit/{s}": "r1_base"
       for s in ("fs", "json", "yaml", "sha256", "progress", "run_dir", "host_memory", "hash", "utf8",
                 "text")},
    **{f"toolkit/{s}": "r1_http" for s in ("http", "http_request_reader", "sse")},
    **{f"toolkit/{s}": "r1_jinja"
       for s in ("jinja", "jinja_lexer", "jinja_parser", "jinja_value", "jinja_ops",
                 "jinja_methods", "jinja_filters", "jinja_ast", "jinja_builtins")},
    **{f"toolkit/{s}": "r1_hub" for s in ("download", "hf_hub")},
    "toolkit/error": "r1_error",
    "toolkit/cli_flags": "r1_cli",
    "toolkit/cli_main": "r1_toolkit",  # includes LibTorch's c10/util/Exception.h
    "sandbox/init": "r1sandbox-init",
    **{f"evals/{s}": "r1serve" for s in ("openai_request", "prompt_budget", "streamed_text")},
    # Each command is a main() under its folder's cli/ (ARCHITECTURE.md) and links what its
    # add_executable links.
    "toolkit/cli/r1gen": "r1gen",
    "toolkit/cli/r1tok": "r1tok",
    "toolkit/cli/r1convert": "r1convert",
    "sandbox/cli/r1sandbox": "r1sandbox",
    "evals/cli/r1eval": "r1eval",
    "evals/cli/r1serve": "r1serve",
    "rl/cli/r1train": "r1train",
    "distill/cli/r1distill": "r1distill",
    "reports/cli/r1report": "r1report",
    "pipeline/cli/r1pipeline": "r1pipeline",
}
SOURCE_EXTENSIONS = (".h", ".cpp", ".cu", ".cuh")
INCLUDE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')


def target_of(path):
    """The CMake target a repository path (folder/.../name.ext) belongs to, or None (not r1's)."""
    folder = path.split("/", 1)[0]
    if folder not in FOLDER_DEFAULT:
        return None
    return FILES.get(os.path.splitext(path)[0], FOLDER_DEFAULT[folder])


def reachable(target):
    """Every target `target` may include from: itself and all it links, transitively."""
    seen, todo = set(), [target]
    while todo:
        t = todo.pop()
        if t not in seen:
            seen.add(t)
            todo.extend(TARGETS[t][2])
    return seen


def describe(target):
    layer, folder, _ = TARGETS[target]
    return f"layer {layer} {folder} ({target})"


def rule(target):
    links = TARGETS[target][2]
    return f"{target} links " + (", ".join(links) if links else "no r1 library")


def source_files(repo):
    """Tracked and untracked-but-not-ignored sources that exist in the working tree."""
    out = subprocess.run(["git", "-C", repo, "ls-files", "-z", "--cached", "--others",
                          "--exclude-standard"], check=True, capture_output=True).stdout
    names = sorted({n.decode() for n in out.split(b"\0") if n})
    return [n for n in names
            if n.endswith(SOURCE_EXTENSIONS) and os.path.isfile(os.path.join(repo, n))]


def check(repo, paths):
    violations = []
    for path in paths:
        if path.startswith("tests/"):
            continue  # tests may include anything
        own = target_of(path)
        if own is None:
            continue  # cmake/, scripts/: not part of a layer
        allowed = reachable(own)
        with open(os.path.join(repo, path), encoding="utf-8", errors="replace") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE.match(line)
                if not m:
                    continue
                included = m.group(1)
                if included.startswith("tests/"):
                    violations.append(f'{path}:{number}: includes "{included}" from tests/ '
                                      f'(library code never includes test code)')
                    continue
                theirs = target_of(included)
                if theirs is None or theirs in allowed:
                    continue
                a, b = TARGETS[theirs][0], TARGETS[own][0]
                where = "above" if a > b else "beside" if a == b else "not linked by"
                violations.append(f'{path}:{number}: includes "{included}" from '
                                  f"{describe(theirs)} {where} {describe(own)} ({rule(own)})")
    return violations


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", default=os.path.join(os.path.dirname(__file__), ".."),
                        help="the repository root (default: this script's ..)")
    parser.add_argument("files", nargs="*",
                        help="repository paths to check (default: every source git knows)")
    args = parser.parse_args()
    repo = os.path.abspath(args.repo)
    paths = args.files or source_files(repo)
    violations = check(repo, paths)
    for v in violations:
        print(v)
    print(f"check_layers: {len(paths)} files, {len(violations)} include-layer violation(s)",
          file=sys.stderr)
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())
