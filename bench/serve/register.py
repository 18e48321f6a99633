"""Registers N residents through the API (8 connections in parallel) and
prints each one's device key, one per line."""
import http.client
import json
import sys
import threading
from urllib.parse import urlparse

base, count, addresses_file = sys.argv[1], int(sys.argv[2]), sys.argv[3]
url = urlparse(base)
addresses = [a for a in open(addresses_file, encoding="utf-8").read().splitlines() if a]
locales = ["zh-TW", "en", "ja", "ko", "th", "vi", "fil", "id"]
keys = [None] * count
failures = []


def worker(start, step):
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    for i in range(start, count, step):
        body = json.dumps({
            "locale": locales[i % len(locales)],
            "devices": [{"channel": "fcm", "address": f"bench-token-{i:08d}:APA91bHbenchmarktoken"}],
            "places": [{"label": "Home", "address": addresses[i % len(addresses)]}],
        })
        conn.request("POST", "/api/v1/subscribers", body, {"Content-Type": "application/json"})
        response = conn.getresponse()
        payload = response.read()
        if response.status != 201:
            failures.append((response.status, payload[:200]))
            continue
        keys[i] = json.loads(payload)["key"]


threads = [threading.Thread(target=worker, args=(k, 8)) for k in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
if failures:
    print(f"{len(failures)} registrations failed, first: {failures[0]}", file=sys.stderr)
    sys.exit(1)
for key in keys:
    print(key)
