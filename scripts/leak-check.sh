#!/usr/bin/env bash
# Leak and memory-error checks on zokio (see scripts/README.md).
#   scripts/leak-check.sh          valgrind memcheck over runtime/examples/spawn_abort_shutdown
#                                  and the TCP, oneshot and LocalSet tests
#   scripts/leak-check.sh --asan   also every zokio test binary under AddressSanitizer
#                                  (nightly; skipped with a message without one)
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null 2>&1; then
  echo "leak-check: valgrind is not installed (Debian: apt-get install valgrind)" >&2
  exit 1
fi
cargo build --release -p zokio --example spawn_abort_shutdown
# RUST_BACKTRACE=0: the example panics on purpose, and symbolising a backtrace fills std's
# caches with megabytes of "still reachable" memory that would drown the real signal.
# --fair-sched: valgrind runs one thread at a time; fair scheduling keeps workers moving.
ZOKIO_DRIVER=epoll RUST_BACKTRACE=0 valgrind --quiet --fair-sched=yes --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
  target/release/examples/spawn_abort_shutdown
# The TCP tests that drop in-flight reads and accepts, and the fd-leak test, under memcheck
# too: a cancelled operation must not touch freed memory. On the epoll driver only:
# valgrind cannot see the kernel fill an io_uring operation's buffer, so every byte a ring
# READ delivers would be reported as uninitialised. The io_uring paths are covered by the
# fd-leak counts, the checksummed file tests and `--asan`.
# The oneshot tests too: its two halves free their shared allocation without an Arc
# (whichever lets go last frees it), so a wrong free shows up here as a use-after-free. And
# the LocalSet tests: a local task and its set are freed by whichever thread drops the last
# reference, counted in two parts (task/local_task.rs).
cargo test --release -p zokio --test net_fd_leak --test net_tcp --test sync_oneshot \
  --test task_local --no-run
for t in net_fd_leak net_tcp sync_oneshot task_local; do
  bin=$(ls -t target/release/deps/${t}-* | grep -v '\.d$' | head -n 1)
  ZOKIO_TEST_DRIVERS=epoll ZOKIO_DRIVER=epoll RUST_BACKTRACE=0 \
    valgrind --quiet --fair-sched=yes --leak-check=full \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=1 \
    "$bin" --test-threads=1 -q
done
# Once more with the per-thread block cache off (`util::block_cache`): with it on, a freed
# oneshot allocation is kept for reuse, so valgrind would not see a use after the free.
RUSTFLAGS="--cfg zokio_no_block_cache" CARGO_TARGET_DIR=target/no-block-cache \
  cargo test --release -p zokio --test sync_oneshot --no-run
bin=$(ls -t target/no-block-cache/release/deps/sync_oneshot-* | grep -v '\.d$' | head -n 1)
ZOKIO_TEST_DRIVERS=epoll ZOKIO_DRIVER=epoll RUST_BACKTRACE=0 \
  valgrind --quiet --fair-sched=yes --leak-check=full \
  --errors-for-leak-kinds=definite,indirect --error-exitcode=1 "$bin" --test-threads=1 -q
echo "leak-check: valgrind found no leaks or memory errors"

if [ "${1:-}" = "--asan" ]; then
  if ! rustup toolchain list | grep -q nightly; then
    echo "leak-check: --asan needs a nightly toolchain; skipped" >&2
    exit 0
  fi
  # ZOKIO_TEST_UNDER_ASAN: tests of Rust's own allocator (rt_out_of_memory) step aside.
  ZOKIO_TEST_UNDER_ASAN=1 \
    RUSTFLAGS="-Zsanitizer=address --cfg zokio_no_block_cache" RUSTDOCFLAGS="-Zsanitizer=address" \
    cargo +nightly test -p zokio --target x86_64-unknown-linux-gnu \
    --target-dir target/asan --tests --no-fail-fast
  echo "leak-check: AddressSanitizer run passed"
fi
