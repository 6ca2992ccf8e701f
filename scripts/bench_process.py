#!/usr/bin/env python3
"""Whole-process figures for aimdeck (issue 9), Python 3 standard library only.

Runs the release binary in a pseudo-terminal (160x48) with private HOME/XDG dirs and measures:
  - time from exec to the first complete frame (tab bar and footer written), N runs;
  - CPU (user+system from /proc/PID/stat) and bytes written to the terminal per second over a
    window, idle (the GPUs view it opens on), and with 10 live `aimdeck-sim` endpoints listed
    under `endpoints:` in the config file while the endpoints are under load, on the Endpoints
    view (which shows the polls, redrawn once a second);
  - resident memory (VmRSS, VmHWM) at the end of each window.
With --kdash PATH it measures kdash the same way against a minimal fake Kubernetes API server
(see fake_kube_api below), in the same run, and adds a side-by-side table with the ratios of
the four idle figures both programs have (first frame, CPU, bytes to the terminal, VmRSS).
Prints markdown tables (and writes them to --out).

Usage: cargo build --release && scripts/bench_process.py [--seconds 60] [--runs 20] [--out FILE]
       [--binary PATH] [--kdash PATH]
kdash, built into this folder (gitignored):
       cargo install kdash --locked --root scripts/.kdash && scripts/bench_process.py --kdash scripts/.kdash/bin/kdash
"""

import argparse
import fcntl
import http.server
import json
import os
import pty
import re
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "aimdeck")
SIM = os.path.join(ROOT, "target", "release", "aimdeck-sim")
COLS, ROWS = 160, 48
CSI = re.compile(rb"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-B]|\x1b[=>78]")
TICKS = os.sysconf("SC_CLK_TCK")


def spawn_in_pty(argv, env):
    """Starts argv with a pty as its controlling terminal; returns (pid, master fd)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
    pid = os.fork()
    if pid == 0:
        os.setsid()
        fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
        for fd in (0, 1, 2):
            os.dup2(slave, fd)
        os.close(master)
        os.close(slave)
        os.execve(argv[0], argv, env)
    os.close(slave)
    return pid, master


def read_some(master, timeout):
    ready, _, _ = select.select([master], [], [], timeout)
    if not ready:
        return b""
    try:
        data = os.read(master, 65536)
    except OSError:
        return b""
    # Answer cursor-position queries as a terminal would (crossterm asks at start-up and gives
    # up after 2 s; kdash exits then). aimdeck sends none.
    if b"\x1b[6n" in data:
        try:
            os.write(master, b"\x1b[1;1R" * data.count(b"\x1b[6n"))
        except OSError:
            pass
    return data


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def memory_kb(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                out[key] = int(value.split()[0])
    return out


def stop(pid, master, key=b"q"):
    try:
        os.write(master, key)
    except OSError:
        pass
    deadline = time.time() + 3
    while time.time() < deadline:
        drained = read_some(master, 0.05)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done:
            break
        if not drained:
            continue
    else:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    os.close(master)


def private_env(home, extra=None):
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "AIMDECK_FAULT")}
    env.update(HOME=home, XDG_CONFIG_HOME=f"{home}/config", XDG_STATE_HOME=f"{home}/state",
               XDG_CACHE_HOME=f"{home}/cache", TERM="xterm-256color", COLUMNS=str(COLS), LINES=str(ROWS))
    env.update(extra or {})
    return env


def first_frame(argv, env, done_markers, key=b"q"):
    """Seconds from fork+exec to the moment every marker has been written (escapes removed)."""
    start = time.perf_counter()
    pid, master = spawn_in_pty(argv, env)
    seen = b""
    elapsed = None
    while time.perf_counter() - start < 10:
        chunk = read_some(master, 0.5)
        if chunk:
            seen += chunk
            text = CSI.sub(b"", seen)
            if all(m in text for m in done_markers):
                elapsed = time.perf_counter() - start
                break
    stop(pid, master, key)
    return elapsed


def window(argv, env, seconds, settle, key=b"q", press=b""):
    """CPU share of one core, terminal bytes/s and memory over `seconds` after `settle`;
    `press` is typed once the first frame is out (to show another view)."""
    pid, master = spawn_in_pty(argv, env)
    end_settle = time.time() + settle
    if press:
        read_some(master, 1.0)
        os.write(master, press)
    while time.time() < end_settle:
        read_some(master, 0.1)
    cpu0, t0, written = cpu_seconds(pid), time.time(), 0
    while time.time() - t0 < seconds:
        written += len(read_some(master, 0.5))
    cpu1, t1 = cpu_seconds(pid), time.time()
    mem = memory_kb(pid)
    stop(pid, master, key)
    return {"cpu": 100 * (cpu1 - cpu0) / (t1 - t0), "bps": written / (t1 - t0), **mem}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sims(count):
    sims = []
    for i in range(count):
        port = free_port()
        flavor = "vllm" if i % 2 == 0 else "sglang"
        proc = subprocess.Popen([SIM, "--flavor", flavor, "--model", f"bench/model-{i}", "--port", str(port)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sims.append((proc, f"http://127.0.0.1:{port}"))
    for _, url in sims:
        for _ in range(100):
            try:
                urllib.request.urlopen(url + "/health", timeout=1)
                break
            except Exception:
                time.sleep(0.1)
    return sims


def load_sims(sims, stop_event):
    """About one completion per endpoint per second, so the metrics change every poll."""
    body = json.dumps({"prompt": "hello " * 20, "max_tokens": 16}).encode()
    while not stop_event.is_set():
        for _, url in sims:
            try:
                req = urllib.request.Request(url + "/v1/completions", data=body, headers={"content-type": "application/json"})
                urllib.request.urlopen(req, timeout=5).read()
            except Exception:
                pass
        stop_event.wait(1.0)


class FakeKube(http.server.BaseHTTPRequestHandler):
    """Enough of the API server for kdash to start and idle: discovery, version, empty lists."""

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == "/version":
            body = {"major": "1", "minor": "33", "gitVersion": "v1.33.0", "platform": "linux/amd64"}
        elif path == "/api":
            body = {"kind": "APIVersions", "versions": ["v1"]}
        elif path == "/apis":
            body = {"kind": "APIGroupList", "apiVersion": "v1", "groups": []}
        elif path.startswith("/api/v1") and path.count("/") <= 2:
            body = {"kind": "APIResourceList", "groupVersion": "v1", "resources": []}
        else:
            kind = path.rstrip("/").rsplit("/", 1)[-1]
            body = {"kind": kind.capitalize() + "List", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def fake_kube_api(home):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeKube)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    os.makedirs(f"{home}/.kube", exist_ok=True)
    with open(f"{home}/.kube/config", "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters: [{{name: fake, cluster: {{server: "http://127.0.0.1:{port}"}}}}]
users: [{{name: fake, user: {{token: fake}}}}]
contexts: [{{name: fake, context: {{cluster: fake, user: fake, namespace: default}}}}]
current-context: fake
""")
    return server


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else float("nan")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--endpoints", type=int, default=10)
    ap.add_argument("--kdash", help="path to a kdash binary to measure beside aimdeck")
    ap.add_argument("--out", help="also write the markdown table here")
    ap.add_argument("--skip-aimdeck", action="store_true", help="measure only kdash (with --kdash)")
    ap.add_argument("--binary", default=BIN, help="the aimdeck binary (another build, for a before/after)")
    args = ap.parse_args()
    for path in (BIN, SIM):
        if not os.access(path, os.X_OK):
            sys.exit(f"{path} is missing: run `cargo build --release` first")

    rows, figures = [], {}
    if not args.skip_aimdeck:
        figures["aimdeck"] = measure_aimdeck(args, rows)
    if args.kdash:
        figures["kdash"] = measure_kdash(args, rows)
    table = ["| program | measure | value |", "|---|---|---|"] + ["| %s | %s | %s |" % r for r in rows]
    if len(figures) == 2:
        table += [""] + side_by_side(figures["aimdeck"], figures["kdash"])
    text = "\n".join(table) + "\n"
    print(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


# (key, label, unit format) of the figures both programs have; lower is better for each.
COMPARED = [
    ("first_ms", "first complete frame (median)", "%.1f ms"),
    ("cpu", "idle CPU of one core", "%.2f%%"),
    ("bps", "idle bytes to the terminal", "%.0f B/s"),
    ("rss_mb", "idle resident memory (VmRSS)", "%.1f MB"),
]


def side_by_side(ours, theirs):
    """The figures of one run beside each other, with how many times lower aimdeck's is."""
    lines = ["| figure | aimdeck | kdash | kdash / aimdeck |", "|---|---:|---:|---:|"]
    for key, label, fmt in COMPARED:
        a, k = ours.get(key), theirs.get(key)
        if a is None or k is None:
            ratio = "n/a"
        elif a == 0:
            ratio = "aimdeck 0" if k > 0 else "both 0"
        else:
            ratio = "%.2fx (%s)" % (k / a, "aimdeck ahead" if a < k else "kdash ahead")
        show = lambda v: fmt % v if v is not None else "not seen"
        lines.append("| %s | %s | %s | %s |" % (label, show(a), show(k), ratio))
    return lines


def idle_figures(starts, idle):
    return {"first_ms": 1e3 * median(starts) if starts else None, "cpu": idle["cpu"],
            "bps": idle["bps"], "rss_mb": idle["VmRSS"] / 1024}


def measure_aimdeck(args, rows):
    BIN = args.binary
    with tempfile.TemporaryDirectory() as home:
        env = private_env(home)
        # Warm the page cache once, untimed.
        first_frame([BIN], env, [b"Endpoints", b"quit"])
        starts = [first_frame([BIN], env, [b"Endpoints", b"quit"]) for _ in range(args.runs)]
        ok = [s for s in starts if s is not None]
        rows.append(("aimdeck", "first complete frame (median / max of %d)" % len(ok),
                     "%.1f ms / %.1f ms" % (1e3 * median(ok), 1e3 * max(ok)) if ok else "not seen"))

        idle = window([BIN], env, args.seconds, 2)
        rows.append(("aimdeck", "idle, %.0f s: CPU of one core" % args.seconds, "%.2f%%" % idle["cpu"]))
        rows.append(("aimdeck", "idle: bytes to the terminal", "%.0f B/s" % idle["bps"]))
        rows.append(("aimdeck", "idle: resident memory (VmRSS / peak VmHWM)", "%.1f MB / %.1f MB" % (idle["VmRSS"] / 1024, idle["VmHWM"] / 1024)))

        sims = start_sims(args.endpoints)
        stop_load = threading.Event()
        loader = threading.Thread(target=load_sims, args=(sims, stop_load), daemon=True)
        loader.start()
        try:
            os.makedirs(f"{home}/config/aimdeck", exist_ok=True)
            with open(f"{home}/config/aimdeck/config.yaml", "w") as f:
                f.write("endpoints:\n" + "".join(f"  - name: sim-{i}\n    url: {url}\n" for i, (_, url) in enumerate(sims)))
            # On the Endpoints view (key 4), which redraws with each second's polls.
            live = window([BIN], env, args.seconds, 2, press=b"4")
        finally:
            stop_load.set()
            for proc, _ in sims:
                proc.terminate()
            for proc, _ in sims:
                proc.wait()
        label = "%d live sims at 1 Hz, Endpoints view, %.0f s" % (args.endpoints, args.seconds)
        rows.append(("aimdeck", label + ": CPU of one core", "%.2f%%" % live["cpu"]))
        rows.append(("aimdeck", label + ": bytes to the terminal", "%.0f B/s" % live["bps"]))
        rows.append(("aimdeck", label + ": resident memory (VmRSS / peak VmHWM)", "%.1f MB / %.1f MB" % (live["VmRSS"] / 1024, live["VmHWM"] / 1024)))
    return idle_figures(ok, idle)


def measure_kdash(args, rows):
    with tempfile.TemporaryDirectory() as home:
        server = fake_kube_api(home)
        env = private_env(home, {"KUBECONFIG": f"{home}/.kube/config"})
        argv = [args.kdash]  # its defaults: 250 ms ticks, 5 s polls
        first_frame(argv, env, [b"Pods (ns", b"q:quit"], key=b"q")
        starts = [first_frame(argv, env, [b"Pods (ns", b"q:quit"], key=b"q") for _ in range(args.runs)]
        ok = [s for s in starts if s is not None]
        rows.append(("kdash", "first frame with the Pods table (median / max of %d)" % len(ok),
                     "%.1f ms / %.1f ms" % (1e3 * median(ok), 1e3 * max(ok)) if ok else "not seen"))
        idle = window(argv, env, args.seconds, 2, key=b"q")
        rows.append(("kdash", "idle, %.0f s: CPU of one core" % args.seconds, "%.2f%%" % idle["cpu"]))
        rows.append(("kdash", "idle: bytes to the terminal", "%.0f B/s" % idle["bps"]))
        rows.append(("kdash", "idle: resident memory (VmRSS / peak VmHWM)", "%.1f MB / %.1f MB" % (idle["VmRSS"] / 1024, idle["VmHWM"] / 1024)))
        server.shutdown()
    return idle_figures(ok, idle)


if __name__ == "__main__":
    main()
