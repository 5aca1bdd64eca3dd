#!/usr/bin/env python3
"""Compare two sets of result lines (runs.jsonl, bench --output-file) for a change that must
not change the output: same number of lines, the same keys in the same order at every depth,
the same JSON type per value (integer, float, string, bool, null, array, object), and equal
values for the fields that do not vary from run to run.

    scripts/compare-result-lines.py BEFORE.jsonl AFTER.jsonl [...more pairs]

Exit 0 when every pair matches, 1 with the differences printed otherwise."""

import json
import sys

# Fields equal from one run to the next of the same command (times, ids and latencies vary).
DETERMINISTIC = [
    "record", "tag", "backend", "dataset_name", "request_rate", "max_concurrency",
    "sharegpt_output_len", "random_input_len", "random_output_len", "random_range_ratio",
    "completed", "failed", "failures", "total_input_tokens", "total_input_text_tokens",
    "total_input_vision_tokens", "total_output_tokens", "total_output_tokens_retokenized",
    "run_id", "run_ids", "repeats", "scenario", "target", "dataset", "seed", "runner_version",
    "labels", "output_len_assumed", "total_output_chunks", "total_reported_input_tokens",
    "retokenized_mismatch", "chunk_mismatch", "tokenizer_errors", "token_counts_disagree",
    "percentiles", "slo_passed", "slo_failed", "goodput_slos_ms", "repeat", "stopped",
    "stopped_runs", "scenario_hash", "cache_report",
]


def kind(v):
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "float"
    if v is None:
        return "null"
    if isinstance(v, str):
        return "string"
    if isinstance(v, list):
        return "array"
    return "object"


def shape(v, path, out):
    out.append(f"{path}: {kind(v)}")
    if isinstance(v, dict):
        for k, x in v.items():
            shape(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            shape(x, f"{path}[{i}]", out)


def compare(a_path, b_path):
    a = [json.loads(l) for l in open(a_path)]
    b = [json.loads(l) for l in open(b_path)]
    errors = []
    if len(a) != len(b):
        errors.append(f"{len(a)} lines before, {len(b)} after")
    for n, (x, y) in enumerate(zip(a, b), 1):
        sx, sy = [], []
        shape(x, "", sx)
        shape(y, "", sy)
        if sx != sy:
            gone = [s for s in sx if s not in sy][:5]
            new = [s for s in sy if s not in sx][:5]
            errors.append(f"line {n}: shape differs; before only {gone}, after only {new}"
                          + ("" if gone or new else " (key order)"))
        for k in DETERMINISTIC:
            if x.get(k) != y.get(k):
                errors.append(f"line {n}: {k}: {x.get(k)!r} != {y.get(k)!r}")
    for e in errors:
        print(f"{b_path}: {e}")
    return not errors


pairs = sys.argv[1:]
if not pairs or len(pairs) % 2:
    sys.exit(__doc__)
ok = all([compare(pairs[i], pairs[i + 1]) for i in range(0, len(pairs), 2)])
sys.exit(0 if ok else 1)
