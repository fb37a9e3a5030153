#!/usr/bin/env bash
# The whole GPU-machine benchmark sweep in one command (device time is scarce).
# Run through the device tool after `bash ../shared/gpu/device-prepare.sh`:
#   carry [".device"], command: bash .device/run.sh bash scripts/device-sweep.sh
# Writes everything under $OUT (or ./bench-results) and prints a short summary last.
set -uo pipefail
final=${OUT:-bench-results}
out=$(mktemp -d)
mkdir -p "$final"
cli="node packages/cli/dist/src/main.js"
step() { echo "== $* ($(date +%T))" >&2; }

step info
$cli info --json > "$out/info.json" 2> "$out/info.err"

step "ed25519 GPU by workgroup size and items per dispatch"
timeout 180 node scripts/ed25519-workgroups.mjs ${SWEEP_ED25519_ITEMS:-131072} > "$out/ed25519-wg.json" 2> "$out/ed25519-wg.err"

step "supervm calibrate: fit the cost models auto routes by"
timeout 120 $cli calibrate --quick > "$out/calibrate.txt" 2> "$out/calibrate.err"

step "per-phase GPU stats of every kernel, and the scheduler's routes"
timeout 240 node scripts/gpu-phases.mjs 7 > "$out/gpu-phases.json" 2> "$out/gpu-phases.err"

step "supervm bench: every kernel, device and peer"
timeout ${SWEEP_BENCH_TIMEOUT:-300} $cli bench ${SWEEP_BENCH_ARGS:---repeat 3 --budget 15} --json "$out/bench.json" --markdown "$out/bench.md" --chart "$out/bench.svg" > "$out/bench.txt" 2> "$out/bench.err"

step "supervm run: Block-STM by thread count, and end to end with CPU vs GPU verification"
{
  for threads in 1 4 16; do
    rm -rf /tmp/sv-run
    timeout 60 $cli run --blocks 5 --txs 20000 --accounts 20000 --conflict 0.01 --work 4000 --threads $threads --device cpu --data /tmp/sv-run --json | sed "s/^/{\"sweep\":\"work4000-c0.01-t$threads\",\"row\":/; s/$/}/"
  done
  for conflict in 0.1 0.5; do
    rm -rf /tmp/sv-run
    timeout 60 $cli run --blocks 5 --txs 20000 --accounts 20000 --conflict $conflict --work 4000 --threads 16 --device cpu --data /tmp/sv-run --json | sed "s/^/{\"sweep\":\"work4000-c$conflict-t16\",\"row\":/; s/$/}/"
  done
  for device in cpu gpu; do
    rm -rf /tmp/sv-run
    timeout 90 $cli run --blocks 4 --txs 50000 --accounts 100000 --conflict 0.01 --work 0 --device $device --no-compare --data /tmp/sv-run --json | sed "s/^/{\"sweep\":\"transfers-e2e-$device\",\"row\":/; s/$/}/"
  done
} > "$out/run.jsonl" 2> "$out/run.err"

# The device tool brings back at most 8 files: the main ones, and everything in one archive.
tar -C "$out" -czf "$final/sweep.tar.gz" .
cp "$out"/{bench.json,bench.md,bench.svg,bench.txt,run.jsonl,gpu-phases.json,ed25519-wg.json} "$final"/ 2>/dev/null
echo "---- summary"
node -e 'const r = require(process.argv[1]); for (const p of r.phases) console.log(JSON.stringify(p)); for (const p of r.routing) console.log(JSON.stringify(p)); console.log(JSON.stringify(r.micro.transfers), r.micro.tinyRoundTripUs)' "$out/gpu-phases.json"
tail -n 12 "$out/calibrate.txt"
cat "$out/ed25519-wg.json"
cat "$out/bench.txt"
cut -c1-400 "$out/run.jsonl"
tail -n 5 "$out/bench.err" "$out/run.err" "$out/gpu-phases.err" 2>/dev/null
