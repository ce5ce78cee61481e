#!/usr/bin/env python3
"""syndic against the physical floor, on a generated corpus served by a local nginx.

For each N (default 1000 and 5000) it generates the corpus with ../shared/bench (kept in
a cache folder between runs), serves it on 127.0.0.1 with nginx, and times in one run:

  floor      floor.sh: curl fetching every feed, 32 at once, bodies discarded
  first      `syndic once` on an empty state: every feed answers 200
  all-304    `syndic once` again: every feed answers 304
  publish    `syndic publish`: publish the merged feed with nothing new

Each row gives wall time, CPU time (user + system) and peak memory (the process's
maximum resident set, from GNU time), and its ratio to the floor measured in the same
run. Rows of syndic are followed by the time its stages took inside the program
(`--timings`): busy time summed over the threads that did the work, so it can exceed
wall time.

usage: python3 tests/bench/run.py [--n 1000 5000] [--repeat 3] [--cache DIR] [--instructions]

Each figure is the median of --repeat runs. With --instructions it also counts the
instructions one first poll executes, under valgrind's cachegrind (Debian package
`valgrind`; about twenty seconds at N = 1000): a count that changes by less than half a
percent from run to run, where times on a shared machine move by a tenth, so it shows
what a change to the CPU work did. Traffic goes only to 127.0.0.1. Needs nginx
(Debian package `nginx`), curl, GNU time (package `time`) and a release build (`cargo
build --release`, run here).
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from measure import GNU_TIME, run, timings

REPO = Path(__file__).resolve().parents[2]
KIT = REPO.parent / "shared" / "bench"
BINARY = REPO / "target" / "release" / "syndic"

TARGETS = {"first": 4.0, "all-304": 1.0, "publish": 0.3}
MEMORY_TARGET_MB = 300


def median_row(samples):
    walls, cpus, peaks, stages = zip(*samples)
    merged = {}
    for name in stages[0]:
        merged[name] = statistics.median(s.get(name, 0.0) for s in stages)
    return (
        statistics.median(walls),
        statistics.median(cpus),
        statistics.median(peaks) / 1024,
        merged,
    )


def instructions(config_arg, work):
    """Instructions of one `syndic once` into an empty state, by cachegrind."""
    shutil.rmtree(work / "state", ignore_errors=True)
    shutil.rmtree(work / "public", ignore_errors=True)
    out = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         str(BINARY), "once"] + config_arg,
        env=dict(os.environ, RUST_LOG="warn"), capture_output=True, text=True,
    ).stderr
    refs = [line for line in out.splitlines() if "I refs:" in line or "I   refs:" in line]
    if not refs:
        sys.exit(f"cachegrind gave no count:\n{out[-2000:]}")
    return int(refs[-1].split(":")[-1].replace(",", ""))


def bench(n, repeat, cache, count=False):
    corpus = cache / f"c{n}"
    if not (corpus / "feeds.opml").exists():
        print(f"generating the corpus for N={n} in {corpus} …", flush=True)
        subprocess.run(
            [sys.executable, str(KIT / "gen_corpus.py"), "--n", str(n), "--seed", "42",
             "--out", str(corpus)],
            check=True, stdout=subprocess.DEVNULL,
        )
    size = sum(f.stat().st_size for f in (corpus / "feeds").rglob("*") if f.is_file())
    subprocess.run([str(KIT / "serve.sh"), "start", str(corpus)], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        rows = {"floor": [], "first": [], "all-304": [], "publish": []}
        counted = []
        for _ in range(repeat):
            # wait4's figures for the shell include curl, which it waits for.
            wall, cpu, peak, _, _ = run(["sh", str(KIT / "floor.sh"), str(corpus / "feeds.opml")])
            rows["floor"].append((wall, cpu, peak, {}))
            work = Path(tempfile.mkdtemp(prefix=f"syndic-bench-{n}-"))
            try:
                config = subprocess.run(
                    [sys.executable, str(KIT / "mk_config.py"), str(corpus / "feeds.opml"),
                     str(work)],
                    check=True, capture_output=True, text=True,
                ).stdout
                (work / "syndic.toml").write_text(config)
                config_arg = ["-c", str(work / "syndic.toml")]
                once = [str(BINARY), "once", "--timings"] + config_arg
                publish = [str(BINARY), "publish", "--timings"] + config_arg
                env = dict(os.environ, RUST_LOG="warn")
                for name, args in (("first", once), ("all-304", once), ("publish", publish)):
                    wall, cpu, peak, _, stderr = run(args, env)
                    rows[name].append((wall, cpu, peak, timings(stderr)))
                if count and not counted:
                    counted.append(instructions(config_arg, work))
            finally:
                shutil.rmtree(work, ignore_errors=True)
    finally:
        subprocess.run([str(KIT / "serve.sh"), "stop"], stdout=subprocess.DEVNULL)

    print(f"\nN = {n} feeds, {size / 1e6:.0f} MB, median of {repeat}")
    print(f"{'run':<9} {'wall s':>8} {'cpu s':>8} {'peak MB':>8} {'÷ floor':>8}  target")
    floor_wall = median_row(rows["floor"])[0]
    results = {}
    for name, samples in rows.items():
        wall, cpu, peak, stages = median_row(samples)
        ratio = wall / floor_wall
        target = ""
        if name in TARGETS:
            ok = ratio <= TARGETS[name] and (name != "first" or peak <= MEMORY_TARGET_MB)
            memory = f", ≤ {MEMORY_TARGET_MB} MB" if name == "first" else ""
            target = f"≤ {TARGETS[name]}×{memory}: {'met' if ok else 'NOT met'}"
        print(f"{name:<9} {wall:>8.2f} {cpu:>8.2f} {peak:>8.1f} {ratio:>8.2f}  {target}")
        results[name] = (wall, cpu, peak, stages)
    print("stages inside syndic (busy seconds, summed over threads):")
    names = [s for s in results["first"][3]]
    print(f"{'run':<9} " + " ".join(f"{s:>10}" for s in names))
    for name in ("first", "all-304", "publish"):
        stages = results[name][3]
        print(f"{name:<9} " + " ".join(f"{stages.get(s, 0.0):>10.2f}" for s in names))
    if counted:
        print(f"instructions of the first poll (cachegrind): {counted[0] / 1e6:,.0f} M")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1000, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--instructions", action="store_true",
                        help="also count a first poll's instructions with cachegrind")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "syndic-bench-corpus")
    args = parser.parse_args()
    if not KIT.is_dir():
        sys.exit(f"skipped: bench kit not found at {KIT}")
    for tool in ("nginx", "curl"):
        if not shutil.which(tool) and not Path(f"/usr/sbin/{tool}").exists():
            sys.exit(f"{tool} not found (apt-get install {tool})")
    if not GNU_TIME:
        sys.exit(f"{GNU_TIME} not found (apt-get install time)")
    if args.instructions and not shutil.which("valgrind"):
        sys.exit("valgrind not found (apt-get install valgrind)")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    for n in args.n:
        bench(n, args.repeat, args.cache, args.instructions)


if __name__ == "__main__":
    main()
