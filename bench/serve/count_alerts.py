"""How many of the first N residents have an alert in force."""
import http.client
import json
import sys
from urllib.parse import urlparse

base, keys_file, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
url = urlparse(base)
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
with_alert = 0
for key in open(keys_file).read().splitlines()[:sample]:
    conn.request("GET", "/api/v1/me/alerts", headers={"Authorization": f"Bearer {key}"})
    response = conn.getresponse()
    body = json.loads(response.read())
    with_alert += bool(body.get("alerts"))
print(with_alert)
