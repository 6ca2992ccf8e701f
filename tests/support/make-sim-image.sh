#!/usr/bin/env bash
# Makes a Docker image of aimdeck-sim without a registry or network: a rootfs holding the
# binary and the shared libraries it links (glibc build; no musl target needed), imported with
# `docker import`. Skips the import when the image already holds this exact binary.
# Usage: make-sim-image.sh PATH/TO/aimdeck-sim IMAGE:TAG
set -euo pipefail
bin=$1
tag=$2
# The script's own hash is part of the key, so a changed image layout is rebuilt too.
sum=$(cat "$bin" "$0" | sha256sum | cut -d' ' -f1)
have=$(docker image inspect --format '{{index .Config.Labels "io.aimdeck.sim.sha256"}}' "$tag" 2>/dev/null || true)
if [[ "$have" == "$sum" ]]; then
  exit 0
fi
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root/usr/local/bin" "$root/tmp"
cp "$bin" "$root/usr/local/bin/aimdeck-sim"
# The engines' own program names, so the real engine command (`vllm serve ...`,
# `python3 -m sglang.launch_server ...`) runs unchanged in this image.
ln -s aimdeck-sim "$root/usr/local/bin/vllm"
ln -s aimdeck-sim "$root/usr/local/bin/python3"
# Every library the dynamic loader resolves, plus the loader itself (the `/lib64/ld-linux...` line).
for lib in $(ldd "$bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
tar -C "$root" -c . | docker import \
  --change "LABEL io.aimdeck.sim.sha256=$sum" \
  --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
  --change 'ENTRYPOINT ["/usr/local/bin/aimdeck-sim"]' \
  - "$tag" >/dev/null
echo "made $tag from $bin"
