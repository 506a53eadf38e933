"""Start-up time and idle memory of `zhengtong serve`.

Runs `zhengtong demo` and then `zhengtong serve` on a fresh data directory (SQLite unless
ZT_DATABASE_URL is set), measures the time from process start until /healthz answers, then the
server's resident memory after it has idled for a few seconds. Prints one line per figure.

    .venv/bin/python bench/startup.py [--runs 3] [--idle-seconds 5]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ZHENGTONG = str(Path(sys.executable).with_name("zhengtong"))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_healthy(url: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.02)
    raise RuntimeError("the server did not become healthy in time")


def _rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def measure_once(idle_seconds: float) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "ZT_DATA_DIR": data_dir, "ZT_LOG_LEVEL": "warning"}
        subprocess.run([ZHENGTONG, "demo"], env=env, check=True, capture_output=True)
        port = _free_port()
        started = time.monotonic()
        server = subprocess.Popen(
            [ZHENGTONG, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL
        )
        try:
            _wait_healthy(f"http://127.0.0.1:{port}/healthz", started + 60)
            startup = time.monotonic() - started
            time.sleep(idle_seconds)
            return startup, _rss_kib(server.pid)
        finally:
            server.terminate()
            server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=5.0)
    args = parser.parse_args()
    results = [measure_once(args.idle_seconds) for _ in range(args.runs)]
    startups = [startup for startup, _ in results]
    memories = [rss for _, rss in results]
    median_startup = statistics.median(startups)
    print(f"serve start-up to healthy (migrate included), median of {args.runs}: {median_startup:.2f} s")
    print(f"serve idle resident memory, median of {args.runs}: {statistics.median(memories) / 1024:.1f} MiB")


if __name__ == "__main__":
    main()
