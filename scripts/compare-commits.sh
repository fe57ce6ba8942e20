#!/usr/bin/env bash
# Builds two commits of this repository, runs zbench on each, and compares the results.
#
#   scripts/compare-commits.sh BASE NEW [zbench arguments...]
#
# BASE and NEW are anything `git rev-parse` understands (main, HEAD~3, a SHA). The zbench
# arguments default to `all --quick`; `--out` is added per side. The comparison uses the
# default ratio metric (zokio/Tokio in the same run) and NEW's zbench; set COMPARE_ARGS for
# more (e.g. COMPARE_ARGS="--threshold 3% --format markdown"). The runs happen one after the
# other on this machine, so the ratio is what to trust.
#
# Exit code: zbench compare's (0 no regression, 3 regression, 1 or 2 errors).
set -euo pipefail

if [ $# -lt 2 ]; then
  echo "usage: $0 BASE NEW [zbench arguments...]" >&2
  exit 2
fi
base_rev=$1
new_rev=$2
shift 2
if [ $# -eq 0 ]; then
  set -- all --quick
fi

repo=$(git -C "$(dirname "$0")" rev-parse --show-toplevel)
base_sha=$(git -C "$repo" rev-parse --verify "$base_rev^{commit}")
new_sha=$(git -C "$repo" rev-parse --verify "$new_rev^{commit}")
work=$(mktemp -d "${TMPDIR:-/tmp}/zbench-compare.XXXXXX")
cleanup() {
  git -C "$repo" worktree remove --force "$work/base" >/dev/null 2>&1 || true
  git -C "$repo" worktree remove --force "$work/new" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

# One target directory for both sides, so the second build is incremental (ZBENCH_TARGET_DIR
# reuses an existing one).
export CARGO_TARGET_DIR="${ZBENCH_TARGET_DIR:-$work/target}"
for side in base new; do
  sha_var="${side}_sha"
  sha=${!sha_var}
  echo "== $side: $(git -C "$repo" log -1 --format='%h %s' "$sha")" >&2
  git -C "$repo" worktree add --detach --quiet "$work/$side" "$sha"
  (cd "$work/$side" && cargo build --release --quiet --bin zbench)
  cp "$CARGO_TARGET_DIR/release/zbench" "$work/zbench-$side"
done

for side in base new; do
  echo "== running zbench $* on $side" >&2
  (cd "$work/$side" && "$work/zbench-$side" "$@" --out "$work/out-$side" >/dev/null)
done

set +e
# shellcheck disable=SC2086 # COMPARE_ARGS is a list of flags on purpose
"$work/zbench-new" compare "$work/out-base/results.json" "$work/out-new/results.json" ${COMPARE_ARGS:-}
code=$?
set -e
exit "$code"
