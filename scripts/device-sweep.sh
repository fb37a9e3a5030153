#!/usr/bin/env bash
# The whole GPU-machine benchmark sweep in one command (device time is scarce).
# Run through the device tool after `bash ../shared/gpu/device-prepare.sh`:
#   carry [".device"], command: bash .device/run.sh bash scripts/device-sweep.sh
# Writes everything under $OUT (or ./bench-results) and prints a short summary last.
# SWEEP_STEPS picks steps (default all): tests smt pool ab overheads transfers sched calibrate coexec jit bench runtime phases.
# "ab" compares the pool and the cost model with an older build copied to node_modules/.old-dist
# (cp -r packages/gpu-executor/{dist,package.json} node_modules/.old-dist/ before the change).
set -uo pipefail
steps=" ${SWEEP_STEPS:-tests smt pool overheads transfers sched calibrate coexec jit bench runtime phases} "
want() { [[ "$steps" == *" $1 "* ]]; }
final=${OUT:-bench-results}
out=$(mktemp -d)
mkdir -p "$final"
cli="node packages/cli/dist/src/main.js"
# Everything so far into one archive, after every step: a sweep cut off by the time limit still brings back what it measured.
save() { tar -C "$out" -czf "$final/sweep.tar.gz" . 2>/dev/null; }
# Each step's name and the kernel's CPU counters at its start: the summary gives each step's busy and steal (time the hypervisor ran something else) shares.
step() { save; echo "== $* ($(date +%T))" >&2; printf '%s\t%s\n' "${*%%:*}" "$(head -1 /proc/stat)" >> "$out/procstat.txt"; }

step info
$cli info --json > "$out/info.json" 2> "$out/info.err"
{ lscpu; nproc; free -g; } > "$out/lscpu.txt" 2>&1

if want tests; then
  step "the gpu-executor suite on the real GPU (every kernel against its CPU path, Ed25519 against node:crypto), and both Ed25519 GPU plans on one 64K batch"
  SUPERVM_REQUIRE_GPU=1 timeout 180 node --test --test-concurrency=1 packages/gpu-executor/dist/test/*.test.js > "$out/ed25519-tests.txt" 2>&1
  timeout 90 node scripts/ed25519-gpu-hash.mjs 65536 9 > "$out/ed25519-gpu-hash.jsonl" 2> "$out/ed25519-gpu-hash.err"
fi

if want smt; then
  step "latency-bound and throughput-bound arithmetic on 1, 8 and all threads: do the vCPUs share physical cores?"
  timeout 60 node scripts/smt-check.mjs > "$out/smt-check.json" 2> "$out/smt-check.err"
fi

if want pool; then
  step "worker pool against raw workers and one thread, per kernel"
  timeout 150 node scripts/pool-scaling.mjs 3 > "$out/pool-scaling.json" 2> "$out/pool-scaling.err"
fi

if want ab && [ -f node_modules/.old-dist/dist/src/index.js ]; then
  step "before / after in one run: the pool and the cost model of this build against node_modules/.old-dist"
  timeout 180 node scripts/pool-ab.mjs node_modules/.old-dist/dist/src/index.js 11 > "$out/pool-ab.json" 2> "$out/pool-ab.err"
  timeout 60 node scripts/cost-model-overhead.mjs 20000 node_modules/.old-dist/dist/src/index.js > "$out/cost-model-overhead.json" 2> "$out/cost-model-overhead.err"
fi

if want overheads; then
  step "fixed costs of a GPU batch: tiny round trip, copies into staging, ring uploads"
  timeout 180 node scripts/gpu-overheads.mjs 9 ${SWEEP_OVERHEADS:-tiny,copy,ring} > "$out/overheads.json" 2> "$out/overheads.err"
  step "host copies into mapped staging with glibc's non-temporal threshold at 4 MiB"
  GLIBC_TUNABLES=glibc.cpu.x86_non_temporal_threshold=0x400000 timeout 60 node scripts/gpu-overheads.mjs 9 copy > "$out/overheads-nt.json" 2> "$out/overheads-nt.err"
fi

if want calibrate; then
  step "supervm calibrate: fit the cost models auto routes by"
  timeout 120 $cli calibrate --quick > "$out/calibrate.txt" 2> "$out/calibrate.err"
fi

if want sched; then
  # After calibrate: `auto` routes by the fitted models, as it does in the bench.
  step "what the scheduler adds to a batch over the executor it calls, and what auto adds over forced"
  timeout 90 node scripts/sched-overhead.mjs 60 > "$out/sched-overhead.json" 2> "$out/sched-overhead.err"
  old=$([ -f node_modules/.old-dist/dist/src/index.js ] && echo node_modules/.old-dist/dist/src/index.js)
  timeout 90 node scripts/auto-overhead.mjs 300 $old > "$out/auto-overhead.json" 2> "$out/auto-overhead.err"
  timeout 90 node scripts/path-split.mjs 300 $old > "$out/path-split.json" 2> "$out/path-split.err"
fi

if want coexec; then
  # After calibrate: the cost-model cases split by the fitted models.
  step "co-execution of Ed25519 64K: fixed shares, thread caps, either part first, the cost models' hedged split (and an older build's, from .old-dist), all in turns with the GPU alone"
  old=$([ -f node_modules/.old-dist/dist/src/index.js ] && echo node_modules/.old-dist/dist/src/index.js)
  OLD=$old timeout 100 node scripts/coexec-parts.mjs 65536 30 > "$out/coexec-parts.json" 2> "$out/coexec-parts.err"
fi

if want jit; then
  step "is the input check (sha256 validate) optimized the same on auto's path as on the executor's? (V8 opt/deopt trace)"
  for way in gpu auto; do
    timeout 30 node --trace-opt --trace-deopt scripts/batch-loop.mjs $way 1500 2>&1 | grep -E "validate|medianMs" | head -80 > "$out/jit-$way.txt"
  done
fi

if want transfers; then
  step "measureGpu as supervm bench takes it (transfers by size, tiny round trip, resident vector add), glibc's default and a 4 MiB non-temporal threshold"
  timeout 90 node scripts/transfers.mjs > "$out/transfers.json" 2> "$out/transfers.err"
  GLIBC_TUNABLES=glibc.cpu.x86_non_temporal_threshold=0x400000 timeout 90 node scripts/transfers.mjs > "$out/transfers-nt.json" 2>> "$out/transfers.err"
  # The tiny round trip differs more between processes than within one: five more processes.
  for i in 1 2 3 4 5; do timeout 60 node scripts/transfers.mjs tiny > "$out/tiny-$i.json" 2>> "$out/transfers.err"; done
fi

if want bench; then
  step "supervm bench: every kernel, device and peer"
  timeout ${SWEEP_BENCH_TIMEOUT:-300} $cli bench ${SWEEP_BENCH_ARGS:---budget 15} --json "$out/bench.json" --markdown "$out/bench.md" --chart "$out/bench.svg" > "$out/bench.txt" 2> "$out/bench.err"
fi

if want runtime; then
step "vm-runtime: Block-STM by thread count and conflict rate, and supervm run end to end with CPU vs GPU verification"
# SWEEP_BLOCKSTM=0 skips the Block-STM table; SWEEP_RUN_VARIANTS picks the end-to-end runs.
[ "${SWEEP_BLOCKSTM:-1}" = 0 ] || timeout 120 node packages/vm-runtime/dist/src/bench.js --txs 20000 --threads 1,4,8,16 --conflicts 0.01,0.1 --work-us 20 --repeats 5 --devices '' --json > "$out/block-stm.jsonl" 2> "$out/block-stm.err"
{
  # The state root follows --device unless --root-device says otherwise: "gpu-rootcpu" hashes it on the CPU.
  for variant in ${SWEEP_RUN_VARIANTS:-cpu gpu gpu-rootcpu}; do
    rm -rf /tmp/sv-run
    device=${variant%%-*}
    extra=$([ "$variant" = gpu-rootcpu ] && echo "--root-device cpu")
    timeout 120 $cli run --blocks 8 --txs 50000 --accounts 100000 --conflict 0.01 --work 0 --device $device $extra --no-compare --data /tmp/sv-run --json | sed "s/^/{\"sweep\":\"transfers-e2e-$variant\",\"row\":/; s/$/}/"
  done
} > "$out/run.jsonl" 2> "$out/run.err"
fi

if want phases; then
  step "per-phase GPU stats of every kernel, GPU transfers, and the scheduler's routes"
  timeout ${SWEEP_PHASES_TIMEOUT:-200} node scripts/gpu-phases.mjs 5 > "$out/gpu-phases.json" 2> "$out/gpu-phases.err"
fi

# The device tool brings back at most 8 files: the main ones, and everything in one archive.
printf 'end\t%s\n' "$(head -1 /proc/stat)" >> "$out/procstat.txt"
save
cp "$out"/{bench.json,bench.md,bench.svg,bench.txt,run.jsonl,block-stm.jsonl,gpu-phases.json} "$final"/ 2>/dev/null
echo "---- summary"
# /proc/stat's cpu line: user nice system idle iowait irq softirq steal, in ticks over all CPUs.
node -e 'const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => { const [name, stat] = l.split("\t"); return { name, t: stat.trim().split(/\s+/).slice(1, 9).map(Number) }; });
  for (let i = 0; i + 1 < rows.length; i++) { const d = rows[i + 1].t.map((x, j) => x - rows[i].t[j]); const all = d.reduce((a, b) => a + b, 0) || 1; const busy = all - d[3] - d[4] - d[7];
    console.log(`cpu ${(100 * busy / all).toFixed(1)}% busy, ${(100 * d[7] / all).toFixed(2)}% steal, ${all} ticks: ${rows[i].name}`); }' "$out/procstat.txt"
grep -E "^# (tests|pass|fail|skipped)" "$out/ed25519-tests.txt"
cut -c1-600 "$out/ed25519-gpu-hash.jsonl"
node -e 'const r = require(process.argv[1]); for (const p of r.phases) console.log(JSON.stringify(p)); for (const p of r.routing) console.log(JSON.stringify(p)); console.log(JSON.stringify(r.micro.transfers), r.micro.tinyRoundTripUs)' "$out/gpu-phases.json"
tail -n 12 "$out/calibrate.txt"
grep -E "^(Model name|Thread|Core|Socket|CPU\(s\)|NUMA node\(s\))" "$out/lscpu.txt"
node -e 'const r = require(process.argv[1]); console.log("scaling", r.scalingStart, r.scalingEnd); for (const c of r.cases) console.log(c.kernel, c.items, "1t", c.oneMs.toFixed(1), "raw", JSON.stringify(c.raw), "pool", JSON.stringify(c.pool.map((p) => [p.threads, p.maxTaskNs / 1e6, +p.ms.toFixed(2), +p.efficiency.toFixed(3)])))' "$out/pool-scaling.json"
node -e 'const r = require(process.argv[1]); for (const k of ["tiny", "copy", "ring", "pack", "ed25519"]) for (const x of r[k] ?? []) console.log(k, JSON.stringify({ ...x, gpu: undefined }))' "$out/overheads.json"
node -e 'const r = require(process.argv[1]); console.log(r.glibcTunables); for (const x of r.copy) console.log(JSON.stringify(x))' "$out/overheads-nt.json"
node -e 'const r = require(process.argv[1]); for (const c of r.cases) console.log(c.kernel, c.items, "decide", c.decideUs, "us", JSON.stringify(c.variants.map((v) => [v.name, v.medianMs])))' "$out/sched-overhead.json"
cat "$out/auto-overhead.json" 2>/dev/null; echo; cat "$out/pool-ab.json" 2>/dev/null; echo; node -e 'const r = require(process.argv[1]); console.log("cost model", JSON.stringify(r.results), r.ratio)' "$out/cost-model-overhead.json"
cat "$out/bench.txt"
node -e 'const r = require(process.argv[1]); console.log("coexec-parts gpu", r.gpuMs, "pool", r.poolMs); for (const x of r.runs) console.log(JSON.stringify(x))' "$out/coexec-parts.json" 2>/dev/null
head -n 20 "$out/jit-gpu.txt" "$out/jit-auto.txt" 2>/dev/null
cut -c1-400 "$out/block-stm.jsonl"
cut -c1-600 "$out/run.jsonl"
tail -n 5 "$out/bench.err" "$out/run.err" "$out/block-stm.err" "$out/gpu-phases.err" "$out/overheads.err" 2>/dev/null
