#!/usr/bin/env bash
# Soak: zbench's HTTP server (hyper, `zbench serve --workload net.http_requests`) on each
# runtime in turn, under open-loop load with connection churn, on 127.0.0.1 only. Checks
# that no request failed and that the server's resident memory, descriptors and alive
# tasks are flat: RSS after the warm-up grows by at most 10% (or 4 MiB, whichever is
# more) to the end, and once the load stops, descriptors and alive tasks are back where
# they were after the warm-up.
#
#   scripts/soak.sh [RUNTIME...]        default: zokio tokio
#
# Environment: SOAK_SECONDS (default 600; `.ci/run` uses 60), SOAK_RATE (requests/s,
# default 2000), SOAK_SEGMENT (seconds each set of 64 connections lives before it is
# closed and a new one opened: the churn; default 5), SOAK_OUT (default target/soak).
# Writes OUT/RUNTIME.csv (t_s, rss_kib, fds, alive_tasks: one sample per second after the
# warm-up, the curves) and OUT/summary.txt; exits 1 if any runtime fails a check. The
# warm-up is the first minute, or the first fifth of a shorter soak.
set -euo pipefail
cd "$(dirname "$0")/.."

secs=${SOAK_SECONDS:-600}
rate=${SOAK_RATE:-2000}
segment=${SOAK_SEGMENT:-5}
out=${SOAK_OUT:-target/soak}
runtimes=("$@")
[ ${#runtimes[@]} -eq 0 ] && runtimes=(zokio tokio)
warm=$(( secs / 5 < 60 ? secs / 5 : 60 ))

cargo build --release -q
bin=target/release/zbench
rm -rf "$out"
mkdir -p "$out"

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# One line: RSS in KiB, open descriptors, the last alive-task count the server printed.
# zokio's io_uring rings are not counted: each worker sets its ring up at its first I/O,
# which may come at any point of a run (at most one per worker, so never a leak).
sample() {
  local pid=$1 log=$2 rss fds tasks
  rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || echo 0)
  fds=$(find "/proc/$pid/fd" -mindepth 1 -printf '%l\n' 2>/dev/null | grep -vc '^anon_inode:\[io_uring\]$' || true)
  tasks=$(grep -o 'alive_tasks=[0-9-]*' "$log" | tail -n 1 | cut -d= -f2)
  echo "$rss,$fds,${tasks:--}"
}

# Loads the server for `$2` seconds in segments of `$segment` seconds (fresh connections
# each), appending the generator's lines to `$3`.
load() {
  local port=$1 seconds=$2 log=$3 end=$((SECONDS + $2)) left
  while [ $SECONDS -lt $end ]; do
    left=$((end - SECONDS))
    "$bin" load --workload net.http_requests --target "127.0.0.1:$port" --rate "$rate" \
      --duration "$(( left < segment ? left : segment ))s" >> "$log"
  done
}

failed=0
for rt in "${runtimes[@]}"; do
  port=$(free_port)
  serve_log="$out/$rt.serve.log"
  load_log="$out/$rt.load.log"
  "$bin" serve --workload net.http_requests --runtime "$rt" --listen "127.0.0.1:$port" \
    --duration "$((secs + warm + 60))s" --stats 1s > "$serve_log" 2>&1 &
  server=$!
  for _ in $(seq 100); do
    grep -q listening "$serve_log" && break
    kill -0 "$server" 2>/dev/null || { cat "$serve_log" >&2; exit 1; }
    sleep 0.1
  done
  # Warm-up: the first connections set up what a server keeps (rings, pools, caches).
  load "$port" "$warm" "$out/$rt.warm-up.log"
  sleep 2
  base=$(sample "$server" "$serve_log")
  echo "t_s,rss_kib,fds,alive_tasks" > "$out/$rt.csv"
  load "$port" "$secs" "$load_log" &
  loader=$!
  start=$SECONDS
  while kill -0 "$loader" 2>/dev/null; do
    echo "$((SECONDS - start)),$(sample "$server" "$serve_log")" >> "$out/$rt.csv"
    sleep 1
  done
  wait "$loader"
  sleep 2
  end=$(sample "$server" "$serve_log")
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  python3 - "$rt" "$out/$rt.csv" "$load_log" "$base" "$end" "$secs" >> "$out/summary.txt" <<'PY' || failed=1
import csv, re, sys
rt, path, load_log, base, end, secs = sys.argv[1:]
rows = list(csv.DictReader(open(path)))
rss = [int(r["rss_kib"]) for r in rows if int(r["rss_kib"]) > 0]
lines = [l for l in open(load_log) if " requests/s" in l]
errors = [m.group(1) for l in lines for m in [re.search(r"errors \{(.*)\}", l)] if m and m.group(1).strip()]
rates = [float(m.group(1)) for l in lines for m in [re.search(r": ([0-9.]+) requests/s", l)] if m]
b_rss, b_fds, b_tasks = base.split(",")
e_rss, e_fds, e_tasks = end.split(",")
k = max(1, len(rss) // 10)
first, last = sorted(rss[:k])[k // 2], sorted(rss[-k:])[k // 2]
growth = last - first
allowed = max(first // 10, 4096)
checks = {
    "no request failed": not errors and len(lines) > 0,
    f"RSS grew {growth} KiB (at most {allowed})": growth <= allowed,
    f"descriptors {b_fds} -> {e_fds}": e_fds == b_fds,
    f"alive tasks {b_tasks} -> {e_tasks}": e_tasks == b_tasks,
}
ok = all(checks.values())
print(f"{rt}: {'ok' if ok else 'FAILED'}; {secs} s, {len(lines)} load segments, "
      f"{sum(rates) / max(1, len(rates)):.0f} requests/s on average; "
      f"RSS {first} -> {last} KiB (max {max(rss)}); "
      + "; ".join(f"{'ok' if v else 'FAILED'}: {k}" for k, v in checks.items())
      + (f"; errors: {errors[:3]}" if errors else ""))
sys.exit(0 if ok else 1)
PY
  tail -n 1 "$out/summary.txt"
done
exit "$failed"
