#!/usr/bin/env python3
"""syndic at scale: publishing from a store of a million items, and the daemon at rest.

Two measurements, on corpora generated with ../shared/bench (kept in a cache folder
between runs) and served by a local nginx on 127.0.0.1:

  publish   One store is filled by `syndic once` against N-feed corpora of successive
            seeds (default 42 to 46, N = 5000: about 232,000 items each), served in turn
            on the same port, with one config: the sources f00000… are the same, so items
            accumulate per source (each listing's items are kept: retention counts from
            when a source last listed them, minutes ago). `syndic publish` (one feed of the
            newest 500 items over all sources, nothing new) is timed on the store after
            the first corpus and again after the last, and so is a feed of two sources
            that cannot fill its 500 (read from the sources' key, not down the date
            index, which it would walk to the end). Target: under
            100 ms at a million items, and peak memory that does not grow with the store
            (here: at most 10 % above the small store's).
  idle      `syndic run` on an empty store with the first corpus served and
            `[daemon] schedule = "0 0 1 1 *"`: every source, never polled, is polled once
            at start-up, and none is due again for weeks. Once the daemon's CPU time stops
            rising (no more than 0.05 s in 5 s), the CPU it uses over --idle seconds is
            given as a share of one core. Target: under 1 %. Then SIGTERM; it must exit 0.

Each publish row gives wall time, CPU time (user + system) and peak memory (the process's
maximum resident set, from GNU time where installed, else wait4), medians of --repeat
runs, and the busy seconds of the stages inside syndic (`--timings`). Every `syndic once`
that fills the store is shown too.

usage: python3 tests/bench/scale.py [--n 5000] [--seeds 42 43 44 45 46] [--repeat 5]
                                    [--idle 60] [--port 8089] [--cache DIR] [--jobs 2]

Missing corpora are generated first (N = 5000 takes minutes each; --jobs at once), and
the time that took is printed. nginx runs from a folder of this run's own (serve.sh's
BENCH_RUN_DIR), so it does not touch another serve.sh instance; --port must be free.
Traffic goes only to 127.0.0.1. Needs nginx (Debian package `nginx`) and a release build
(`cargo build --release`, run here only when the binary is missing). Work folders are
removed at the end; the corpus cache is kept.
"""

import argparse
import hashlib
import json
import os
import shutil
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from measure import GNU_TIME, run, timings

REPO = Path(__file__).resolve().parents[2]
KIT = REPO.parent / "shared" / "bench"
BINARY = REPO / "target" / "release" / "syndic"
KIT_PORT = 8089  # the port gen_corpus.py writes into the OPML by default

PUBLISH_TARGET_S = 0.100
PUBLISH_MEMORY_GROWTH = 1.10
IDLE_TARGET_PCT = 1.0
IDLE_SCHEDULE = "0 0 1 1 *"
SETTLE_WINDOW_S = 5
SETTLE_CPU_S = 0.05
SETTLE_TIMEOUT_S = 600
CLK_TCK = os.sysconf("SC_CLK_TCK")


def log_lines(stderr):
    """syndic's log lines (the `timings` line left out)."""
    return [l for l in stderr.splitlines() if l.strip() and not l.startswith("timings ")]


def machine_busy():
    """CPU seconds the whole machine has spent busy (all cores, all processes)."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
    return (user + nice + system + irq + softirq + steal) / CLK_TCK


def others_busy(busy_before, wall, own_cpu):
    """Cores kept busy by other processes meanwhile: the machine's busy time less ours."""
    return max(0.0, machine_busy() - busy_before - own_cpu) / wall


def corpus_dir(cache, n, seed):
    return cache / (f"c{n}" if seed == 42 else f"c{n}-s{seed}")


def ensure_corpora(cache, n, seeds, jobs):
    """Generates the corpora missing from the cache; returns seconds spent (None if none)."""
    missing = [s for s in seeds if not (corpus_dir(cache, n, s) / "feeds.opml").exists()]
    if not missing:
        return None, []
    print(f"generating {len(missing)} corpora (N={n}, seeds {missing}), {jobs} at once …",
          flush=True)

    def generate(seed):
        out = corpus_dir(cache, n, seed)
        partial = out.with_name(out.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(
            [sys.executable, str(KIT / "gen_corpus.py"), "--n", str(n), "--seed", str(seed),
             "--port", str(KIT_PORT), "--out", str(partial)],
            check=True, stdout=subprocess.DEVNULL,
        )
        partial.rename(out)

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        list(pool.map(generate, missing))
    return time.perf_counter() - started, missing


class Server:
    """serve.sh with a run folder of its own, on one port, one corpus at a time."""

    def __init__(self, port, run_dir):
        self.port = port
        self.env = dict(os.environ, BENCH_PORT=str(port), BENCH_RUN_DIR=str(run_dir))
        self.running = False

    def port_free(self):
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.port)) != 0

    def start(self, corpus):
        for _ in range(50):  # a stopped nginx may take a moment to let go of the port
            if self.port_free():
                break
            time.sleep(0.1)
        else:
            sys.exit(f"127.0.0.1:{self.port} is taken by another program; pick --port")
        subprocess.run([str(KIT / "serve.sh"), "start", str(corpus)], check=True,
                       env=self.env, stdout=subprocess.DEVNULL)
        self.running = True
        # Make sure it is this corpus that answers, not a server left from elsewhere.
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/feeds.opml") as r:
            if r.read() != (corpus / "feeds.opml").read_bytes():
                sys.exit(f"127.0.0.1:{self.port} does not serve {corpus}")

    def stop(self):
        if self.running:
            subprocess.run([str(KIT / "serve.sh"), "stop"], env=self.env,
                           stdout=subprocess.DEVNULL)
            self.running = False


def write_config(corpus, work, port, schedule=None):
    """mk_config.py's config for corpus, state and output under work; returns its path."""
    text = subprocess.run(
        [sys.executable, str(KIT / "mk_config.py"), str(corpus / "feeds.opml"), str(work)],
        check=True, capture_output=True, text=True,
    ).stdout
    text = text.replace(f"//127.0.0.1:{KIT_PORT}/", f"//127.0.0.1:{port}/")
    if schedule:
        assert text.startswith("[daemon]\n")
        text = text.replace("[daemon]\n", f'[daemon]\nschedule = "{schedule}"\n', 1)
    # In a folder of its own: `syndic run` watches the config's folder.
    path = work / "etc" / "syndic.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def store_counts(state):
    """(items, sources polled, store file MB) from STATE/syndic.db."""
    db = state / "syndic.db"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
        polled = conn.execute(
            "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL").fetchone()[0]
    finally:
        conn.close()
    size = sum(f.stat().st_size for f in state.glob("syndic.db*"))
    return items, polled, size / 1e6


def publish_row(binary, config, repeat, env):
    """`syndic publish --timings`, repeat times: medians and the spread of wall time."""
    busy = machine_busy()
    samples = [run([str(binary), "publish", "--timings", "-c", str(config)], env)
               for _ in range(repeat)]
    walls = [s[0] for s in samples]
    others = others_busy(busy, sum(walls), sum(s[1] for s in samples))
    stages = {}
    for name in timings(samples[0][4]):
        median = statistics.median(timings(s[4]).get(name, 0.0) for s in samples)
        if median > 0:
            stages[name] = median
    logs = [l for s in samples for l in log_lines(s[4])]
    return {
        "wall": statistics.median(walls), "wall_min": min(walls), "wall_max": max(walls),
        "cpu": statistics.median(s[1] for s in samples),
        "peak": statistics.median(s[2] for s in samples) / 1024,
        "peak_max": max(s[2] for s in samples) / 1024,
        "stages": stages, "logs": logs, "others": others,
    }


def narrow_config(config):
    """A copy of config whose one feed is made of two sources (f00000 and f00001), which
    hold too few items to fill it: down the date index, publishing would walk to its end."""
    text = config.read_text()
    assert text.count("limit = 500\n") == 1
    text = text.replace("limit = 500\n", 'limit = 500\nsources = ["f00000", "f00001"]\n')
    path = config.with_name("narrow.toml")
    path.write_text(text)
    return path


def bench_publish(args, binary, server, env, work):
    config = write_config(corpus_dir(args.cache, args.n, args.seeds[0]), work, args.port)
    narrow = narrow_config(config)
    state = work / "state"
    print(f"\n1. publish at scale: `syndic once` per corpus into one store, then "
          f"`syndic publish` (median of {args.repeat})", flush=True)
    print(f"{'once: corpus':<16} {'exit':>4} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} "
          f"{'items':>10} {'store MB':>9} {'others':>7}")
    rows, narrow_rows = {}, {}
    for i, seed in enumerate(args.seeds):
        corpus = corpus_dir(args.cache, args.n, seed)
        server.start(corpus)
        try:
            busy = machine_busy()
            wall, cpu, peak, code, stderr = run(
                [str(binary), "once", "-c", str(config)], env, ok=(0, 1))
            others = others_busy(busy, wall, cpu)  # nginx, serving us, counts as other
        finally:
            server.stop()
        items, polled, size = store_counts(state)
        print(f"{corpus.name:<16} {code:>4} {wall:>8.2f} {cpu:>8.2f} {peak / 1024:>8.1f} "
              f"{items:>10,} {size:>9.0f} {others:>7.2f}", flush=True)
        logs = log_lines(stderr)
        if logs:
            print(f"  stderr ({len(logs)} lines), first: {logs[0][:200]}")
        if i == 0 or i == len(args.seeds) - 1:
            rows[items] = publish_row(binary, config, args.repeat, env)
            narrow_rows[items] = publish_row(binary, narrow, args.repeat, env)
    (small, small_row), (large, large_row) = sorted(rows.items())[0], sorted(rows.items())[-1]

    print(f"{'publish: items':<16} {'feed':>9} {'wall s':>8} {'(min–max)':>15} {'cpu s':>8} "
          f"{'peak MB':>8} {'others':>7}  stages (busy s)")
    for items in sorted(rows):
        for feed, r in (("all", rows[items]), ("2 sources", narrow_rows[items])):
            spread = f"{r['wall_min']:.3f}–{r['wall_max']:.3f}"
            stages = " ".join(f"{k} {v:.3f}" for k, v in r["stages"].items())
            print(f"{items:<16,} {feed:>9} {r['wall']:>8.3f} {spread:>15} {r['cpu']:>8.3f} "
                  f"{r['peak']:>8.1f} {r['others']:>7.2f}  {stages}")
            for line in r["logs"][:3]:
                print(f"  stderr: {line[:200]}")
    print("(others: cores kept busy meanwhile by every other process on the machine)")
    ratio = large_row["peak"] / small_row["peak"]
    wall_ok = large_row["wall"] < PUBLISH_TARGET_S
    mem_ok = ratio <= PUBLISH_MEMORY_GROWTH
    print(f"target: < {PUBLISH_TARGET_S * 1000:.0f} ms at {large:,} items: "
          f"{'met' if wall_ok else 'NOT met'} ({large_row['wall'] * 1000:.0f} ms; "
          f"{large_row['wall'] / small_row['wall']:.2f}× the {small:,}-item store)")
    print(f"target: peak memory not growing with the store (≤ {PUBLISH_MEMORY_GROWTH:.2f}× "
          f"from {small:,} to {large:,} items): {'met' if mem_ok else 'NOT met'} "
          f"({small_row['peak']:.1f} → {large_row['peak']:.1f} MB, {ratio:.2f}×)")
    narrow_row = narrow_rows[large]
    print(f"target: < {PUBLISH_TARGET_S * 1000:.0f} ms at {large:,} items, a feed of two "
          f"sources: {'met' if narrow_row['wall'] < PUBLISH_TARGET_S else 'NOT met'} "
          f"({narrow_row['wall'] * 1000:.0f} ms)")
    if large < 900_000:
        print(f"note: the large store holds {large:,} items, short of a million")


def cpu_seconds(pid):
    """User + system CPU seconds of process pid (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime, stime


def status_field(pid, name):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return line.split(":", 1)[1].strip()
    return "?"


def bench_idle(args, binary, server, env, work):
    corpus = corpus_dir(args.cache, args.n, args.seeds[0])
    config = write_config(corpus, work, args.port, schedule=IDLE_SCHEDULE)
    log = work / "daemon.stderr"
    print(f"\n2. daemon at rest: `syndic run`, {args.n} sources, schedule "
          f"\"{IDLE_SCHEDULE}\", empty store (every source is polled once at start-up)",
          flush=True)
    server.start(corpus)
    try:
        with open(log, "w") as err:
            started = time.perf_counter()
            proc = subprocess.Popen([str(binary), "run", "-c", str(config)],
                                    stdout=subprocess.DEVNULL, stderr=err, env=env)
        try:
            # Settled: CPU time rose by no more than SETTLE_CPU_S over SETTLE_WINDOW_S.
            history = []
            while True:
                if proc.poll() is not None:
                    sys.exit(f"syndic run exited {proc.returncode} during start-up:\n"
                             f"{log.read_text()[-3000:]}")
                history.append((time.perf_counter(), cpu_seconds(proc.pid)))
                if (len(history) > SETTLE_WINDOW_S
                        and history[-1][1] - history[-1 - SETTLE_WINDOW_S][1] <= SETTLE_CPU_S
                        and history[-1][1] > 0.5):
                    break
                if history[-1][0] - started > SETTLE_TIMEOUT_S:
                    sys.exit(f"syndic run still busy after {SETTLE_TIMEOUT_S} s")
                time.sleep(1)
            settled_at = history[-1][0] - started
            startup_cpu = history[-1][1]
            items, polled, size = store_counts(work / "state")
            rss_settled = status_field(proc.pid, "VmRSS")
            print(f"start-up work done after {settled_at:.0f} s (settled: ≤ {SETTLE_CPU_S} s "
                  f"CPU over {SETTLE_WINDOW_S} s): {startup_cpu:.2f} s CPU, {polled:,} of "
                  f"{args.n:,} sources polled, {items:,} items, store {size:.0f} MB, "
                  f"RSS {rss_settled}", flush=True)

            busy, cpu0, t0 = machine_busy(), cpu_seconds(proc.pid), time.perf_counter()
            time.sleep(args.idle)
            cpu1, t1 = cpu_seconds(proc.pid), time.perf_counter()
            span = t1 - t0
            others = others_busy(busy, span, cpu1 - cpu0)
            pct = 100 * (cpu1 - cpu0) / span
            print(f"idle over {span:.1f} s: {cpu1 - cpu0:.2f} s CPU = {pct:.3f} % of one core "
                  f"(clock tick {1 / CLK_TCK:.2f} s); {status_field(proc.pid, 'Threads')} "
                  f"threads, RSS {status_field(proc.pid, 'VmRSS')}; other processes kept "
                  f"{others:.2f} cores busy meanwhile")
            print(f"target: < {IDLE_TARGET_PCT} % of a core at rest: "
                  f"{'met' if pct < IDLE_TARGET_PCT else 'NOT met'}")
        finally:
            if proc.poll() is None:
                hwm = status_field(proc.pid, "VmHWM")
                stop_at = time.perf_counter()
                proc.send_signal(signal.SIGTERM)
                if not _exits_within(proc, 60):
                    proc.kill()
                    proc.wait()
                    print("SIGTERM: still running after 60 s; killed")
                else:
                    _, status, usage = os.wait4(proc.pid, 0)
                    proc.returncode = code = os.waitstatus_to_exitcode(status)
                    print(f"SIGTERM: exited {code} after {time.perf_counter() - stop_at:.2f} s "
                          f"({'clean' if code == 0 else 'NOT clean'}); whole run: "
                          f"{usage.ru_utime + usage.ru_stime:.2f} s CPU, peak RSS before "
                          f"SIGTERM (VmHWM) {hwm}")
    finally:
        server.stop()
    lines = [l for l in log.read_text().splitlines() if l.strip()]
    print(f"daemon stderr (RUST_LOG={env['RUST_LOG']}): {len(lines)} lines")
    for line in lines[:10]:
        print(f"  {line[:200]}")


def _exits_within(proc, seconds):
    """Waits for proc to become a zombie without reaping it, so wait4 can read its usage."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        time.sleep(0.05)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44, 45, 46])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--idle", type=float, default=60, help="seconds of rest measured")
    parser.add_argument("--port", type=int, default=KIT_PORT)
    parser.add_argument("--jobs", type=int, default=2, help="corpora generated at once")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "syndic-bench-corpus")
    parser.add_argument("--only", choices=["publish", "idle"])
    args = parser.parse_args()
    if not KIT.is_dir():
        sys.exit(f"skipped: bench kit not found at {KIT}")
    if not shutil.which("nginx") and not Path("/usr/sbin/nginx").exists():
        sys.exit("nginx not found (apt-get install nginx)")
    if not BINARY.exists():
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    head = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO,
                          capture_output=True, text=True).stdout.strip()
    built = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(BINARY.stat().st_mtime))
    args.cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="syndic-scale-"))
    server = Server(args.port, work / "nginx")
    try:
        # A copy, so that a rebuild while this runs cannot change the program measured.
        binary = work / "syndic"
        shutil.copy2(BINARY, binary)
        with open(binary, "rb") as f:
            digest = hashlib.file_digest(f, "sha256").hexdigest()[:12]
        print(f"syndic {BINARY} (built {built}, sha256 {digest}…; tree {head}), "
              f"{os.cpu_count()} cores", flush=True)
        if GNU_TIME:
            print(f"peak memory of each command from {GNU_TIME} (GNU time: adds ~1 ms of wall)")
        else:
            print(f"peak memory from wait4, never below this Python's own peak "
                  f"(now {status_field('self', 'VmHWM')}): install GNU time (`time`)")

        spent, made = ensure_corpora(args.cache, args.n, args.seeds, args.jobs)
        if spent is not None:
            print(f"generated {', '.join(corpus_dir(args.cache, args.n, s).name for s in made)}"
                  f" in {spent:.0f} s")
        for seed in args.seeds:
            corpus = corpus_dir(args.cache, args.n, seed)
            manifest = json.loads((corpus / "manifest.json").read_text())
            print(f"corpus {corpus.name}: {manifest['items']:,} items, "
                  f"{manifest['bytes'] / 1e6:.0f} MB")

        env = dict(os.environ, RUST_LOG="warn")
        started = time.perf_counter()
        if args.only in (None, "publish"):
            (work / "publish").mkdir()
            try:
                bench_publish(args, binary, server, env, work / "publish")
            finally:
                shutil.rmtree(work / "publish", ignore_errors=True)
        if args.only in (None, "idle"):
            (work / "idle").mkdir()
            bench_idle(args, binary, server, env, work / "idle")
        print(f"\nmeasurements took {time.perf_counter() - started:.0f} s")
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

if __name__ == "__main__":
    main()
