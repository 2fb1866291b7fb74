"""Evaluation-harness overhead per request, r1eval vs the official `openai` Python client, side by side.

Both clients send the same MATH-500 chat requests (the first --requests problems of
../shared/data/benchmarks/math500.jsonl, user turn "PROBLEM\\nPlease reason step by step, and put your final answer
within \\boxed{}.", temperature 0.6, top_p 0.95, a seed, max_tokens = --max-new-tokens, n = 1), --concurrency at a
time, to r1serve (r1's OpenAI-compatible server) over the tiny test model tests/data/models/tiny-r1:
  * r1: `r1eval run math500 --endpoint ... --samples 1` as a user runs it, a subprocess; besides sending the
    requests it also reads the dataset, grades every answer, fsyncs every sample to samples.jsonl and writes the
    results (bootstrap 100): the whole job, not only the requests;
  * peer: AsyncOpenAI (openai package, asyncio, --concurrency worker coroutines pulling from one queue), the client
    lighteval / open-r1-style harnesses use to talk to a server; only sends the requests. It runs in a subprocess
    of this script (a fresh interpreter each time); its wall and CPU time are taken around the asyncio run (client
    construction and GET /models included, interpreter start-up and imports not).
Each measurement gets a fresh r1serve (--max-batch = --concurrency), whose GET /metrics is read before and after, so
engine_busy_s (wall seconds the model spent in steps), decode steps, prefills and mean_batch (rows per decode step)
are deltas over the run. Per request: wall/N, client CPU/N (user+sys; r1eval: getrusage(RUSAGE_CHILDREN) deltas
around subprocess.run; peer: time.process_time()), and harness overhead = (wall - engine_busy) / N, the wall time not
spent in the model. Measurements interleave r1, peer, r1, peer, ... --repeats times each; the tables show medians.
Timings are machine-dependent (2 noisy cores here, shared by client, server and model): compare only within one run.

Run from the repo root: .venv/bin/python tests/bench/bench_harness.py [--max-new-tokens 16]
"""
import argparse
import asyncio
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

DATA_DIR = "../shared/data/benchmarks"
MODEL = "tests/data/models/tiny-r1"
SUFFIX = "\nPlease reason step by step, and put your final answer within \\boxed{}."


# ---------------------------------------------------------------------------------------------- server


class Server:
    """A fresh r1serve on a free port; stop() (SIGTERM, then SIGKILL) is always safe to call."""

    def __init__(self, binary, max_batch):
        self.dir = tempfile.mkdtemp(prefix="bench_harness_srv_")
        port_file = os.path.join(self.dir, "port")
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen([binary, "--model", MODEL, "--port", "0", "--port-file", port_file,
                                      "--max-batch", str(max_batch)], stdout=self.log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while not (os.path.exists(port_file) and open(port_file).read().strip()):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"r1serve did not start: {self.log_tail()}")
                time.sleep(0.02)
            self.base = f"http://127.0.0.1:{int(open(port_file).read().strip())}"
            self.metrics()  # fails early when the binary has no /metrics
        except BaseException:
            self.stop()
            raise

    def log_tail(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()[-500:].strip()

    def metrics(self):
        try:
            with urllib.request.urlopen(self.base + "/metrics", timeout=10) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"GET /metrics: HTTP {e.code} (is build/bin/r1serve stale?)") from None

    def cpu_s(self):
        """r1serve's own user+sys CPU seconds so far, from /proc."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- clients


def run_r1(args, base, out_dir):
    """(wall s, client CPU s, note) of one r1eval run; raises on failure or missing samples."""
    cmd = [args.r1eval, "run", "math500", "--data-dir", DATA_DIR, "--endpoint", base + "/v1",
           "--concurrency", str(args.concurrency), "--samples", "1", "--max-new-tokens", str(args.max_new_tokens),
           "--limit", str(args.requests), "--out", out_dir, "--no-progress", "--bootstrap", "100"]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"r1eval exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    with open(os.path.join(out_dir, "samples.jsonl")) as f:
        n = sum(1 for line in f if line.strip())
    if n != args.requests:
        raise RuntimeError(f"r1eval wrote {n} samples for {args.requests} requests")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, {"ok": n, "errors": 0}


def run_peer(args, base):
    """(wall s, client CPU s, note) of one AsyncOpenAI run, in a fresh interpreter (this file, --peer-worker)."""
    cmd = [sys.executable, os.path.abspath(__file__), "--peer-worker", base + "/v1", "--requests", str(args.requests),
           "--concurrency", str(args.concurrency), "--max-new-tokens", str(args.max_new_tokens)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise RuntimeError(f"peer exited {proc.returncode}: {proc.stderr.strip()[-800:]}")
    r = json.loads(proc.stdout.strip().splitlines()[-1])
    r["process_cpu_s"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if r["ok"] != args.requests:
        raise RuntimeError(f"peer: {r['ok']}/{args.requests} requests succeeded; errors: {r['error_kinds']}")
    return r["wall_s"], r["cpu_s"], r


def problems(n):
    with open(os.path.join(DATA_DIR, "math500.jsonl"), encoding="utf-8") as f:
        out = [json.loads(line)["problem"] for line in f if line.strip()]
    if len(out) < n:
        raise SystemExit(f"math500 has {len(out)} problems, fewer than --requests {n}")
    return out[:n]


async def peer_requests(base_url, prompts, concurrency, max_tokens):
    import openai
    from openai import AsyncOpenAI

    client = AsyncOpenAI(base_url=base_url, api_key="EMPTY", max_retries=0, timeout=600.0)
    model = (await client.models.list()).data[0].id
    queue = list(enumerate(prompts))
    queue.reverse()
    ok, errors, completion_tokens = 0, {}, 0

    async def worker():
        nonlocal ok, completion_tokens
        while queue:
            i, text = queue.pop()
            try:
                r = await client.chat.completions.create(
                    model=model, messages=[{"role": "user", "content": text + SUFFIX}],
                    temperature=0.6, top_p=0.95, max_tokens=max_tokens, seed=1000 + i, n=1)
                if r.choices and r.choices[0].message.content is not None:
                    ok += 1
                    completion_tokens += r.usage.completion_tokens if r.usage else 0
                else:
                    errors["empty choice"] = errors.get("empty choice", 0) + 1
            except openai.APIStatusError as e:
                key = f"HTTP {e.status_code}"
                errors[key] = errors.get(key, 0) + 1
            except openai.APIError as e:
                key = type(e).__name__
                errors[key] = errors.get(key, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    await client.close()
    return ok, errors, completion_tokens


def peer_worker(base_url, args):
    prompts = problems(args.requests)
    import openai  # noqa: F401  (imported before the clock starts)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    ok, errors, tokens = asyncio.run(peer_requests(base_url, prompts, args.concurrency, args.max_new_tokens))
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "ok": ok, "error_kinds": errors,
                      "completion_tokens": tokens}))


# ---------------------------------------------------------------------------------------------- main


def measure(args, which, work_dir, k):
    srv = Server(args.r1serve, args.concurrency)
    try:
        m0, scpu0 = srv.metrics(), srv.cpu_s()
        if which == "r1":
            wall, cpu, note = run_r1(args, srv.base, os.path.join(work_dir, f"r1-{k}"))
        else:
            wall, cpu, note = run_peer(args, srv.base)
        m1, scpu1 = srv.metrics(), srv.cpu_s()
    finally:
        srv.stop()
    steps = m1["decode_steps"] - m0["decode_steps"]
    # mean_batch is cumulative since start: recover decode rows from it to take the delta.
    rows = m1["mean_batch"] * m1["decode_steps"] - m0["mean_batch"] * m0["decode_steps"]
    return {"wall": wall, "cpu": cpu, "busy": m1["engine_busy_s"] - m0["engine_busy_s"],
            "requests": m1["requests"] - m0["requests"], "steps": steps,
            "prefills": m1["prefills"] - m0["prefills"], "mean_batch": rows / steps if steps else 0.0,
            "server_cpu": scpu1 - scpu0, "note": note}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--requests", type=int, default=500, help="MATH-500 problems, one request each")
    ap.add_argument("--concurrency", type=int, default=64, help="requests in flight (and r1serve --max-batch)")
    ap.add_argument("--max-new-tokens", type=int, default=1, help="max_tokens per request")
    ap.add_argument("--repeats", type=int, default=3, help="measurements per client (median reported)")
    ap.add_argument("--r1eval", default="build/bin/r1eval")
    ap.add_argument("--r1serve", default="build/bin/r1serve")
    ap.add_argument("--peer-worker", metavar="BASE_URL", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.peer_worker:
        return peer_worker(args.peer_worker, args)

    problems(args.requests)  # the dataset is there and long enough
    n = args.requests
    work_dir = tempfile.mkdtemp(prefix="bench_harness_")
    runs = {"r1": [], "peer": []}
    try:
        for k in range(args.repeats):
            for which in ("r1", "peer"):
                r = measure(args, which, work_dir, k)
                if r["requests"] != n:
                    print(f"  note: r1serve counted {r['requests']} finished requests, expected {n}", flush=True)
                runs[which].append(r)
                print(f"  {which:4s} run {k + 1}: wall {r['wall']:.2f} s, client CPU {r['cpu']:.2f} s, engine busy "
                      f"{r['busy']:.2f} s, server CPU {r['server_cpu']:.2f} s, prefills {r['prefills']}, decode steps "
                      f"{r['steps']}, mean_batch {r['mean_batch']:.1f}", flush=True)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)

    def med(which, key):
        return statistics.median(r[key] for r in runs[which])

    def per_req_ms(which, key):
        return 1000 * med(which, key) / n

    def overhead_ms(which):
        return 1000 * statistics.median(r["wall"] - r["busy"] for r in runs[which]) / n

    print(f"\nHarness overhead per request: {n} MATH-500 chat requests, concurrency {args.concurrency}, max_tokens "
          f"{args.max_new_tokens}, r1serve --max-batch {args.concurrency} ({MODEL}); median of {args.repeats}, "
          f"{os.cpu_count()} CPUs")
    hdr = (f"{'client':30s} {'wall/req ms':>11s} {'CPU/req ms':>10s} {'overhead/req ms':>15s} {'busy s':>7s} "
           f"{'srv CPU s':>9s} {'req/prefill':>11s} {'mean_batch':>10s}")
    print(hdr)
    print("-" * len(hdr))
    names = {"r1": "r1eval (+grade, fsync)", "peer": "openai AsyncOpenAI (send only)"}
    for which in ("r1", "peer"):
        prefills = med(which, "prefills")
        print(f"{names[which]:30s} {per_req_ms(which, 'wall'):11.3f} {per_req_ms(which, 'cpu'):10.3f} "
              f"{overhead_ms(which):15.3f} {med(which, 'busy'):7.2f} {med(which, 'server_cpu'):9.2f} "
              f"{(n / prefills if prefills else 0):11.1f} {med(which, 'mean_batch'):10.1f}")
    cpu_ratio = per_req_ms("peer", "cpu") / per_req_ms("r1", "cpu")
    oh_ratio = overhead_ms("peer") / overhead_ms("r1")
    print(f"ratio peer/r1: client CPU per request {cpu_ratio:.2f}x, harness overhead per request {oh_ratio:.2f}x, "
          f"wall per request {per_req_ms('peer', 'wall') / per_req_ms('r1', 'wall'):.2f}x")
    peer_proc = statistics.median(r["note"]["process_cpu_s"] for r in runs["peer"])
    print(f"note: r1eval's numbers are the whole job (read dataset, GET /models, send, grade each answer, fsync each "
          f"sample, bootstrap, write results); the peer only sends the requests (its whole process incl. interpreter "
          f"start-up and imports: {1000 * peer_proc / n:.3f} ms CPU/req). overhead = (wall - engine busy) / N; "
          f"mean_batch = rows per decode step (0 when max_tokens = 1: the first token comes from the prefill).")


if __name__ == "__main__":
    main()
