#!/usr/bin/env bash
# CPU profiles (main thread, 10 us sampling) of SHA-256 10K batches on the GPU through
# each path of scripts/batch-loop.mjs, to compare where a batch's host time goes.
# Writes $OUT/<way>.cpuprofile (the largest profile of the run: the main thread's) and
# $OUT/<way>.json. Usage: bash scripts/profile-paths.sh [batches] [ways, default "gpu forced auto"]
set -uo pipefail
batches=${1:-4000}
out=${OUT:-profiles}
mkdir -p "$out"
for way in ${2:-gpu forced auto}; do
  dir=$(mktemp -d)
  node --cpu-prof --cpu-prof-dir "$dir" --cpu-prof-interval 10 scripts/batch-loop.mjs "$way" "$batches" > "$out/$way.json" 2> "$out/$way.err"
  cp "$(ls -S "$dir"/*.cpuprofile | head -1)" "$out/$way.cpuprofile"
  rm -rf "$dir"
done
