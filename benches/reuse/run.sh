#!/usr/bin/env bash
# Checks that a warm chain of checks gives what the same checks give from an empty cache: for
# each named repository, its last N first-parent commits are checked one after another with one
# cache (each check's head world is the next one's base, so a new change's head may take the
# context's answers from it), and each check again with an empty cache. The reports must be
# identical, and so must every resolved world both caches hold (the rows that may differ are the
# load records, one per repository, which hold file times).
#
#   benches/reuse/run.sh REPOS CONTEXT N NAME...
#
# REPOS holds the git repositories (bare or not) named NAME; CONTEXT holds checkouts, each
# given as --context except the one named like the repository checked. Environment: KNOCKON
# (default target/release/knockon), OUT (default target/reuse).
set -euo pipefail
[[ $# -ge 4 ]] || { sed -n 2,13p "$0" >&2; exit 2; }
repos=$1 context=$2 n=$3; shift 3
bin=${KNOCKON:-target/release/knockon}
out=${OUT:-target/reuse}
mkdir -p "$out"
command -v sqlite3 >/dev/null || { echo "reuse: sqlite3 not found" >&2; exit 2; }
status=0
for name in "$@"; do
    repo=$repos/$name
    ctx=()
    for dir in "$context"/*/; do
        [[ $(basename "$dir") == "$name" ]] || ctx+=(--context "$dir")
    done
    mapfile -t commits < <(git -C "$repo" rev-list --first-parent -n $((n + 1)) HEAD | tac)
    rm -rf "$out/warm-$name"
    for ((i = 1; i < ${#commits[@]}; i++)); do
        base=${commits[$((i - 1))]} head=${commits[$i]}
        check=("$bin" check --quiet --format json --fail-on never --repo "$repo" "${ctx[@]}" --base "$base" --head "$head")
        KNOCKON_TIMINGS=1 "${check[@]}" --cache "$out/warm-$name" >"$out/$name-$i-warm.json" 2>"$out/$name-$i-warm.err"
        rm -rf "$out/empty"
        "${check[@]}" --cache "$out/empty" >"$out/$name-$i-empty.json" 2>/dev/null
        # Taken, resolved, or neither: a head world the cache already held (a change to files
        # no extractor reads) is read whole.
        answers=$(sed -n 's/.*context answers: //p' "$out/$name-$i-warm.err")
        answers=${answers:-"head world read whole"}
        report=same
        cmp -s "$out/$name-$i-warm.json" "$out/$name-$i-empty.json" || { report=DIFFERENT; status=1; }
        read -r common differing < <(sqlite3 -separator ' ' "$out/warm-$name/facts.sqlite3" \
            "attach '$out/empty/facts.sqlite3' as e; select count(*), coalesce(sum(a.data != b.data), 0) from facts a join e.facts b on a.key = b.key")
        echo "$name ${head:0:12} report=$report rows-in-both=$common differing=$differing context answers: $answers"
    done
done
exit $status
