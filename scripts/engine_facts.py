#!/usr/bin/env python3
"""Extract facts from released vLLM / SGLang wheels into aimdeck test fixtures.

Why: aimdeck renders engine command lines and reads engine metrics. What the engines really
accept and export is taken from their released source, never from memory, and kept in the repo
with its provenance so tests (and aimdeck-sim) can be as strict as the real engines.

How: the wheels are read statically. Nothing is installed or imported: each wheel is opened as
a zip and its Python files are parsed with the `ast` module.

    pip index versions vllm; pip index versions sglang      # newest versions the registry serves
    pip download --no-deps vllm==0.33.0 sglang==0.5.23 -d /tmp/wheels
    python3 scripts/engine_facts.py /tmp/wheels/*.whl --out tests/fixtures/engines

For each wheel it writes `tests/fixtures/engines/<engine>-<version>/`:
  flags.json       every command-line option: names (first is canonical, then aliases),
                   whether it takes a value, its argparse choices, and where it is declared
  registries.json  reasoning parsers, tool-call parsers, quantization methods (and the
                   deprecated ones), kv-cache dtypes, finish reasons
  metrics.json     metric families: name, type, label names, histogram bucket bounds
Every file starts with a `provenance` object: package, version, wheel, source files.

What it reads (per engine, see EXTRACTORS):
  vLLM    vllm/engine/arg_utils.py (EngineArgs.add_cli_args: flags typed by the config
          dataclasses in vllm/config/), vllm/entrypoints/common/cli_args.py (FrontendArgs and
          make_arg_parser), vllm/reasoning/__init__.py, vllm/tool_parsers/__init__.py,
          vllm/model_executor/layers/quantization/__init__.py, vllm/config/cache.py,
          vllm/v1/metrics/loggers.py, vllm/v1/engine/__init__.py
  SGLang  sglang/srt/arg_groups/fields/*.py (A[T, Arg(...)] fields), sglang/srt/server_args.py
          (add_cli_args), sglang/srt/arg_groups/choices.py, sglang/srt/parser/
          reasoning_parser_names.py, sglang/srt/function_call/parser_names.py,
          sglang/srt/observability/metrics_collector.py
A value the reader cannot resolve statically is written as null with a note, never guessed.
"""

import argparse
import ast
import json
import os
import re
import sys
import zipfile


class Wheel:
    """The Python sources of one wheel, parsed lazily."""

    def __init__(self, path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        name = os.path.basename(path)
        self.package, self.version = name.split("-")[:2]
        self.names = [n for n in self.zip.namelist() if n.endswith(".py")]
        self._trees = {}
        self.read = set()

    def tree(self, path):
        if path not in self._trees:
            self._trees[path] = ast.parse(self.zip.read(path).decode("utf-8"), filename=path)
            self.read.add(path)
        return self._trees[path]

    def constants(self, paths):
        """Module-level `NAME = expr` and `NAME: T = expr` of these files."""
        table = {}
        for path in paths:
            for node in self.tree(path).body:
                if isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Name):
                            table[target.id] = node.value
                elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
                    table[node.target.id] = node.value
        return table


def strings(node, table, depth=0):
    """The list of strings an expression evaluates to, or None where that needs running code."""
    if depth > 12 or node is None:
        return None
    rec = lambda n: strings(n, table, depth + 1)
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, (str, int, float)) else None
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        out = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                part = rec(element.value)
            else:
                part = rec(element)
            if part is None:
                return None
            out.extend(part)
        return out
    if isinstance(node, ast.Dict):
        return rec(ast.List(elts=[k for k in node.keys if k is not None]))
    if isinstance(node, ast.Name):
        return rec(table.get(node.id))
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.BitOr)):
        left, right = rec(node.left), rec(node.right)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Subscript):
        base = node.value
        base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", None)
        if base_name == "Literal":
            return rec(node.slice)
        if base_name in ("Optional", "Annotated"):
            inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
            return rec(inner)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        if node.func.id in ("list", "sorted", "set", "tuple") and len(node.args) == 1:
            return rec(node.args[0])
        if node.func.id == "get_args" and len(node.args) == 1:
            return rec(node.args[0])
    return None


def unique(values):
    seen, out = set(), []
    for value in values:
        if value not in seen:
            seen.add(value)
            out.append(value)
    return out


def type_names(node):
    """Every bare type name in an annotation (`int | None` -> {int, None})."""
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            names.add(sub.id)
        elif isinstance(sub, ast.Constant) and sub.value is None:
            names.add("None")
        elif isinstance(sub, ast.Attribute):
            names.add(sub.attr)
    return names


def flag(names, takes_value, choices=None, source="", note=None):
    entry = {"names": names, "value": takes_value}
    if choices is not None:
        entry["choices"] = [c for c in choices if c is not None]
    if note:
        entry["note"] = note
    entry["source"] = source
    return entry


def call_kwargs(call):
    return {k.arg: k.value for k in call.keywords if k.arg}


def action_takes_value(action_node):
    """store_true & co take no value; other actions (append, custom value actions) take one."""
    text = ast.unparse(action_node)
    return not re.search(r"store_true|store_false|store_const|count|StoreTrue|StoreConst|help|version|BooleanOptional", text)


# ---------------------------------------------------------------- vLLM

def vllm_dataclass_fields(wheel, paths):
    """{ClassName: {field: annotation}} for every class in these files."""
    classes = {}
    for path in paths:
        for node in ast.walk(wheel.tree(path)):
            if isinstance(node, ast.ClassDef):
                fields = {}
                for item in node.body:
                    if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                        fields[item.target.id] = item.annotation
                classes.setdefault(node.name, fields)
    return classes


def vllm_kind(annotation, table):
    """(takes_value, choices, note) of a config field, as vllm's get_kwargs types it."""
    names = type_names(annotation)
    choices = None
    literal = None
    for sub in ast.walk(annotation):
        if isinstance(sub, ast.Name) and sub.id in table and sub.id[0].isupper():
            resolved = strings(table[sub.id], table)
            if resolved is not None and isinstance(table[sub.id], ast.Subscript):
                literal = (literal or []) + resolved
        if isinstance(sub, ast.Subscript) and getattr(sub.value, "id", None) == "Literal":
            literal = (literal or []) + (strings(sub, table) or [])
    if "bool" in names and names <= {"bool", "None"}:
        return "bool", None, None
    if {"bool", "str"} <= names:
        return "optional", None, "bare flag means true"
    if literal is not None:
        choices = unique(literal)
    return True, choices, None


def vllm_flags(wheel):
    config_files = [n for n in wheel.names if n.startswith("vllm/config/")]
    arg_utils = "vllm/engine/arg_utils.py"
    cli_args = "vllm/entrypoints/common/cli_args.py"
    scan = config_files + [arg_utils, cli_args, "vllm/model_executor/layers/quantization/__init__.py"]
    table = wheel.constants(scan + [n for n in wheel.names if n.startswith("vllm/") and n.endswith("/__init__.py")])
    classes = vllm_dataclass_fields(wheel, scan)
    out = []

    def emit(names, kind, choices, source, note=None):
        if kind == "bool":
            # BooleanOptionalAction: --x and --no-x, no value.
            negatives = ["--no-" + n[2:] for n in names if n.startswith("--")]
            out.append(flag(names + negatives, False, None, source))
        elif kind == "optional":
            out.append(flag(names, "optional", choices, source, note))
        else:
            out.append(flag(names, bool(kind), choices, source, note))

    def fields_with_bases(cls):
        """FrontendArgs.add_cli_args is a classmethod (`get_kwargs(cls)`): the class it runs
        for is FrontendArgs, whose fields include BaseFrontendArgs'."""
        if cls == "cls":
            return {**classes.get("BaseFrontendArgs", {}), **classes.get("FrontendArgs", {})}
        return classes.get(cls, {})

    for path in (arg_utils, cli_args):
        tree = wheel.tree(path)
        for func in ast.walk(tree):
            if not isinstance(func, ast.FunctionDef):
                continue
            # `x_kwargs = get_kwargs(Class)` inside this function.
            kwargs_of = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
                    callee = getattr(node.value.func, "id", None)
                    if callee == "get_kwargs" and node.value.args and isinstance(node.targets[0], ast.Name):
                        kwargs_of[node.targets[0].id] = getattr(node.value.args[0], "id", None)
            for node in ast.walk(func):
                if isinstance(node, ast.For) and isinstance(node.iter, ast.Call):
                    # `for name, kwargs in frontend_kwargs.items(): add_argument(f"--{name}", **kwargs)`
                    owner = getattr(getattr(node.iter.func, "value", None), "id", None)
                    if owner in kwargs_of and "add_argument" in ast.unparse(node):
                        cls = kwargs_of[owner]
                        explicit = {ast.literal_eval(k.slice) for k in ast.walk(func)
                                    if isinstance(k, ast.Subscript) and getattr(k.value, "id", None) == owner
                                    and isinstance(k.slice, ast.Constant)}
                        for field, annotation in fields_with_bases(cls).items():
                            kind, choices, note = vllm_kind(annotation, table)
                            emit(["--" + field.replace("_", "-")], kind, choices, f"{path}:{'FrontendArgs' if cls == 'cls' else cls}.{field}", note)
                        _ = explicit
                if not (isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument"):
                    continue
                names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                if not names or not names[0].startswith("-"):
                    continue
                kw = call_kwargs(node)
                source = f"{path}:{node.lineno}"
                spread = [k.value for k in node.keywords if k.arg is None]
                # `**{**cache_kwargs["x"], "default": None}`
                spread = [v for s in spread for v in (s.values if isinstance(s, ast.Dict) else [s])]
                field_kind, field_choices, note = True, None, None
                for value in spread:
                    if isinstance(value, ast.Subscript) and isinstance(value.slice, ast.Constant):
                        owner = getattr(value.value, "id", None)
                        cls = kwargs_of.get(owner)
                        annotation = classes.get(cls, {}).get(value.slice.value)
                        if annotation is not None:
                            field_kind, field_choices, note = vllm_kind(annotation, table)
                            source += f" ({cls}.{value.slice.value})"
                if "action" in kw:
                    field_kind = "bool" if "BooleanOptional" in ast.unparse(kw["action"]) else action_takes_value(kw["action"])
                if "choices" in kw:
                    field_choices = strings(kw["choices"], table)
                    if field_choices is None:
                        note = "choices computed at run time: " + ast.unparse(kw["choices"])
                if "nargs" in kw and ast.unparse(kw["nargs"]) in ("'?'",):
                    field_kind = "optional"
                emit(names, field_kind, field_choices, source, note)
    return dedupe_flags(out)


def dedupe_flags(flags):
    seen, out = set(), []
    for entry in flags:
        key = entry["names"][0]
        if key in seen:
            continue
        seen.add(key)
        out.append(entry)
    return sorted(out, key=lambda e: e["names"][0])


def vllm_registries(wheel):
    quant = "vllm/model_executor/layers/quantization/__init__.py"
    table = wheel.constants([quant, "vllm/config/cache.py", "vllm/reasoning/__init__.py",
                             "vllm/tool_parsers/__init__.py"])
    finish = []
    for node in ast.walk(wheel.tree("vllm/v1/engine/__init__.py")):
        if isinstance(node, ast.ClassDef) and node.name == "FinishReason":
            finish = [t.targets[0].id.lower() for t in node.body if isinstance(t, ast.Assign)]
    return {
        "reasoning_parsers": {"values": strings(table["_REASONING_PARSERS_TO_REGISTER"], table),
                              "source": "vllm/reasoning/__init__.py:_REASONING_PARSERS_TO_REGISTER",
                              "checked": "after parsing (vllm/entrypoints/common/cli_args.py validate_api_server_args)"},
        "tool_call_parsers": {"values": strings(table["_TOOL_PARSERS_TO_REGISTER"], table),
                              "source": "vllm/tool_parsers/__init__.py:_TOOL_PARSERS_TO_REGISTER",
                              "checked": "after parsing (validate_api_server_args)"},
        "quantization_methods": {"values": strings(table["QuantizationMethods"], table),
                                 "deprecated": strings(table["DEPRECATED_QUANTIZATION_METHODS"], table),
                                 "deprecated_needs": "--allow-deprecated-quantization (vllm/config/model.py)",
                                 "source": quant},
        "kv_cache_dtypes": {"values": strings(table["CacheDType"], table), "source": "vllm/config/cache.py:CacheDType"},
        "finish_reasons": {"values": finish, "source": "vllm/v1/engine/__init__.py:FinishReason"},
    }


# ---------------------------------------------------------------- SGLang

def sglang_flags(wheel):
    field_files = [n for n in wheel.names if n.startswith("sglang/srt/arg_groups/fields/")]
    server_args = "sglang/srt/server_args.py"
    table = wheel.constants(field_files + ["sglang/srt/arg_groups/choices.py", server_args,
                                           "sglang/srt/parser/reasoning_parser_names.py",
                                           "sglang/srt/function_call/parser_names.py"])
    out = []
    for path in field_files:
        for cls in ast.walk(wheel.tree(path)):
            if not isinstance(cls, ast.ClassDef):
                continue
            for item in cls.body:
                if not (isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name)):
                    continue
                ann = item.annotation
                if not (isinstance(ann, ast.Subscript) and getattr(ann.value, "id", None) in ("A", "Annotated")
                        and isinstance(ann.slice, ast.Tuple)):
                    continue
                inner, *meta = ann.slice.elts
                arg = next((m for m in meta if isinstance(m, ast.Call) and getattr(m.func, "id", None) == "Arg"), None)
                if arg is None and not any(isinstance(m, ast.Constant) and isinstance(m.value, str) for m in meta):
                    continue
                kw = call_kwargs(arg) if arg is not None else {}
                if "no_cli" in kw and ast.unparse(kw["no_cli"]) == "True":
                    continue
                field = item.target.id
                cli = kw["cli_name"].value if "cli_name" in kw else "--" + field.replace("_", "-")
                names = [cli] + (strings(kw["aliases"], table) or [] if "aliases" in kw else [])
                source = f"{path}:{cls.name}.{field}"
                types = type_names(inner)
                choices, note = None, None
                if "choices" in kw:
                    choices = strings(kw["choices"], table)
                    if choices is None:
                        note = "choices computed at run time: " + ast.unparse(kw["choices"])
                elif isinstance(inner, ast.Subscript) and "Literal" in types:
                    choices = strings(inner, table)
                if "action" in kw:
                    takes = action_takes_value(kw["action"])
                elif types <= {"bool", "Optional", "None"} and "bool" in types:
                    takes = False  # store_true
                else:
                    takes = True
                out.append(flag(names, takes, choices if takes else None, source, note))
    for node in ast.walk(wheel.tree(server_args)):
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "add_argument":
            names = [a.value for a in node.args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
            if not names or not names[0].startswith("-"):
                continue
            kw = call_kwargs(node)
            takes = action_takes_value(kw["action"]) if "action" in kw else True
            choices, note = None, None
            if "choices" in kw:
                choices = strings(kw["choices"], table)
                text = ast.unparse(kw["choices"])
                if choices is None and "reasoning_parser_choices" in text:
                    choices = ["auto"] + strings(table["REASONING_PARSER_NAMES"], table)
                elif choices is None and "tool_call_parser_choices" in text:
                    choices = ["auto"] + strings(table["TOOL_CALL_PARSER_NAMES"], table)
                elif choices is None and "sampling_backend_choices" in text:
                    choices = strings(table["SAMPLING_BACKEND_CHOICES"], table)
                if choices is None:
                    note = "choices computed at run time: " + text
            out.append(flag(names, takes, choices, f"{server_args}:{node.lineno}", note))
    return dedupe_flags(out)


def sglang_registries(wheel, flags):
    table = wheel.constants(["sglang/srt/arg_groups/choices.py", "sglang/srt/parser/reasoning_parser_names.py",
                             "sglang/srt/function_call/parser_names.py"])
    kv = next(f for f in flags if f["names"][0] == "--kv-cache-dtype")
    return {
        "reasoning_parsers": {"values": strings(table["REASONING_PARSER_NAMES"], table),
                              "source": "sglang/srt/parser/reasoning_parser_names.py:REASONING_PARSER_NAMES",
                              "checked": "argparse choices of --reasoning-parser (plus auto)"},
        "tool_call_parsers": {"values": strings(table["TOOL_CALL_PARSER_NAMES"], table),
                              "source": "sglang/srt/function_call/parser_names.py:TOOL_CALL_PARSER_NAMES",
                              "checked": "argparse choices of --tool-call-parser (plus auto)"},
        "quantization_methods": {"values": strings(table["QUANTIZATION_CHOICES"], table),
                                 "source": "sglang/srt/arg_groups/choices.py:QUANTIZATION_CHOICES"},
        "kv_cache_dtypes": {"values": kv.get("choices"), "source": kv["source"]},
        "finish_reasons": sglang_finish_reasons(wheel),
    }


def sglang_finish_reasons(wheel):
    """The `type` strings of SGLang's FINISH_* classes (schedule_batch.py to_json)."""
    path = "sglang/srt/managers/schedule_batch.py"
    found = []
    if path in wheel.names:
        for node in ast.walk(wheel.tree(path)):
            if isinstance(node, ast.ClassDef) and node.name.startswith("FINISH_"):
                for sub in ast.walk(node):
                    if isinstance(sub, ast.Dict):
                        for k, v in zip(sub.keys, sub.values):
                            if isinstance(k, ast.Constant) and k.value == "type" and isinstance(v, ast.Constant):
                                found.append(v.value)
    return {"values": unique(found), "source": path + ": FINISH_*.to_json()['type']"}


# ---------------------------------------------------------------- metrics

METRIC_TYPES = {"gauge": "gauge", "counter": "counter", "histogram": "histogram", "summary": "summary"}


def metric_type(callee):
    text = callee.lower()
    for key, kind in METRIC_TYPES.items():
        if key in text:
            return kind
    return None


def label_list(node, base, local):
    """Label names of a `labelnames=` expression: `labelnames + ["x"]`, `[*labels.keys(), "x"]`."""
    if node is None:
        return []
    if isinstance(node, ast.Name):
        return list(local.get(node.id, base))
    if isinstance(node, ast.Call):
        text = ast.unparse(node)
        if "labels.keys()" in text or "self.labels" in text:
            return list(base)
        if isinstance(node.func, ast.Name) and node.func.id == "list" and node.args:
            return label_list(node.args[0], base, local)
    if isinstance(node, ast.BinOp):
        return label_list(node.left, base, local) + label_list(node.right, base, local)
    if isinstance(node, (ast.List, ast.Tuple)):
        out = []
        for element in node.elts:
            if isinstance(element, ast.Starred):
                out += label_list(element.value, base, local)
            elif isinstance(element, ast.Constant):
                out.append(element.value)
            else:
                out += label_list(element, base, local)
        return out
    if isinstance(node, ast.Attribute) and node.attr == "keys":
        return list(base)
    return []


def buckets_of(node, local, table):
    if node is None:
        return None, None
    if isinstance(node, ast.Name) and node.id in local:
        node = local[node.id]
    values = strings(node, table)
    if values is not None:
        return [float(v) for v in values], None
    # vLLM: `histogram_buckets("family", ...)` reads _STATIC_FAMILY_DEFAULTS (v1/metrics/buckets.py).
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "histogram_buckets" \
            and node.args and isinstance(node.args[0], ast.Constant):
        family = node.args[0].value
        defaults = table.get("_STATIC_FAMILY_DEFAULTS")
        if isinstance(defaults, ast.Dict):
            for key, value in zip(defaults.keys, defaults.values):
                if isinstance(key, ast.Constant) and key.value == family:
                    bounds = strings(value, table)
                    if bounds is not None:
                        return [float(v) for v in bounds], None
        if family == "request_tokens":
            return None, "1, 2, 5 x 10^n up to max_model_len (build_1_2_5_buckets)"
    return None, "computed at run time: " + ast.unparse(node)


def metrics_in(wheel, path, base_labels, table, class_labels=None):
    """Metric constructors `X(name="engine:...", labelnames=..., buckets=...)` in one file."""
    families = []
    tree = wheel.tree(path)
    for cls in [n for n in ast.walk(tree) if isinstance(n, ast.ClassDef)] or [tree]:
        labels_for_class = (class_labels or {}).get(getattr(cls, "name", ""), base_labels)
        for func in [n for n in ast.walk(cls) if isinstance(n, ast.FunctionDef)]:
            local = {}
            for node in ast.walk(func):
                if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
                    local[node.targets[0].id] = node.value
            local_labels = {}
            for name, value in local.items():
                if isinstance(value, ast.List) and all(isinstance(e, ast.Constant) for e in value.elts):
                    local_labels[name] = [e.value for e in value.elts]
            for node in ast.walk(func):
                if not isinstance(node, ast.Call):
                    continue
                kw = call_kwargs(node)
                name_node = kw.get("name")
                if not (isinstance(name_node, ast.Constant) and isinstance(name_node.value, str)
                        and re.match(r"^(vllm|sglang):", name_node.value)):
                    continue
                kind = metric_type(ast.unparse(node.func))
                if kind is None:
                    continue
                name = name_node.value
                if kind == "counter" and not name.endswith("_total"):
                    name += "_total"  # prometheus_client appends it to the sample name
                family = {"name": name, "type": kind,
                          "labels": unique(label_list(kw.get("labelnames"), labels_for_class, local_labels))}
                if kind == "histogram":
                    bounds, note = buckets_of(kw.get("buckets"), local, table)
                    family["buckets"] = bounds
                    if note:
                        family["buckets_note"] = note
                family["source"] = f"{path}:{node.lineno}"
                families.append(family)
    return families


def vllm_metrics(wheel):
    path = "vllm/v1/metrics/loggers.py"
    files = [path] + [n for n in ("vllm/v1/spec_decode/metrics.py", "vllm/v1/metrics/perf.py") if n in wheel.names]
    table = wheel.constants(files + ["vllm/v1/metrics/buckets.py"])
    families = []
    for f in files:
        families += metrics_in(wheel, f, ["model_name", "engine"], table)
    # Info metrics name their family in a variable (`name = "vllm:cache_config_info"`).
    for node in ast.walk(wheel.tree(path)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and node.targets[0].id == "name" \
                and isinstance(node.value, ast.Constant) and str(node.value.value).startswith("vllm:"):
            families.append({"name": node.value.value, "type": "gauge", "labels": ["engine"],
                             "labels_note": "plus the keys of the config's metrics_info()",
                             "source": f"{path}:{node.lineno}"})
    return sorted({f["name"]: f for f in families}.values(), key=lambda f: f["name"])


def dict_keys_with(tree, key):
    """Keys of the first dict literal in `tree` that has `key`, and labels added as `labels["x"] =`."""
    for func in ast.walk(tree):
        if not isinstance(func, ast.FunctionDef):
            continue
        for node in ast.walk(func):
            if isinstance(node, ast.Dict) and any(isinstance(k, ast.Constant) and k.value == key for k in node.keys):
                keys = [k.value for k in node.keys if isinstance(k, ast.Constant)]
                optional = [n.targets[0].slice.value for n in ast.walk(func)
                            if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Subscript)
                            and getattr(n.targets[0].value, "id", None) == "labels"
                            and isinstance(n.targets[0].slice, ast.Constant)]
                return keys, optional
    return [], []


def sglang_metrics(wheel):
    path = "sglang/srt/observability/metrics_collector.py"
    tree = wheel.tree(path)
    table = wheel.constants([path])
    scheduler, scheduler_optional = dict_keys_with(tree, "moe_ep_rank")
    tokenizer, tokenizer_optional = dict_keys_with(tree, "engine_type")
    families = metrics_in(wheel, path, tokenizer, table, {
        "SchedulerMetricsCollector": scheduler,
        "TokenizerMetricsCollector": tokenizer,
    })
    families = sorted({f["name"]: f for f in families}.values(), key=lambda f: f["name"])
    return families, {
        "scheduler_labels": scheduler, "scheduler_optional_labels": scheduler_optional,
        "tokenizer_labels": tokenizer, "tokenizer_optional_labels": tokenizer_optional,
        "rank_labels": [k for k in scheduler if k.endswith("_rank")],
        "export": "scheduler metrics only from ranks with attn_tp_rank == 0 and attn_cp_rank == 0 "
                  "unless --enable-metrics-for-all-schedulers (SchedulerMetricsCollector.init_new)",
    }


# ---------------------------------------------------------------- output

def write(out_dir, name, provenance, body):
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, name)
    with open(path, "w") as handle:
        handle.write("{\n")
        handle.write(f'"provenance": {json.dumps(provenance)},\n')
        keys = list(body)
        for i, key in enumerate(keys):
            value = body[key]
            comma = "," if i + 1 < len(keys) else ""
            if isinstance(value, list):
                # One entry a line: compact, and a diff shows what a new release changed.
                handle.write(f'"{key}": [\n')
                handle.write(",\n".join(json.dumps(v) for v in value))
                handle.write(f"\n]{comma}\n")
            else:
                handle.write(f'"{key}": {json.dumps(value)}{comma}\n')
        handle.write("}\n")
    print(f"wrote {path}")


def extract(wheel_path, out_root):
    wheel = Wheel(wheel_path)
    if wheel.package == "vllm":
        flags = vllm_flags(wheel)
        registries = vllm_registries(wheel)
        families = vllm_metrics(wheel)
        metric_notes = {"labels": ["model_name", "engine"],
                        "export": "one series set per engine (the `engine` label is the dp rank)"}
    elif wheel.package == "sglang":
        flags = sglang_flags(wheel)
        registries = sglang_registries(wheel, flags)
        families, metric_notes = sglang_metrics(wheel)
    else:
        sys.exit(f"{wheel_path}: not a vllm or sglang wheel")
    out_dir = os.path.join(out_root, f"{wheel.package}-{wheel.version}")
    base = {"package": wheel.package, "version": wheel.version, "wheel": os.path.basename(wheel_path),
            "extracted_by": "scripts/engine_facts.py (static ast reading, nothing imported)"}
    flag_sources = sorted({f["source"].split(":")[0] for f in flags})
    write(out_dir, "flags.json", {**base, "source_files": flag_sources,
                                  "parser": "argparse, allow_abbrev on (a unique prefix of a long option is accepted)"},
          {"flags": flags})
    write(out_dir, "registries.json", {**base, "source_files": sorted({v["source"].split(":")[0] for v in registries.values()})},
          registries)
    write(out_dir, "metrics.json", {**base, "source_files": sorted({f["source"].split(":")[0] for f in families})},
          {"notes": metric_notes, "families": families})


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("wheels", nargs="+")
    parser.add_argument("--out", default="tests/fixtures/engines")
    args = parser.parse_args()
    for wheel in args.wheels:
        extract(wheel, args.out)


if __name__ == "__main__":
    main()
