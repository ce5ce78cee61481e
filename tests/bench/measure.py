"""Running a command for the benchmarks: wall time, CPU time and peak memory, and the
stage timings syndic prints. Shared by run.py and scale.py."""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

GNU_TIME = "/usr/bin/time" if Path("/usr/bin/time").exists() else None


def run(cmd, env=None, ok=(0,)):
    """Runs cmd; returns (wall s, cpu s, peak KB, exit code, stderr text).

    Linux counts a child's peak memory (ru_maxrss) from at least its parent's peak at the
    fork, so wait4 from this Python (itself over 20 MB) cannot see a smaller peak. Where
    GNU time is installed, it runs cmd as its own child and reports cmd's peak alone.
    """
    peak_file = None
    if GNU_TIME:
        fd, peak_file = tempfile.mkstemp(prefix="syndic-bench-peak-")
        os.close(fd)
        cmd = [GNU_TIME, "-f", "%M", "-o", peak_file] + list(cmd)
    started = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True
    )
    stderr = proc.stderr.read()  # syndic logs little at RUST_LOG=warn; read, then reap
    proc.stderr.close()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
    wall = time.perf_counter() - started
    code = proc.returncode
    peak = usage.ru_maxrss
    if peak_file:
        text = Path(peak_file).read_text().strip().splitlines()
        os.unlink(peak_file)
        peak = int(text[-1])  # a first line "Command exited with non-zero status …"
    if code not in ok:
        sys.exit(f"{' '.join(map(str, cmd))} exited {code}:\n{stderr[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, peak, code, stderr


def timings(stderr):
    """The `--timings` line syndic prints: JSON after 'timings '."""
    for line in stderr.splitlines():
        if line.startswith("timings "):
            return json.loads(line[len("timings "):])
    return {}
