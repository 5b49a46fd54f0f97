#!/usr/bin/env python3
"""Checks a fault's attempt log against the rows in the database (a file of `marker|count`)
and prints the figures; exits non-zero on any loss, double or bad answer."""
import json, sys

def main():
    log, rows_file, name = sys.argv[1], sys.argv[2], sys.argv[3]
    outage = None
    if len(sys.argv) > 5:
        outage = (float(sys.argv[4]), float(sys.argv[5]))
    rows = {}
    for line in open(rows_file):
        line = line.strip()
        if line:
            m, n = line.rsplit("|", 1)
            rows[m] = int(n)
    attempts, finals = [], {}
    for line in open(log):
        r = json.loads(line)
        if "final" in r:
            finals[r["final"]] = r
        else:
            attempts.append(r)
    markers = {r["marker"] for r in attempts}
    ok = {m for m, f in finals.items() if f["status"] in (200, 201)}
    created = {r["marker"] for r in attempts if r["status"] == 201}
    lost = sorted(m for m in ok if rows.get(m, 0) == 0)
    twice = sorted(m for m, n in rows.items() if n > 1 and m in markers)
    bad = [r for r in attempts if r["status"] not in (200, 201, 503, 429, "refused", "error")]
    internals = [r for r in attempts if r.get("internals")]
    gave_up = [m for m, f in finals.items() if f["status"] == "gave_up"]
    s503 = [r for r in attempts if r["status"] == 503]
    no_retry_after = [r for r in s503 if not r.get("retry_after")]
    slow503 = [r for r in s503 if r["elapsed"] > 2.0]
    errors = [r for r in attempts if r["status"] == "error"]
    print(f"{name}: requests {len(markers)} (attempts {len(attempts)}), 201 {len(created)}, "
          f"answered {len(ok)}, rows found {sum(1 for m in markers if rows.get(m, 0) > 0)}, "
          f"lost {len(lost)}, stored twice {len(twice)}, 503 {len(s503)} "
          f"(max {max([r['elapsed'] for r in s503], default=0):.2f} s), resets/timeouts {len(errors)}, "
          f"refused {sum(1 for r in attempts if r['status'] == 'refused')}, other statuses {len(bad)}, gave up {len(gave_up)}")
    failures = []
    if lost: failures.append(f"lost: {lost[:5]}")
    if twice: failures.append(f"stored twice: {twice[:5]}")
    if bad: failures.append(f"unexpected answers: {[(r['status'], r.get('body', '')[:120]) for r in bad[:3]]}")
    if internals: failures.append(f"internals in a body: {internals[0].get('body')}")
    if gave_up: failures.append(f"{len(gave_up)} requests never answered")
    if no_retry_after: failures.append(f"{len(no_retry_after)} 503s without Retry-After")
    if slow503: failures.append(f"{len(slow503)} 503s took more than 2 s")
    if name.startswith("outage") and errors:
        failures.append(f"{len(errors)} resets or timeouts while the database was away")
    if name.startswith("sigterm"):
        term = float(sys.argv[4]) if len(sys.argv) > 4 else None
    for f in failures:
        print(f"  FAIL {f}")
    sys.exit(1 if failures else 0)

main()
