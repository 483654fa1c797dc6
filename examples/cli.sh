#!/usr/bin/env bash
# The command line over JSONL rollouts: score, summarise, filter, mine preference pairs,
# follow the front, and export a recipe. Run from the repository root:
#   bash examples/cli.sh [OUT_DIR]
set -euo pipefail
out=${1:-out/cli}
mkdir -p "$out"
moreward check examples/demo.toml
moreward score examples/rollouts.jsonl -c examples/demo.toml -o "$out/scored.jsonl.gz" --errors "$out/errors.jsonl"
moreward summary "$out/scored.jsonl.gz" -c examples/demo.toml --max-groups 5
moreward filter "$out/scored.jsonl.gz" -c examples/demo.toml --top-k 1 --per-group -o "$out/best_per_group.jsonl"
moreward filter "$out/scored.jsonl.gz" -c examples/demo.toml --pareto-front -o "$out/front.jsonl"
moreward pairs "$out/scored.jsonl.gz" -c examples/demo.toml --margin 0.5 --max-pairs-per-group 2 -o "$out/pairs.jsonl"
moreward front "$out/scored.jsonl.gz" -c examples/demo.toml --by data_source --plot "$out/front.png"
moreward recipes show dapo > "$out/dapo.toml"
moreward check "$out/dapo.toml"
echo "cli example: outputs in $out"
