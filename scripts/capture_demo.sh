#!/usr/bin/env bash
# Regenerates the README's screen captures (assets/*.txt) from a live `--demo` with its
# synthetic traffic: the real release binary in tmux at 120x40, private HOME/XDG folders, the
# demo's engines on free ports of 127.0.0.1. Usage: cargo build --release && scripts/capture_demo.sh
# [SETTLE_SECONDS] (default 45: long enough for the first burst, the ramp and the charts).
set -euo pipefail
cd "$(dirname "$0")/.."
settle="${1:-45}"
bin="$PWD/target/release/aimdeck"
[[ -x "$bin" && -x target/release/aimdeck-sim ]] || { echo "build first: cargo build --release"; exit 1; }
home="$(mktemp -d)"
session="aimdeck-capture-$$"
cleanup() {
  tmux kill-session -t "$session" 2>/dev/null || true
  rm -rf "$home"
}
trap cleanup EXIT
tmux new-session -d -s "$session" -x 120 -y 40 \
  "env HOME=$home XDG_CONFIG_HOME=$home/config XDG_STATE_HOME=$home/state XDG_CACHE_HOME=$home/cache HF_HOME=$home/hf $bin --demo"
sleep "$settle"
capture() {
  tmux send-keys -t "$session" "$1"
  sleep 3
  tmux capture-pane -p -t "$session" >"assets/$2"
  echo "assets/$2"
}
capture 4 demo-endpoints.txt
capture 1 demo-gpus.txt
capture 3 demo-recipes.txt
capture '?' console-help.txt
tmux send-keys -t "$session" Escape
tmux send-keys -t "$session" q
# The demo stops its engines as it quits.
for _ in $(seq 1 20); do
  tmux has-session -t "$session" 2>/dev/null || break
  sleep 0.5
done
