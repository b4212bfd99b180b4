#!/usr/bin/env python3
"""Score knockon's JSON output against the expected sites of real incidents.

    score.py one INCIDENTS_JSON ID OUT_JSON SECONDS STATUS >> RESULTS_JSONL
        scores one incident, prints one human line on stderr and one JSON line on stdout
    score.py summary RESULTS_JSONL
        prints the totals

An expected site {repo, path, line} is found when some finding's `impacted` site has the same
repo and path and a line within TOLERANCE of the expected line. A finding is "extra" when its
impacted site matches no expected site of the incident.
"""

import json
import sys

TOLERANCE = 3


def site_matches(site, expected):
    if not isinstance(site, dict):
        return False
    if site.get("repo") != expected["repo"] or site.get("path") != expected["path"]:
        return False
    line = site.get("line")
    return isinstance(line, int) and abs(line - expected["line"]) <= TOLERANCE


def one(incidents_path, ident, out_path, seconds, status):
    incident = next(i for i in json.load(open(incidents_path)) if i["id"] == ident)
    expected = incident["expected"]
    findings, error = [], None
    if status != "ok":
        error = status
    else:
        try:
            findings = json.load(open(out_path)).get("findings", [])
        except (OSError, ValueError) as exc:
            error = f"unreadable output: {exc}"
    found = [e for e in expected if any(site_matches(f.get("impacted"), e) for f in findings)]
    extra = [f for f in findings if not any(site_matches(f.get("impacted"), e) for e in expected)]
    result = {
        "id": ident,
        "expected": len(expected),
        "found": len(found),
        "missed": [f"{e['repo']}/{e['path']}:{e['line']}" for e in expected if e not in found],
        "findings": len(findings),
        "extra": len(extra),
        "seconds": float(seconds),
        "error": error,
    }
    note = f"  ERROR: {error}" if error else ""
    print(
        f"{ident:34} found {len(found)}/{len(expected)}  extra {len(extra):3}  "
        f"{float(seconds):7.1f}s{note}",
        file=sys.stderr,
    )
    print(json.dumps(result))


def summary(results_path):
    rows = [json.loads(line) for line in open(results_path) if line.strip()]
    expected = sum(r["expected"] for r in rows)
    found = sum(r["found"] for r in rows)
    hit = sum(1 for r in rows if r["found"] > 0)
    extra = sum(r["extra"] for r in rows)
    errors = sum(1 for r in rows if r["error"])
    seconds = sum(r["seconds"] for r in rows)
    recall = found / expected if expected else 0.0
    print("")
    print(f"incidents run:                   {len(rows)} ({errors} with errors)")
    print(f"recall (expected sites found):   {found}/{expected} = {recall:.2f}")
    print(f"incidents with at least one hit: {hit}/{len(rows)}")
    print(f"extra findings (match nothing):  {extra}")
    print(f"total time:                      {seconds:.1f}s")


def main(argv):
    if len(argv) >= 2 and argv[1] == "one" and len(argv) == 7:
        one(*argv[2:])
    elif len(argv) == 3 and argv[1] == "summary":
        summary(argv[2])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
