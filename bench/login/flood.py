#!/usr/bin/env python3
"""Fires ROUNDS rounds of CONCURRENCY simultaneous wrong staff logins at a
running `hazardline serve` and prints its resident memory (VmRSS of PID)
idle, after each round and at the end, plus the status counts.

Usage: flood.py BASE_URL PID USERNAME [ROUNDS] [CONCURRENCY] [PASSWORD]

Each attempt comes from its own made-up client address (X-Forwarded-For;
the service must run with trust_forwarded = true), so the per-address
limit does not stop the flood before it reaches the password workers.
With PASSWORD given, one login with it (from an address of its own,
carrying the device cookie of an earlier login) is made in the middle of
every round and its status and latency are printed.
"""

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import Counter


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise SystemExit(f"no VmRSS for pid {pid}")


def login(base, username, password, address, cookie=None):
    body = json.dumps({"username": username, "password": password}).encode()
    request = urllib.request.Request(
        f"{base}/api/v1/auth/login",
        data=body,
        headers={"content-type": "application/json", "x-forwarded-for": address},
    )
    if cookie:
        request.add_header("cookie", cookie)
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, response.headers.get_all("set-cookie") or []
    except urllib.error.HTTPError as error:
        return error.code, []
    except OSError:
        return "error", []


def main():
    base, pid, username = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    rounds = int(sys.argv[4]) if len(sys.argv) > 4 else 5
    concurrency = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    password = sys.argv[6] if len(sys.argv) > 6 else None

    device = None
    if password:
        status, cookies = login(base, username, password, "198.51.100.1")
        device = next(
            (c.split(";")[0] for c in cookies if c.startswith("hazardline_device_")),
            None,
        )
        print(f"owner's first login: {status}, device cookie: {bool(device)}")

    idle = rss_mib(pid)
    print(f"idle VmRSS: {idle:.1f} MiB")
    peak = idle
    for r in range(rounds):
        statuses = Counter()
        lock = threading.Lock()
        start = threading.Barrier(concurrency + 1)

        def one(n):
            start.wait()
            address = f"10.{r}.{n // 250}.{n % 250 + 1}"
            status, _ = login(base, username, "wrong password, round %d" % r, address)
            with lock:
                statuses[status] += 1

        threads = [threading.Thread(target=one, args=(n,)) for n in range(concurrency)]
        for t in threads:
            t.start()
        start.wait()
        sampler_stop = threading.Event()

        def sample():
            nonlocal peak
            while not sampler_stop.is_set():
                peak = max(peak, rss_mib(pid))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        owner = ""
        if password:
            time.sleep(0.2)
            began = time.monotonic()
            status, _ = login(base, username, password, "198.51.100.1", device)
            owner = f", owner {status} in {time.monotonic() - began:.2f} s"
        for t in threads:
            t.join()
        sampler_stop.set()
        sampler.join()
        now = rss_mib(pid)
        print(
            f"round {r + 1}: {dict(sorted(statuses.items(), key=str))}{owner}; "
            f"VmRSS {now:.1f} MiB, peak so far {peak:.1f} MiB"
        )
    end = rss_mib(pid)
    print(
        f"summary: idle {idle:.1f} MiB, peak {peak:.1f} MiB (+{peak - idle:.1f}), "
        f"end {end:.1f} MiB (+{end - idle:.1f})"
    )


if __name__ == "__main__":
    main()
