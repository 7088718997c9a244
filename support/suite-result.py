#!/usr/bin/env python3
"""suite-result.py: one suite's line for support/check.sh.

    support/suite-result.py NAME EXIT_STATUS LOG [--step]

Reads the counts from the last summary line of LOG -- pytest's ("3
passed, 1 skipped in 2.0s", failures and errors both count as failed) or
ours ("unit: 144 passed, 0 failed") -- and prints

    NAME: N passed, N failed[, N skipped][  (why)]

exiting 0 when the suite passed.  A suite passes only when it exited 0
and ran something: exit 0 with nothing passed ("ran no test"), or a
non-zero exit with no failure counted (a crash, a make error, pytest's
5 for "no tests collected") is one failure.  --step marks a command
that is not a test suite (the build, `make size`): it counts as one
passed or one failed by its exit status.
"""
import re
import sys

COUNT = re.compile(r"(\d+) (passed|failed|errors?|skipped)\b")
SUMMARY = re.compile(r"\b\d+ (passed|failed|errors?|skipped|deselected)\b")


def counts(text):
    """{passed, failed, skipped} from the last summary line, or None."""
    last = None
    for line in text.splitlines():
        if SUMMARY.search(line):
            last = line
    if last is None:
        return None
    c = {"passed": 0, "failed": 0, "skipped": 0}
    for n, what in COUNT.findall(last):
        c["failed" if what.startswith("error") else what] += int(n)
    return c


def result(name, rc, text, step=False):
    """-> (line, ok)"""
    c = counts(text)
    why = ""
    if step:
        c = {"passed": int(rc == 0), "failed": int(rc != 0), "skipped": 0}
    elif c is None:
        c = {"passed": 0, "failed": 1, "skipped": 0}
        why = "ran no test" if rc == 0 else "exited %d with no test summary" % rc
    elif rc != 0 and c["failed"] == 0:
        c["failed"] = 1
        why = "exited %d though no test failed" % rc
    elif rc == 0 and c["passed"] == 0:
        c["failed"] = 1
        why = "ran no test"
    line = "%s: %d passed, %d failed" % (name, c["passed"], c["failed"])
    if c["skipped"]:
        line += ", %d skipped" % c["skipped"]
    if why:
        line += "  (%s)" % why
    return line, c["failed"] == 0


def main(argv):
    if len(argv) not in (4, 5) or (len(argv) == 5 and argv[4] != "--step"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        with open(argv[3], errors="replace") as f:
            text = f.read()
    except OSError:
        text = ""
    line, ok = result(argv[1], int(argv[2]), text, len(argv) == 5)
    print(line)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
