#!/usr/bin/env python3
"""Counts doctest cases for tools/test.sh and .ci/run (stdlib only).

  ci_summary.py run LABEL TESTLOG [TALLY]   one build's cases, from meson-logs/testlog.json
  ci_summary.py add LABEL ok|fail TALLY     one extra case (an example, the installed package)
  ci_summary.py add-counts SUMMARY TALLY    the cells of tools/run_notebooks.py --summary-json
  ci_summary.py total TALLY                 the closing line `N passed, N failed`

Only `total` prints a line of the form `N passed, N failed`: CI reads the last such line, so
per-run lines use another wording. A test program that exits non-zero without a doctest failure
(a sanitizer report, a crash at teardown) or dies before doctest's summary counts as one failure.
"""
import json
import re
import sys

CASES = re.compile(r"\[doctest\] test cases:\s*\d+\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed"
                   r"\s*\|\s*(\d+) skipped")
GOOD = ("OK", "EXPECTEDFAIL")


def count_run(testlog):
    passed = failed = skipped = 0
    bad = []
    with open(testlog) as f:
        for line in f:
            if not line.strip():
                continue
            t = json.loads(line)
            m = CASES.search(t.get("stdout") or "")
            if m:
                p, fl, s = int(m[1]), int(m[2]), int(m[3])
                if t["result"] not in GOOD + ("SKIP",) and fl == 0:
                    fl = 1
                passed, failed, skipped = passed + p, failed + fl, skipped + s
            elif t["result"] in GOOD:
                passed += 1
            elif t["result"] == "SKIP":
                skipped += 1
            else:
                failed += 1
            if t["result"] not in GOOD + ("SKIP",):
                bad.append(f'{t["name"]} ({t["result"]})')
    return passed, failed, skipped, bad


def append(tally, passed, failed, label):
    with open(tally, "a") as f:
        f.write(f"{passed} {failed} {label}\n")


def main(argv):
    if len(argv) >= 3 and argv[0] == "run":
        label, testlog = argv[1], argv[2]
        passed, failed, skipped, bad = count_run(testlog)
        suites = sum(1 for line in open(testlog) if line.strip())
        print(f"[tests] {label}: {suites} suites; cases ok: {passed}, failing: {failed}, "
              f"skipped: {skipped}" + (f"; failing suites: {', '.join(bad)}" if bad else ""))
        if len(argv) >= 4:
            append(argv[3], passed, failed, label)
        return 0
    if len(argv) == 4 and argv[0] == "add" and argv[2] in ("ok", "fail"):
        ok = argv[2] == "ok"
        append(argv[3], int(ok), int(not ok), argv[1])
        return 0
    if len(argv) == 3 and argv[0] == "add-counts":
        with open(argv[1]) as f:
            counts = json.load(f)
        append(argv[2], int(counts["passed"]), int(counts["failed"]), "notebooks")
        return 0
    if len(argv) == 2 and argv[0] == "total":
        passed = failed = 0
        try:
            with open(argv[1]) as f:
                for line in f:
                    p, fl, _ = line.split(" ", 2)
                    passed, failed = passed + int(p), failed + int(fl)
        except FileNotFoundError:
            pass
        print(f"{passed} passed, {failed} failed")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
