#!/usr/bin/env python3
"""Writes the fuzzer's seed inputs into fuzz/seeds/out/<target>/ from tests/fixtures/ (and a few
hand-written documents where no fixture exists: Docker, Kubernetes, Hub and SSE answers, in
the shapes the tests' fakes send). The committed corpora (fuzz/corpus/) are these, minimised by
libFuzzer's -merge=1 (scripts/fuzz.sh seed)."""
import json
import pathlib
import shutil

root = pathlib.Path(__file__).resolve().parents[2]
fx = root / "tests" / "fixtures"
out = root / "fuzz" / "seeds" / "out"
shutil.rmtree(out, ignore_errors=True)


def put(target, name, data):
    d = out / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def read(path):
    return path.read_bytes() if path.exists() else b""


def join(*parts):
    return b"\0".join(parts)


def cut(value, keep):
    if isinstance(value, list):
        return [cut(v, keep) for v in value[:keep]]
    if isinstance(value, dict):
        return {k: cut(v, keep) for k, v in value.items()}
    return value


def shrink(data, keep):
    """Every list cut to `keep` items, compact JSON; text that is not JSON as it is."""
    try:
        return json.dumps(cut(json.loads(data), keep), separators=(",", ":")).encode()
    except ValueError:
        return data


for p in sorted((root / "recipes").glob("*.yaml"))[::6]:
    put("recipe", p.name, read(p))
for p in sorted((fx / "metrics").glob("*.txt")):
    put("metrics", p.name, read(p))
gpus = fx / "gpus"
for d in sorted(gpus.iterdir()):
    if (d / "nvidia-smi-query.csv").exists():
        put("nvidia_csv", d.name, read(d / "nvidia-smi-query.csv"))
    if (d / "nvidia-smi-topo.txt").exists():
        put("nvidia_topo", d.name, read(d / "nvidia-smi-topo.txt"))
    if (d / "amd-smi-static.json").exists():
        # Cut to the first GPUs (a whole device's 8 partitions in CPX), compact: the recorded
        # documents are up to 550 KB, and libFuzzer ran them at 400 inputs/s.
        keep = 8 if "cpx" in d.name else 2
        docs = [shrink(read(d / f"amd-smi-{n}.json"), keep)
                for n in ("list", "static", "metric", "topology")]
        put("amd_smi", d.name, join(*docs))
        put("processes", d.name + "-amd", join(b"", read(d / "amd-smi-process.json"), b""))
    if (d / "rocm-smi-info.json").exists():
        put("rocm_smi", d.name, join(read(d / "rocm-smi-info.json"), read(d / "rocm-smi-topo.json")))
    if (d / "nvidia-smi-health.csv").exists():
        put("gpu_health", d.name, join(read(d / "kmsg.txt"), read(d / "nvidia-smi-health.csv"),
                                       read(d / "nvidia-smi-remapped-rows.csv")))
        put("processes", d.name + "-nvidia", join(read(d / "nvidia-smi-compute-apps.csv"), b"", b""))
    if (d / "nvidia-smi-L.txt").exists():
        put("partitions", d.name, read(d / "nvidia-smi-L.txt"))
truncated = gpus / "broken-truncated-json" / "amd-smi-metric-truncated.json"
static = read(gpus / "mi300x-8-amdsmi-bare" / "amd-smi-static.json")
put("amd_smi", "truncated-metric", join(b"", shrink(static, 2), read(truncated)[:4000], b""))
put("processes", "cgroups", join(b"", b"", (
    "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/"
    "cri-containerd-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n"
    "12:memory:/docker/0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n"
).encode()))

# KFD: a CPU node, two GPU nodes with VRAM banks and an XGMI link, then one device split in
# two partitions (CPX): the partition id in bits 31:28 of `location_id`.
cpu = "cpu_cores_count 96\nsimd_count 0\nvendor_id 0\nmem_banks_count 1\n"
def gpu(loc, minor, extra=""):
    return (f"cpu_cores_count 0\nsimd_count 1216\nvendor_id 4098\ndevice_id 29857\n"
            f"location_id {loc}\ndomain 0\ndrm_render_minor {minor}\ngfx_target_version 90402\n"
            f"unique_id 1234{minor}\nnum_xcc 8\ngpu_id {5000 + minor}\n{extra}")
bank = "[bank]\nheap_type 1\nsize_in_bytes 206141652992\n"
link = lambda a, b, t: f"[link]\ntype {t}\nnode_from {a}\nnode_to {b}\nweight 15\n"
put("kfd", "two-gpus", cpu + "[node]\n" + gpu(3072, 128) + bank + link(1, 2, 11) + link(1, 0, 2)
    + "[node]\n" + gpu(11264, 136) + bank + link(2, 1, 11))
put("kfd", "cpx", cpu + "".join(
    "[node]\n" + gpu(3072 | (p << 28), 128 + p, "num_xcc 1\n") + bank for p in range(4)))

# The OpenAI stream as aimdeck-sim and vLLM write it (src/bin/sim_engine/api.rs).
def chunk(delta, finish=None, usage=None):
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        c["choices"] = []
        c["usage"] = usage
    return "data: " + json.dumps(c) + "\n\n"
put("sse", "answer", ": keep-alive\n\n" + chunk({"role": "assistant", "content": ""})
    + chunk({"reasoning_content": "think"}) + chunk({"content": "Hello"}) + chunk({"content": " world"})
    + chunk({}, "length") + chunk({}, usage={"prompt_tokens": 5, "completion_tokens": 3,
                                             "completion_tokens_details": {"reasoning_tokens": 1}})
    + "data: [DONE]\n\n")
put("sse", "error", 'data: {"error": {"message": "overloaded", "code": 503}}\r\n\r\n')

# The Hub (the answers tests/cache's fake Hub sends).
revision = {"sha": "0123456789abcdef0123456789abcdef01234567",
            "siblings": [{"rfilename": "config.json"}, {"rfilename": "model.safetensors"}]}
tree = [{"type": "directory", "oid": "abc", "size": 0, "path": "sub"},
        {"type": "file", "oid": "def", "size": 12, "path": "config.json"},
        {"type": "file", "oid": "123", "size": 135, "path": "model.safetensors", "xetHash": "x1",
         "lfs": {"oid": "a" * 64, "size": 1000, "pointerSize": 135}}]
headers = ('link: <https://huggingface.co/api/models/a/b/tree/main?cursor=xyz>; rel="next"\n'
           'etag: W/"abc"\nx-linked-etag: "' + "a" * 64 + '"\nx-linked-size: 1000\n'
           "x-repo-commit: 0123456789abcdef0123456789abcdef01234567\n")
put("hub", "revision-tree-headers", join(json.dumps(revision).encode(), json.dumps(tree).encode(),
                                         headers.encode()))

# Docker: our containers as `GET /containers/json` lists them, then one inspect answer.
spec = {"name": "demo", "model": "m", "engine": "vllm", "gpus_per_replica": 1, "replicas": 1,
        "port": 8000}
containers = [
    {"Id": "c1", "Names": ["/aimdeck-demo-0"], "State": "running", "Status": "Up 2 minutes",
     "Labels": {"aimdeck.io/managed-by": "aimdeck", "aimdeck.io/deployment": "demo",
                "aimdeck.io/replica": "0", "aimdeck.io/gpus": "0,1",
                "aimdeck.io/spec": json.dumps(spec), "aimdeck.io/network": "host"}},
    {"Id": "c2", "State": "created", "Status": "Created",
     "Labels": {"aimdeck.io/deployment": "idle", "aimdeck.io/parked": "true"}},
]
inspect = {"Id": "c1", "State": {"Status": "running", "Running": True,
                                 "StartedAt": "2026-01-02T03:04:05.123456789Z"}}
put("docker", "list-inspect", join(json.dumps(containers).encode(), json.dumps(inspect).encode()))

# Kubernetes watch events (one per line) for the kinds the adapter watches.
meta = {"name": "demo-0", "namespace": "default", "labels": {"aimdeck.io/deployment": "demo"},
        "creationTimestamp": "2026-01-02T03:04:05Z"}
pod = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": {"containers": [{"name": "engine"}]},
       "status": {"phase": "Running", "podIP": "10.0.0.5", "startTime": "2026-01-02T03:04:05Z",
                  "conditions": [{"type": "Ready", "status": "True"}, {"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/3 nodes"}],
                  "containerStatuses": [{"name": "engine", "ready": False, "restartCount": 3, "image": "i", "imageID": "",
                                         "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                                         "lastState": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}
deployment = {"apiVersion": "apps/v1", "kind": "Deployment",
              "metadata": {"name": "demo", "namespace": "default", "annotations": {"aimdeck.io/spec": json.dumps(spec)},
                           "labels": {"aimdeck.io/managed-by": "aimdeck"}},
              "spec": {"replicas": 2, "selector": {"matchLabels": {"aimdeck.io/deployment": "demo"}},
                       "template": {"spec": {"containers": [{"name": "engine", "image": "vllm/vllm-openai"}]}}},
              "status": {"replicas": 2, "readyReplicas": 1, "conditions": [{"type": "Progressing", "status": "True"}]}}
event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1", "namespace": "default"},
         "involvedObject": {"kind": "Pod", "name": "demo-0"}, "reason": "BackOff", "message": "restarting",
         "type": "Warning", "count": 4, "lastTimestamp": "2026-01-02T03:04:05Z"}
lines = [{"type": "ADDED", "object": pod}, {"type": "MODIFIED", "object": deployment},
         {"type": "ADDED", "object": event}, {"type": "DELETED", "object": pod},
         {"type": "ERROR", "object": {"apiVersion": "v1", "kind": "Status", "status": "Failure", "message": "too old", "reason": "Expired", "code": 410}}]
put("kube_watch", "events", "\n".join(json.dumps(l) for l in lines) + "\n")

put("config", "full", 'theme: dark\nkeys:\n  quit: ["q", "ctrl-c"]\ngpu_poll_interval_secs: 2.5\n'
    "endpoints:\n  - name: a\n    url: http://127.0.0.1:8000\nrecipes_dirs: [/opt/recipes]\n"
    "cache_dir: /data/hf\nbackend: docker\n")
put("journal", "two", json.dumps({"who": "me", "when": "2026-01-02T03:04:05Z", "backend": "docker",
                                  "action": "deploy", "target": "demo", "result": "ok"}) + "\n{not json\n\n"
    + json.dumps({"who": "me", "when": "x", "backend": "process", "action": "scale",
                  "target": "demo -> 3", "result": "error: port 8000 taken"}) + "\n")
for t in sorted(p.name for p in out.iterdir()):
    n = len(list((out / t).iterdir()))
    print(f"{t}: {n} seeds")
