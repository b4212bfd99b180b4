#!/usr/bin/env bash
# Runs knockon on real incidents from public git history (benches/incidents/incidents.json) and
# prints recall: for each incident, commit A's change is checked (base A^, head A) and the
# consumer that a later commit B had to fix must appear as an impacted site (same repo and path,
# line within 3).
#
#   benches/incidents/run.sh [ID]...      # all incidents, or only the given ids
#
# Repositories come from local mirrors only (bare git dirs at $KNOCKON_MIRRORS/<owner>+<name>/repo,
# default /work/.mirror); an incident whose mirror is absent is skipped. No network access.
# KNOCKON_BIN=/path/to/knockon uses that binary instead of building this tree.
# Outputs (knockon's JSON, stderr, scores) are kept under target/incidents/out/.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
mirrors=${KNOCKON_MIRRORS:-/work/.mirror}
work=$root/target/incidents
out=$work/out
incidents=$here/incidents.json
results=$out/results.jsonl

mkdir -p "$out" "$work/repos" "$work/ctx"
: >"$results"

if [[ -n "${KNOCKON_BIN:-}" ]]; then
  knockon=$KNOCKON_BIN # a prebuilt binary (e.g. of another revision); no build
else
  (cd "$root" && cargo build --release --locked -q)
  knockon=$root/target/release/knockon
fi

# One tab-separated line per incident: id, github, commit, then context "github@commit" words.
mapfile -t rows < <(python3 - "$incidents" "$@" <<'EOF'
import json, sys
wanted = set(sys.argv[2:])
for i in json.load(open(sys.argv[1])):
    if wanted and i["id"] not in wanted:
        continue
    ctx = " ".join(f"{c['github']}@{c['commit']}" for c in i.get("context", []))
    print("\t".join([i["id"], i["github"], i["commit"], ctx]))
EOF
)

# bare_clone GITHUB DEST: a bare clone of the mirror of GITHUB at DEST (reused when present).
bare_clone() {
  local mirror=$mirrors/${1/\//+}/repo dest=$2
  [[ -d "$mirror" ]] || return 1
  if [[ ! -d "$dest" ]]; then
    mkdir -p "$(dirname "$dest")"
    git clone --quiet --bare "$mirror" "$dest" >/dev/null 2>&1 || { rm -rf "$dest"; return 1; }
  fi
}

echo "$knockon on ${#rows[@]} incidents"
for row in "${rows[@]}"; do
  IFS=$'\t' read -r id github commit ctx <<<"$row"
  name=${github#*/}
  repo=$work/repos/${github/\//+}/$name
  if ! bare_clone "$github" "$repo"; then
    echo "$id: mirror absent ($mirrors/${github/\//+}/repo), skipped"
    continue
  fi
  if ! git --git-dir="$repo" cat-file -e "$commit^{commit}" 2>/dev/null; then
    echo "$id: commit $commit not in the mirror of $github, skipped"
    continue
  fi
  contexts=()
  skip=
  for c in $ctx; do
    cgh=${c%@*} ccommit=${c#*@}
    cdir=$work/ctx/$id/${cgh#*/}
    if ! bare_clone "$cgh" "$cdir"; then
      echo "$id: mirror absent for context $cgh, skipped"
      skip=1
      break
    fi
    git --git-dir="$cdir" update-ref --no-deref HEAD "$ccommit"
    contexts+=(--context "$cdir")
  done
  [[ -z "$skip" ]] || continue

  json=$out/$id.json
  start=$(date +%s.%N)
  status=ok
  rc=0
  timeout 900 "$knockon" check --repo "$repo" --base "$commit^" --head "$commit" "${contexts[@]}" \
    --format json --fail-on never >"$json" 2>"$out/$id.stderr" || rc=$?
  end=$(date +%s.%N)
  if [[ $rc -eq 124 ]]; then
    status="timeout"
  elif [[ $rc -ne 0 ]]; then
    status="exit $rc: $(head -c 200 "$out/$id.stderr" | tr '\n' ' ')"
  fi
  seconds=$(python3 -c "print(f'{$end - $start:.2f}')")
  python3 "$here/score.py" one "$incidents" "$id" "$json" "$seconds" "$status" >>"$results"
done

python3 "$here/score.py" summary "$results"
