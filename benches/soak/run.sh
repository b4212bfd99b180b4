#!/usr/bin/env bash
# Soak knockon on the real history pinned in benches/soak/repos.json: clone each repository
# (bare, from $KNOCKON_MIRRORS/<owner>+<name>/repo when present, else from GitHub), pin its HEAD
# to the planned commit, and run ../shared/soak/soak.py over its last $COMMITS commits with the
# planned context repositories. Every JSON is kept under $OUT for reading and judging.
#
#   benches/soak/run.sh                     # build release, soak 40 commits per repository
#   COMMITS=10 ONLY=pi-gen benches/soak/run.sh
#
# Environment: SOAK_DIR (clones, default ./target/soak), OUT (default $SOAK_DIR/out), COMMITS
# (default 40), ONLY (one repository name), SOAK_PY (default ../shared/soak/soak.py),
# KNOCKON_MIRRORS (local mirrors), TIMEOUT (seconds per check, default 120), KNOCKON_BIN (a
# prebuilt binary instead of building this tree).
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
plan_src=benches/soak/repos.json
soak_dir=${SOAK_DIR:-$root/target/soak}
out=${OUT:-$soak_dir/out}
commits=${COMMITS:-40}
soak_py=${SOAK_PY:-$root/../shared/soak/soak.py}
mirrors=${KNOCKON_MIRRORS:-/work/.mirror}

[[ -f $soak_py ]] || { echo "soak: $soak_py not found (set SOAK_PY)" >&2; exit 2; }
bin=${KNOCKON_BIN:-}
if [[ -z $bin ]]; then
    cargo build --release --locked -q
    bin=target/release/knockon
fi
mkdir -p "$soak_dir/repos" "$out"

# Clone and pin every repository the plan names (as a subject or as context).
python3 - "$plan_src" <<'EOF' | while read -r name github commit; do
import json, sys
for e in json.load(open(sys.argv[1])):
    print(e["name"], e["github"], e["commit"])
EOF
    dest=$soak_dir/repos/$name
    if [[ ! -d $dest ]]; then
        src=https://github.com/$github
        mirror=$mirrors/${github/\//+}/repo
        [[ -d $mirror ]] && src=$mirror
        echo "soak: cloning $name from $src" >&2
        git clone -q --bare "$src" "$dest"
    fi
    if ! git --git-dir="$dest" cat-file -e "$commit^{commit}" 2>/dev/null; then
        git --git-dir="$dest" fetch -q origin "$commit" || {
            echo "soak: $name: commit $commit not available" >&2; exit 2; }
    fi
    git --git-dir="$dest" update-ref --no-deref HEAD "$commit"
done

# The plan soak.py reads: local paths, context included.
python3 - "$plan_src" "$soak_dir" "${ONLY:-}" > "$soak_dir/plan.json" <<'EOF'
import json, sys
plan, soak_dir, only = json.load(open(sys.argv[1])), sys.argv[2], sys.argv[3]
print(json.dumps([
    {"repo": f"{soak_dir}/repos/{e['name']}",
     "context": [f"{soak_dir}/repos/{c}" for c in e.get("context", [])]}
    for e in plan if not only or e["name"] == only], indent=1))
EOF

exec python3 "$soak_py" --bin "$bin" --plan "$soak_dir/plan.json" \
    --commits "$commits" --timeout "${TIMEOUT:-120}" --out "$out"
