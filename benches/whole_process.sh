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
PY
