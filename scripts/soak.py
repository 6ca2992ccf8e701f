#!/usr/bin/env python3
"""Soak (issue 21, item 3): the console against N live `aimdeck-sim` endpoints under varying
load for a set time, cycling its views and opening details as an operator does, sampled at a
fixed interval. Python 3 standard library only; shares the pty and sim helpers of
`bench_process.py`.

Each sample: resident memory (VmRSS), the heap (the Rss of the `[heap]` mapping plus the
anonymous mappings malloc grows into, from /proc/PID/smaps), open file descriptors, threads and
CPU (share of one core since the previous sample). At the end it prints the samples and a
verdict: memory flat after the history fills (the growth over the second half of the run, in
KB and %), and no fd or thread growth.

The load varies per endpoint and over time: each endpoint gets 0-4 concurrent requests in a
pattern that changes every 20 s (bursts, idle spells, a slow ramp), bounded by the run's length.

Usage: cargo build --release && scripts/soak.py [--minutes 60] [--sims 50] [--every 60]
       [--out FILE]
"""

import argparse
import json
import os
import re
import tempfile
import threading
import time
import urllib.request

import bench_process as bench

VIEW_KEYS = [b"1", b"2", b"3", b"4"]


def heap_kb(pid):
    """The heap: `[heap]` plus anonymous private mappings (glibc's arenas and large blocks)."""
    total, current, anonymous = 0, None, False
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                parts = line.split()
                path = parts[5] if len(parts) > 5 else ""
                anonymous = path in ("", "[heap]")
                current = path
            elif line.startswith("Rss:") and anonymous and current is not None:
                total += int(line.split()[1])
    return total


def sample(pid, last_cpu, last_time):
    cpu, now = bench.cpu_seconds(pid), time.time()
    status = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            status[key] = value.strip()
    return {
        "t_s": round(now - START, 1),
        "rss_kb": int(status["VmRSS"].split()[0]),
        "heap_kb": heap_kb(pid),
        "fds": len(os.listdir(f"/proc/{pid}/fd")),
        "threads": int(status["Threads"]),
        "cpu_pct": round(100 * (cpu - last_cpu) / max(now - last_time, 1e-9), 2),
    }, cpu, now


def vary_load(sims, stop_event, deadline):
    """Per endpoint, a number of requests in flight that changes every 20 s."""
    body = json.dumps({"prompt": "soak " * 24, "max_tokens": 24}).encode()

    def one(url):
        try:
            request = urllib.request.Request(
                url + "/v1/completions", data=body, headers={"content-type": "application/json"})
            urllib.request.urlopen(request, timeout=10).read()
        except Exception:
            pass

    def worker(index, url):
        while not stop_event.is_set() and time.time() < deadline:
            phase = int((time.time() - START) // 20)
            wanted = [0, 1, 4, 2, 0, 3][(phase + index) % 6]
            threads = [threading.Thread(target=one, args=(url,)) for _ in range(wanted)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            if wanted == 0:
                stop_event.wait(1.0)

    workers = [threading.Thread(target=worker, args=(i, url), daemon=True)
               for i, (_, url) in enumerate(sims)]
    for w in workers:
        w.start()
    return workers


def verdict(samples):
    half = samples[len(samples) // 2:]
    if len(half) < 2:
        return "too short for a verdict (needs at least 4 samples)"
    grow = lambda key: half[-1][key] - half[0][key]
    rss, heap = grow("rss_kb"), grow("heap_kb")
    return (f"second half ({half[0]['t_s']:.0f}-{half[-1]['t_s']:.0f} s): RSS {rss:+d} KB "
            f"({100 * rss / max(half[0]['rss_kb'], 1):+.1f}%), heap {heap:+d} KB, "
            f"fds {grow('fds'):+d}, threads {grow('threads'):+d}")


def main():
    global START
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--sims", type=int, default=50)
    parser.add_argument("--every", type=float, default=60, help="seconds between samples")
    parser.add_argument("--binary", default=bench.BIN)
    parser.add_argument("--sim", default=bench.SIM)
    parser.add_argument("--out")
    args = parser.parse_args()
    START = time.time()
    deadline = START + args.minutes * 60
    home = tempfile.mkdtemp(prefix="aimdeck-soak-")
    bench.SIM = args.sim
    sims = bench.start_sims(args.sims)
    os.makedirs(f"{home}/config/aimdeck", exist_ok=True)
    with open(f"{home}/config/aimdeck/config.yaml", "w") as f:
        f.write("endpoints:\n" + "".join(
            f"  - name: soak-{i:02}\n    url: {url}\n" for i, (_, url) in enumerate(sims)))
    stop_event = threading.Event()
    vary_load(sims, stop_event, deadline)
    pid, master = bench.spawn_in_pty([args.binary], bench.private_env(home))
    samples = []
    try:
        last_cpu, last_time = bench.cpu_seconds(pid), time.time()
        next_sample, next_key, key_index = time.time() + args.every, time.time() + 5, 0
        while time.time() < deadline:
            bench.read_some(master, 0.2)
            now = time.time()
            if now >= next_key:
                # Cycle the views; on the Endpoints view open a detail and close it again.
                key = VIEW_KEYS[key_index % len(VIEW_KEYS)]
                os.write(master, key)
                if key == b"4":
                    bench.read_some(master, 1.0)
                    os.write(master, b"j" * (key_index % 7) + b"\r")
                    bench.read_some(master, 2.0)
                    os.write(master, b"\x1b")
                key_index += 1
                next_key = now + 10
            if now >= next_sample:
                row, last_cpu, last_time = sample(pid, last_cpu, last_time)
                samples.append(row)
                print(json.dumps(row), flush=True)
                next_sample = now + args.every
    finally:
        stop_event.set()
        bench.stop(pid, master)
        for proc, _ in sims:
            proc.terminate()
        for proc, _ in sims:
            proc.wait()
    table = ["| t (s) | RSS (KB) | heap (KB) | fds | threads | CPU % |",
             "|---:|---:|---:|---:|---:|---:|"]
    table += [f"| {r['t_s']:.0f} | {r['rss_kb']} | {r['heap_kb']} | {r['fds']} | {r['threads']} | {r['cpu_pct']} |"
              for r in samples]
    text = "\n".join(table) + "\n\n" + verdict(samples) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(f"soak: {args.sims} sims, {args.minutes} min, a sample every {args.every} s\n\n" + text)


START = time.time()

if __name__ == "__main__":
    main()
