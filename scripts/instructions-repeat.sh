#!/usr/bin/env bash
# Instruction counts repeat: a quick `--measure instructions` run of a few workloads, made
# twice. Every current-thread point's count must agree between the two runs within 0.5%
# (multi-thread points are printed: Callgrind runs one thread at a time, and how the
# workers interleave moves their counts); `compare --metric instructions` must pass the
# two runs (exit 0) and fail a copy whose ratios are 2% worse (exit 3).
#   scripts/instructions-repeat.sh [OUT_DIR]     (needs valgrind; run by .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null 2>&1 || { echo "instructions-repeat: valgrind is not installed (Debian: apt-get install valgrind)" >&2; exit 1; }
out=${1:-target/zbench-ci-instructions}
rm -rf "$out"
cargo build -q --release
zbench=target/release/zbench
workloads=(tokio_shapes.spawn_many_current_thread sched.local_ping_pong asyncfn.await sync.oneshot)
for run in a b; do
  "$zbench" run "${workloads[@]}" --quick --measure instructions --no-report --out "$out/$run" > /dev/null
done
python3 - "$out/a/results.json" "$out/b/results.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
assert a["run"]["measure"] == b["run"]["measure"] == "instructions"
key = lambda r: (r["workload"], json.dumps(r["params"], sort_keys=True), r["runtime"])
second = {key(r): r for r in b["results"]}
current = 0
for r in a["results"]:
    other = second[key(r)]
    x, y = r["stats"]["median"], other["stats"]["median"]
    diff = abs(x - y) / x
    multi = "workers" in r["params"]
    print(f"{r['workload']:42} {r['runtime']:6} {x:12.1f} {y:12.1f} {r['unit']:20} {diff:8.4%}"
          f"{'  (multi-thread)' if multi else ''}")
    if not multi:
        current += 1
        assert diff < 0.005, f"{key(r)}: {x} then {y}, {diff:.3%} apart"
assert current >= 4, f"only {current} current-thread figures"
print(f"{current} current-thread figures agree within 0.5% between two runs")
PY
"$zbench" compare "$out/a/results.json" "$out/b/results.json" --metric instructions > "$out/same.txt"
tail -n 1 "$out/same.txt"
cargo run -q --release -p zbench-report --example doctor -- "$out/a/results.json" "$out/worse.json" 0.98
set +e
"$zbench" compare "$out/a/results.json" "$out/worse.json" --metric instructions > "$out/worse.txt"
code=$?
set -e
tail -n 1 "$out/worse.txt"
[ "$code" = 3 ] || { echo "instructions-repeat: compare against a 2% regression exited $code, expected 3" >&2; exit 1; }
echo "instructions-repeat: counts repeat, and the gate catches a 2% regression"
