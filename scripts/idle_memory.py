#!/usr/bin/env python3
"""What an idle console keeps resident (issue 9), Python 3 standard library plus `nm`.

Starts the release binary in the same 160x48 pseudo-terminal as `bench_process.py`, lets it
settle, and prints: VmRSS split into anonymous and file-backed pages; the resident size of each
mapping (the binary's code and read-only data, the heap, the other anonymous mappings: large
allocations, thread stacks); the thread names; and which code of the binary is mapped, summed by
the crate of the symbol each resident page falls in (from /proc/PID/pagemap, so run as root).
The kernel maps cached file pages 64 KB around each fault, so the crate split shows which code
start-up touches, give or take its neighbours.

Usage: cargo build --release && scripts/idle_memory.py [--settle 10] [--binary PATH]
For the heap by call site: `heaptrack target/release/aimdeck` in a terminal, quit, then
`heaptrack_print --print-peaks 1 FILE`.
"""

import argparse
import bisect
import collections
import os
import re
import struct
import subprocess
import tempfile
import time

import bench_process as bench

PAGE_KB = 4


def code_symbols(binary):
    """(start addresses, crate names) of the binary's code symbols, sorted."""
    out = subprocess.run(["nm", "-n", "-C", "--defined-only", binary], capture_output=True, text=True, check=True).stdout
    starts, crates = [], []
    for line in out.splitlines():
        parts = line.split(" ", 2)
        if len(parts) == 3 and parts[1] in "tTwW":
            name = parts[2].lstrip("<&*( ")
            name = name[5:] if name.startswith("impl ") else name
            match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", name)
            starts.append(int(parts[0], 16))
            crates.append(match.group(0) if match else "?")
    return starts, crates


def mappings(pid):
    """(start, end, permissions, file offset, path) of every mapping, with its Rss in kB."""
    rows, current = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if not parts[0].endswith(":"):
                lo, hi = (int(x, 16) for x in parts[0].split("-"))
                current = [lo, hi, parts[1], int(parts[2], 16), parts[5] if len(parts) > 5 else "[anon]", 0]
                rows.append(current)
            elif parts[0] == "Rss:":
                current[5] = int(parts[1])
    return rows


def resident_code_by_crate(pid, binary, maps):
    starts, crates = code_symbols(binary)
    mine = [m for m in maps if m[4] == binary]
    base = mine[0][0] - mine[0][3]
    by_crate = collections.Counter()
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap:
        for lo, hi, perms, _, _, _ in mine:
            if perms != "r-xp":
                continue
            pagemap.seek(lo // 4096 * 8)
            entries = pagemap.read((hi - lo) // 4096 * 8)
            for i in range((hi - lo) // 4096):
                if struct.unpack_from("<Q", entries, i * 8)[0] >> 63:
                    j = bisect.bisect_right(starts, lo + i * 4096 - base) - 1
                    by_crate[crates[j] if j >= 0 else "?"] += PAGE_KB
    return by_crate


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--settle", type=float, default=10)
    ap.add_argument("--binary", default=bench.BIN)
    ap.add_argument("--crates", type=int, default=20, help="how many crates to list")
    args = ap.parse_args()
    binary = os.path.realpath(args.binary)
    with tempfile.TemporaryDirectory() as home:
        pid, master = bench.spawn_in_pty([binary], bench.private_env(home))
        end = time.time() + args.settle
        while time.time() < end:
            bench.read_some(master, 0.1)
        with open(f"/proc/{pid}/status") as f:
            status = {k: v.strip() for k, _, v in (line.partition(":") for line in f)}
        maps = mappings(pid)
        threads = collections.Counter(open(f"/proc/{pid}/task/{t}/comm").read().strip() for t in os.listdir(f"/proc/{pid}/task"))
        by_crate = resident_code_by_crate(pid, binary, maps)
        bench.stop(pid, master)
    print(f"VmRSS {status['VmRSS']} = RssAnon {status['RssAnon']} + RssFile {status['RssFile']}; threads: {dict(threads)}")
    print("\nresident kB  size kB  perms  mapping")
    for lo, hi, perms, _, path, rss in sorted(maps, key=lambda m: -m[5]):
        if rss >= 64:
            print(f"{rss:11d}  {(hi - lo) // 1024:7d}  {perms}  {path}")
    print(f"\nbinary code resident by crate ({sum(by_crate.values())} kB):")
    for crate, kb in by_crate.most_common(args.crates):
        print(f"{kb:8d} kB  {crate}")


if __name__ == "__main__":
    main()
