#!/usr/bin/env bash
# Interleaved rounds over the peer benchmark's corpus: each round runs knockon's cold
# `who --no-cache '/**'` (one build, or two to compare), ast-grep with the 14 peer rules and the
# two-thread parse floor, back to back, and the ratios are taken per round. On a machine whose
# speed drifts within the hour (seen on three of the six machines measured so far), a ratio of
# runs made seconds apart moves far less than medians of separate runs, which is what the cold
# targets (at most 1.5x the floor, under ast-grep's wall time) are about.
#
#   usage: benches/rounds/run.sh CORPUS_DIR ROUNDS KNOCKON [KNOCKON_B]
#
# CORPUS_DIR is the corpus of ../shared/bench/README.md (one folder per repository). ast-grep
# and the floor are those ../shared/bench/peers.sh installs and builds (run it once first; the
# same VENV and WORK variables). Prints, per tool, the median wall time, CPU time and peak
# memory (GNU time), and per build the median and range of its per-round ratios.
set -euo pipefail
CORPUS=$(realpath "${1:?usage: run.sh CORPUS_DIR ROUNDS KNOCKON [KNOCKON_B]}")
ROUNDS=${2:?rounds}
A=$(realpath "${3:?a knockon binary}")
B=${4:+$(realpath "$4")}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
PEERS=$HERE/../shared/bench
VENV=${VENV:-${TMPDIR:-/tmp}/knockon-bench/venv}
WORK=${WORK:-${TMPDIR:-/tmp}/knockon-bench/peers-run}
AG=$VENV/bin/ast-grep
PF=$WORK/parsefloor-target/release/parsefloor
for tool in "$AG" "$PF"; do
  [ -x "$tool" ] || { echo "rounds: $tool is missing: run $PEERS/peers.sh once first" >&2; exit 2; }
done
mapfile -t dirs < <(cd "$CORPUS" && find . -mindepth 1 -maxdepth 1 -type d -not -name '.*' | sort)
times=$(mktemp)
trap 'rm -f "$times"' EXIT
# timed NAME CMD...: one timed run in the corpus. Every run must succeed: a ratio of a usage
# error (an older knockon without --no-cache or -q) would look like a very fast build.
timed() {
  local name=$1 errors
  shift
  errors=$(cd "$CORPUS" && /usr/bin/time -f "$name %e %U %S %M" -a -o "$times" "$@" 2>&1 > /dev/null) || {
    echo "rounds: $1 failed: $(head -1 <<< "$errors")" >&2
    exit 2
  }
}
for _ in $(seq "$ROUNDS"); do
  timed knockon "$A" who --no-cache -q '/**' "${dirs[@]}"
  [ -z "$B" ] || timed knockon_b "$B" who --no-cache -q '/**' "${dirs[@]}"
  timed ast-grep "$AG" scan -c "$PEERS/rules-astgrep/sgconfig.yml" .
  timed floor "$PF" knockon . 2
done
python3 - "$times" <<'PY'
import collections, statistics, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 5 and parts[0] in ("knockon", "knockon_b", "ast-grep", "floor"):
        runs[parts[0]].append((float(parts[1]), float(parts[2]) + float(parts[3]), int(parts[4]) / 1024))
med = statistics.median
for name, rows in runs.items():
    print(f"{name:<10} wall {med(r[0] for r in rows):5.2f} s ({min(r[0] for r in rows):.2f}-{max(r[0] for r in rows):.2f})"
          f"  cpu {med(r[1] for r in rows):5.2f} s  peak {med(r[2] for r in rows):6.1f} MiB  n={len(rows)}")
def ratios(name, over):
    per_round = [a[0] / b[0] for a, b in zip(runs[name], runs[over])]
    return f"{med(per_round):.3f} ({min(per_round):.2f}-{max(per_round):.2f})"
for name in ("knockon", "knockon_b"):
    if runs[name]:
        print(f"{name:<10} per round: / floor {ratios(name, 'floor')}, / ast-grep {ratios(name, 'ast-grep')}")
if runs["knockon_b"]:
    print(f"knockon_b / knockon per round: {ratios('knockon_b', 'knockon')}")
PY
