#!/usr/bin/env bash
# Whole-process wall time of `netdoctor counters` against `nstat -az` (hyperfine -N).
#
# The commands are measured in alternating batches so that a change of machine load hits
# all of them alike; each batch's medians give one ratio, and the median of those ratios is
# the figure reported in BENCHMARKS.md. Needs hyperfine, nstat (iproute2) and python3.
#
#   benches/whole_process.sh            # 5 batches x 200 runs
#   BATCHES=3 RUNS=100 benches/whole_process.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
BATCHES=${BATCHES:-5}
RUNS=${RUNS:-200}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
# nstat keeps a history file; point it at a temp file so no real one is touched.
export NSTAT_HISTORY="$out/nstat-history"
for b in $(seq "$BATCHES"); do
  hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$out/batch-$b.json" \
    'target/release/netdoctor counters' \
    'target/release/netdoctor counters --all' \
    'target/release/netdoctor counters --all --json' \
    'nstat -az' \
    'nstat -asz' \
    'target/release/netdoctor --version' >/dev/null
done
# CPU time (task-clock) in the same alternating way, when perf is there.
if command -v perf >/dev/null; then
  for b in $(seq "$BATCHES"); do
    for c in 'target/release/netdoctor counters' 'target/release/netdoctor counters --all' \
             'target/release/netdoctor counters --all --json' 'nstat -az' 'nstat -asz' \
             'target/release/netdoctor --version'; do
      # shellcheck disable=SC2086
      ms=$(perf stat -x, -e task-clock -r "$RUNS" $c 2>&1 >/dev/null | awk -F, '/task-clock/ {print $1}')
      printf '%s\t%s\t%s\n' "$b" "$c" "$ms" >>"$out/cpu.tsv"
    done
  done
fi
python3 - "$out" <<'PY'
import glob, json, statistics, sys
batches = [json.load(open(p))["results"] for p in sorted(glob.glob(sys.argv[1] + "/batch-*.json"))]
names = [r["command"] for r in batches[0]]
med = {n: [next(r["median"] for r in b if r["command"] == n) for b in batches] for n in names}
print(f"{'command':45s} {'median of batch medians':>24s}  per batch (ms)")
for n in names:
    print(f"{n:45s} {statistics.median(med[n])*1e3:21.3f} ms  " + " ".join(f"{v*1e3:.3f}" for v in med[n]))
base = "nstat -az"
for n in names:
    if n.startswith("target/release/netdoctor counters"):
        ratios = [a / b for a, b in zip(med[n], med[base])]
        print(f"ratio {n[len('target/release/'):]!r} / {base!r}: median {statistics.median(ratios):.2f} "
              f"(batches: {' '.join(f'{r:.2f}' for r in ratios)})")
import os
cpu_file = sys.argv[1] + "/cpu.tsv"
if os.path.exists(cpu_file):
    cpu = {}
    for line in open(cpu_file):
        b, c, ms = line.rstrip("\n").split("\t")
        cpu.setdefault(c, []).append(float(ms))
    print(f"\n{'command':45s} {'CPU ms, median of batches':>26s}  per batch")
    for c, v in cpu.items():
        print(f"{c:45s} {statistics.median(v):26.3f}  " + " ".join(f"{x:.3f}" for x in v))
    for c in cpu:
        if c.startswith("target/release/netdoctor counters"):
            r = [a / b for a, b in zip(cpu[c], cpu[base])]
            print(f"CPU ratio {c[len('target/release/'):]!r} / {base!r}: median {statistics.median(r):.2f} "
                  f"(batches: {' '.join(f'{x:.2f}' for x in r)})")
PY
