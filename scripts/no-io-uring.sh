#!/usr/bin/env bash
# zokio without io_uring (see scripts/README.md): every zokio test binary, and zbench, run
# under a seccomp filter that fails the io_uring system calls, once with ENOSYS (a kernel
# without io_uring) and once with EPERM (io_uring disabled by policy). The tests pick the
# epoll fallback themselves (tests/support: io_uring unavailable, epoll only); zbench's
# default run must record "epoll", and ZOKIO_DRIVER=io_uring must fail with one line that
# names io_uring, and write no result file.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -q -p no-io-uring -p zbench
deny=target/release/no-io-uring
# Every test executable of the zokio crate (lib unit tests and integration tests).
mapfile -t bins < <(cargo test --release -q -p zokio --no-run --message-format=json \
  | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"]["test"]:
        print(m["executable"])')
[ "${#bins[@]}" -gt 5 ] || { echo "no-io-uring: found only ${#bins[@]} test binaries" >&2; exit 1; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

for denial in ${NO_IO_URING_DENIALS:-enosys eperm}; do
  for bin in "${bins[@]}"; do
    echo "== $denial: $(basename "$bin")"
    if env -u ZOKIO_DRIVER "$deny" "$denial" "$bin" -q >"$out/log" 2>&1; then
      tail -n 3 "$out/log"
    else
      # The whole output, so the failing test and its message are in the CI log.
      cat "$out/log"
      echo "no-io-uring: $(basename "$bin") failed under $denial" >&2
      exit 1
    fi
  done

  echo "== $denial: zbench, default driver"
  env -u ZOKIO_DRIVER "$deny" "$denial" target/release/zbench run sched.io_ops --quick \
    --runtimes zokio --no-report --out "$out/$denial" >/dev/null
  python3 - "$out/$denial/results.json" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["run"]
assert run["zokio_io_driver"] == "epoll", run["zokio_io_driver"]
drivers = {r["name"]: r.get("io_driver") for r in run["runtimes"]}
assert drivers["zokio"] == "epoll", drivers
print("result file: zokio on epoll")
PY

  echo "== $denial: zbench, ZOKIO_DRIVER=io_uring"
  set +e
  ZOKIO_DRIVER=io_uring "$deny" "$denial" target/release/zbench run sched.io_ops --quick \
    --no-report --out "$out/$denial-uring" >/dev/null 2>"$out/err"
  rc=$?
  set -e
  cat "$out/err"
  [ "$rc" = 1 ] || { echo "no-io-uring: exit $rc, expected 1" >&2; exit 1; }
  [ "$(wc -l <"$out/err")" = 1 ] || { echo "no-io-uring: expected one line" >&2; exit 1; }
  grep -q io_uring "$out/err" || { echo "no-io-uring: the error does not name io_uring" >&2; exit 1; }
  [ ! -e "$out/$denial-uring/results.json" ] || { echo "no-io-uring: a result file was written" >&2; exit 1; }
done
echo "no-io-uring: every zokio test passed on the epoll fallback under ENOSYS and EPERM"
