"""Reads wrk --latency reports and prints one line per route with the
floors of the issue: requests/s and p99, non-2xx responses."""
import re
import sys

FLOORS = {"my alerts": (20000, 20.0), "subscribe": (2000, 50.0)}


def millis(text):
    value, unit = re.match(r"([\d.]+)(us|ms|s)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


ok = True
for name, path in zip(FLOORS, sys.argv[1:]):
    report = open(path).read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))
    p50 = millis(re.search(r"50%\s+(\S+)", report).group(1))
    p99 = millis(re.search(r"99%\s+(\S+)", report).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    errors = re.search(r"Socket errors: (.*)", report)
    min_rps, max_p99 = FLOORS[name]
    verdict = "meets" if rps >= min_rps and p99 < max_p99 and not bad else "BELOW"
    ok &= verdict == "meets"
    print(f"{name}: {rps:,.0f} requests/s, p50 {p50:.2f} ms, p99 {p99:.2f} ms, "
          f"non-2xx {bad.group(1) if bad else 0}{', socket errors ' + errors.group(1) if errors else ''} "
          f"— {verdict} the floor ({min_rps:,} requests/s, p99 < {max_p99:.0f} ms)")
sys.exit(0 if ok else 1)
