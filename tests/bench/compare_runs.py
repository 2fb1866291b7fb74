#!/usr/bin/env python3
# Proof of no behaviour change (issue 21): run tiny-r1 with two builds into two folders, then
#   python3 tests/bench/compare_runs.py RUN_BEFORE RUN_AFTER
# It compares two tiny-r1 runs: every results.json, metrics.jsonl and samples file, with the run
# folder's path replaced and timing fields dropped; prints the key paths that differ.
import json, sys, os, glob
a, b = sys.argv[1].rstrip('/'), sys.argv[2].rstrip('/')
TIMING = ('updated', 'tpot', 'batch_fill', 'wall', 'seconds', 'time', 'tok_s', 'latency', 'rate_', 'started', 'finished', 'elapsed', 'ttft', 'created')
def load(p, root):
    txt = open(p).read().replace(root, 'RUN')
    if p.endswith('.jsonl'):
        return [json.loads(l) for l in txt.splitlines() if l.strip()]
    return json.loads(txt)
def diffs(x, y, path=''):
    if isinstance(x, dict) and isinstance(y, dict):
        for k in sorted(set(x) | set(y)):
            if any(t in k.lower() for t in TIMING): continue
            yield from diffs(x.get(k), y.get(k), path + '/' + k)
    elif isinstance(x, list) and isinstance(y, list) and len(x) == len(y):
        for i, (u, v) in enumerate(zip(x, y)): yield from diffs(u, v, path + f'[{i}]')
    elif x != y:
        yield path
n = bad = 0
for p in sorted(glob.glob(a + '/**/*.json*', recursive=True)):
    rel = os.path.relpath(p, a); q = os.path.join(b, rel)
    if not os.path.exists(q): print('MISSING', rel); bad += 1; continue
    n += 1
    d = list(diffs(load(p, a), load(q, b)))
    if d: bad += 1; print('DIFF', rel, d[:4])
print(f'{n} files compared, {bad} differ')
