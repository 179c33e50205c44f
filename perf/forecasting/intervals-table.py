#!/usr/bin/env python3
"""Collects the interval tables that `lstmsimd backtest` printed into one Markdown table.

Usage: intervals-table.py OUTPUT.txt ... (the files intervals.sh wrote). Reads the per-series sections ("== 'NAME'"),
the interval table under each (rows wrapped by the console are joined) and prints one row per series and method:
coverage, mean width, interval score and pinball loss, calibrated once and rolling, and whether each coverage lies
within 3 points of the nominal 80 % (intervals.sh runs at the default --level 0.8).
"""
import re
import sys

rows = []
for path in sys.argv[1:]:
    series, in_table, record = None, False, None
    for line in open(path, encoding="utf-8"):
        heading = re.match(r"== '([^']+)'", line)
        if heading:
            series = heading.group(1)
        if "prediction intervals, split conformal" in line:
            in_table = True
            continue
        if in_table and line.startswith("╰"):
            in_table = False
            continue
        if not in_table or not line.startswith("│"):
            continue
        cells = [c.strip() for c in line.strip().strip("│").split("│")]
        if cells[0] == "method":
            continue
        if cells[2]:  # a new row: once or rolling
            method = (record["method"] if record and not cells[0] else cells[0])
            if cells[1].startswith("calibrated") or cells[1] == "once":
                record = {"series": series, "method": method, "once": cells[2:6]}
                rows.append(record)
            else:
                record["rolling"] = cells[2:6]
        elif cells[0]:  # the method's name wrapped onto the next line
            record["method"] += " " + cells[0]

print("| series | method | once: cover % | width | interval score | pinball | rolling: cover % | width | interval score | pinball | within 3 points: once / rolling |")
print("|---|---|---|---|---|---|---|---|---|---|---|")
for r in rows:
    once, rolling = r["once"], r.get("rolling", ["—"] * 4)
    def meets(c):
        try:
            return "yes" if abs(float(c) - 80) <= 3 + 1e-9 else "no"
        except ValueError:
            return "—"
    print(f"| {r['series']} | {r['method']} | {' | '.join(once)} | {' | '.join(rolling)} | {meets(once[0])} / {meets(rolling[0])} |")
