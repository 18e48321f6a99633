"""Addresses in the fictional demo region, one per line: door numbers along
the roads of the demo gazetteer (geodata/demo/gazetteer.csv). The geocoder
places a listed door exactly and an unlisted one on its village."""
import csv
import re
from pathlib import Path

gazetteer = Path(__file__).resolve().parents[2] / "geodata/demo/gazetteer.csv"
with gazetteer.open(encoding="utf-8") as f:
    rows = list(csv.DictReader(f))
for n in range(1, 201):
    for row in rows:
        # Keep everything up to the road; put our own door number on it.
        prefix = re.sub(r"\d+號(之\d+)?$", "", row["address"])
        print(f"{prefix}{n}號")
