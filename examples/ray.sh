#!/usr/bin/env bash
# Score on Ray (the `ray` extra): the same pipeline through Ray Data actors. Without
# --address a local Ray instance is started for the run; with --address auto (or
# ray://HOST:10001) it joins your cluster. The output is byte-identical to the local backend.
#   bash examples/ray.sh [OUT_DIR]
set -euo pipefail
out=${1:-out/ray}
mkdir -p "$out"
moreward score examples/rollouts.jsonl -c examples/demo.toml -o "$out/scored.jsonl" --backend ray
moreward score examples/rollouts.jsonl -c examples/demo.toml -o "$out/scored.local.jsonl"
cmp "$out/scored.jsonl" "$out/scored.local.jsonl" && echo "ray example: identical to the local backend"
