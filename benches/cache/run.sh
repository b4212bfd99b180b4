#!/usr/bin/env bash
# Cold and warm runs over a real corpus: what the cache (file facts and whole-world resolutions)
# saves, for `who` over every folder and for a check of a 10-file change against the rest.
#   usage: benches/cache/run.sh CORPUS_DIR [CHANGED_FOLDER=nova] [RUNS=3]
#   KNOCKON=path/to/knockon (default: target/release/knockon, built if missing)
#   KNOCKON_BASELINE=path/to/another/knockon: the last row (a new change, warm) also alternates
#     the two builds RUNS times and prints the median of the per-pair ratios, which a noisy
#     machine's swing between minutes does not move as it moves medians of separate runs.
#   INSTRUCTIONS=1: also counts the instructions of the new change, warm, under valgrind's
#     callgrind (and the baseline's, with KNOCKON_BASELINE): on a machine whose timings swing by
#     half within the hour, a figure that moves only with the work done (a few per cent between
#     runs, as the thread pool's idle threads spin for longer or shorter). Needs valgrind.
# CORPUS_DIR is the corpus of ../shared/bench/README.md (one folder per repository). The changed
# folder is copied into a fresh git repository; two commits each edit 10 of its Python files
# (a function that writes a dated file is appended), so the check has a change to compare.
# Prints the median wall time, CPU time and peak memory of each step (GNU time).
set -euo pipefail
CORPUS=$(realpath "${1:?usage: run.sh CORPUS_DIR [CHANGED_FOLDER] [RUNS]}")
CHANGED=${2:-nova}
RUNS=${3:-3}
HERE=$(cd "$(dirname "$0")/../.." && pwd)
KNOCKON=${KNOCKON:-$HERE/target/release/knockon}
[ -x "$KNOCKON" ] || (cd "$HERE" && cargo build --release -q)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CACHE="$WORK/cache"

# The changed repository: the folder at base, then two 10-file changes.
cp -r "$CORPUS/$CHANGED" "$WORK/$CHANGED"
cd "$WORK/$CHANGED"
git init -q && git add -A && git -c user.name=bench -c user.email=bench@example.com commit -qm base
mapfile -t PY < <(git ls-files '*.py' | grep -v '/tests/' | head -20)
for round in 1 2; do
  for f in "${PY[@]:$(( (round - 1) * 10 )):10}"; do
    printf '\n\ndef knockon_bench_%s(day):\n    with open(f"/srv/bench/%s/{day}.csv", "w") as out:\n        out.write("x")\n' \
      "$round" "$round" >> "$f"
  done
  git -c user.name=bench -c user.email=bench@example.com commit -qam "change $round"
done
CONTEXT=()
for dir in "$CORPUS"/*/; do
  name=$(basename "$dir")
  [ "$name" = "$CHANGED" ] || CONTEXT+=(--context "$dir")
done
WHO=("$KNOCKON" who '/**')
for dir in "$CORPUS"/*/; do WHO+=("$dir"); done
CHECK=("$KNOCKON" check --quiet --repo "$WORK/$CHANGED" "${CONTEXT[@]}")
FIRST=(--base HEAD~2 --head HEAD~1)
SECOND=(--base HEAD~1 --head HEAD)

# measure NAME PREPARE CMD...: PREPARE runs before each timed run (untimed).
measure() {
  local name=$1 prepare=$2; shift 2
  local times="$WORK/times"; : > "$times"
  for _ in $(seq "$RUNS"); do
    eval "$prepare"
    /usr/bin/time -f '%e %U %S %M' -a -o "$times" "$@" > /dev/null 2>&1 || true
  done
  python3 - "$name" "$times" <<'PY'
import statistics, sys
# GNU time adds "Command exited with non-zero status 1" when a check has findings.
rows = [list(map(float, l.split())) for l in open(sys.argv[2]) if l[:1].isdigit()]
w = [r[0] for r in rows]; c = [r[1] + r[2] for r in rows]; m = [r[3] / 1024 for r in rows]
med = statistics.median
print(f"{sys.argv[1]:<44} wall {med(w):6.2f} s (min {min(w):.2f})  cpu {med(c):6.2f} s  peak {med(m):6.0f} MiB  n={len(rows)}")
PY
}

echo "knockon: $("$KNOCKON" --version)  corpus: $CORPUS  changed: $CHANGED"
clear_cache='rm -rf "$CACHE"'
measure "who, no cache" ":" "${WHO[@]}" --no-cache
measure "who, empty cache (cold, writing it)" "$clear_cache" "${WHO[@]}" --cache "$CACHE"
measure "who, warm (nothing changed)" ":" "${WHO[@]}" --cache "$CACHE"
measure "check of 10 files, no cache" ":" "${CHECK[@]}" "${FIRST[@]}" --no-cache
measure "check of 10 files, empty cache" "$clear_cache" "${CHECK[@]}" "${FIRST[@]}" --cache "$CACHE"
measure "check of 10 files, warm (the same check again)" ":" "${CHECK[@]}" "${FIRST[@]}" --cache "$CACHE"
# Warm from the check of the first change; the second change is new to the cache each time.
warm_first='rm -rf "$CACHE"; "${CHECK[@]}" "${FIRST[@]}" --cache "$CACHE" > /dev/null 2>&1 || true'
measure "check of 10 other files, warm from the first" "$warm_first" "${CHECK[@]}" "${SECOND[@]}" --cache "$CACHE"

if [ -n "${KNOCKON_BASELINE:-}" ]; then
  # pairs: each pair warms the cache with the first check, then times the second with the
  # baseline and with knockon, in that order.
  pairs="$WORK/pairs"; : > "$pairs"
  BASE_CHECK=("$KNOCKON_BASELINE" "${CHECK[@]:1}")
  for _ in $(seq "$RUNS"); do
    for build in baseline knockon; do
      if [ "$build" = baseline ]; then run=("${BASE_CHECK[@]}"); else run=("${CHECK[@]}"); fi
      rm -rf "$CACHE"; "${run[@]}" "${FIRST[@]}" --cache "$CACHE" > /dev/null 2>&1 || true
      /usr/bin/time -f "$build %e %U %S %M" -a -o "$pairs" "${run[@]}" "${SECOND[@]}" --cache "$CACHE" > /dev/null 2>&1 || true
    done
  done
  python3 - "$pairs" "$KNOCKON_BASELINE" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.split()[:1] in (["baseline"], ["knockon"])]
runs = {b: [(float(r[1]), float(r[2]) + float(r[3]), int(r[4]) / 1024) for r in rows if r[0] == b]
        for b in ("baseline", "knockon")}
med = statistics.median
for b, label in (("baseline", f"baseline {sys.argv[2]}"), ("knockon", "knockon")):
    v = runs[b]
    print(f"new change, warm, {label:<27} wall {med(x[0] for x in v):6.3f} s (min {min(x[0] for x in v):.3f})  cpu {med(x[1] for x in v):6.3f} s  peak {med(x[2] for x in v):6.0f} MiB  n={len(v)}")
pairs = list(zip(runs["baseline"], runs["knockon"]))
print(f"knockon / baseline, per pair (median): wall {med(k[0] / b[0] for b, k in pairs):.3f}  cpu {med(k[1] / b[1] for b, k in pairs):.3f}")
PY
fi

if [ -n "${INSTRUCTIONS:-}" ]; then
  builds=(knockon)
  [ -n "${KNOCKON_BASELINE:-}" ] && builds=(baseline knockon)
  for build in "${builds[@]}"; do
    if [ "$build" = baseline ]; then run=("$KNOCKON_BASELINE" "${CHECK[@]:1}"); else run=("${CHECK[@]}"); fi
    rm -rf "$CACHE"; "${run[@]}" "${FIRST[@]}" --cache "$CACHE" > /dev/null 2>&1 || true
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.$build" \
      "${run[@]}" "${SECOND[@]}" --cache "$CACHE" > /dev/null 2> "$WORK/callgrind.$build.log" || true
    collected=$(sed -n 's/.*Collected : //p' "$WORK/callgrind.$build.log")
    printf 'new change, warm, %-9s instructions %s\n' "$build" "${collected:-? (see valgrind)}"
  done
fi
