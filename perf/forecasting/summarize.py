#!/usr/bin/env python3
"""Summarises `lstmsimd backtest` outputs (run.sh OUTDIR) as a Markdown table: per series, the test MASE of each
LSTM-based method and of the baselines the targets name, and the verdict of the LSTM-based method with the lowest
validation MAE (chosen before the test) against every baseline, seasonal naive + drift and AutoETS.
Usage: summarize.py OUTDIR/*.txt"""
import re
import sys

CANDIDATES = ["LSTM", "LSTM, refitted", "global LSTM", "ES-RNN hybrid", "ES-RNN hybrid, multiplicative", "ETS + LSTM correction"]


def verdict(text):
    if " beats every baseline" in text:
        return "beats"
    if "does NOT beat" in text:
        return "loses to " + re.search(r"best baseline: (.+?) has MASE", text).group(1)
    return "tie (" + re.search(r"for the best baseline, (.+?);", text).group(1) + ")"


rows = []
seen = set()
for path in sys.argv[1:]:
    stem = path.rsplit("/", 1)[-1].removesuffix(".txt")
    series = None
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        m = re.match(r"== '(.+?)': rolling-origin backtest, (\d+) forecasts", line)
        if m:
            # A series run again with other options is told apart by its file's name.
            name = m.group(1) if m.group(1) not in seen else f"{m.group(1)}, {stem}"
            seen.add(m.group(1))
            series = {"name": name, "origins": m.group(2), "mase": {}, "verdict": {}}
            rows.append(series)
            continue
        if series is None:
            continue
        cells = [c.strip() for c in line.split("│")]
        if len(cells) == 7 and cells[1] not in ("method", ""):
            series["mase"][cells[1]] = cells[4]
        if line.startswith("lowest validation MAE"):
            series["chosen"] = re.search(r"each as trained on the training rows\): (.+?) [0-9.]+ \(", line).group(1)
            found = re.findall(r"(seasonal naive \+ drift \(\d+\)|drift|AutoETS: \S+) [0-9.]+ \((better|worse|a tie): p ([<=] [0-9.]+) better, p ([<=] [0-9.]+) worse\)", line)
            series["dm"] = {("AutoETS" if n.startswith("AutoETS") else "drift"): (v, better, worse) for n, v, better, worse in found}
        for name in CANDIDATES:
            if line.startswith(name + ": ") and ("beat" in line or "a tie" in line):
                series["verdict"][name] = verdict(line)


def dm(series, rival):
    """The validation-chosen LSTM-based method against a rival: 'better (p < 0.001)', 'worse (p = 0.02)' or 'tie (p = 0.4)'."""
    if rival not in series.get("dm", {}):
        return "—"
    v, better, worse = series["dm"][rival]
    return {"better": f"better (p {better})", "worse": f"worse (p {worse})", "a tie": f"tie (p {better} better, p {worse} worse)"}[v]


def baseline(series, prefix):
    return next((v for k, v in series["mase"].items() if k.startswith(prefix)), "—")


print("| series (test origins) | " + " | ".join(CANDIDATES) + " | seasonal naive + drift | AutoETS | chosen by validation MAE: verdict against every baseline | against seasonal naive + drift | against AutoETS |")
print("|---|" + "---|" * (len(CANDIDATES) + 5))
for s in rows:
    best = s["chosen"]
    drift = baseline(s, "seasonal naive + drift") if baseline(s, "seasonal naive + drift") != "—" else baseline(s, "drift")
    print(f"| {s['name']} ({s['origins']}) | " + " | ".join(s["mase"].get(c, "—") for c in CANDIDATES)
          + f" | {drift} | {baseline(s, 'AutoETS')} | {best}: {s['verdict'][best]} | {dm(s, 'drift')} | {dm(s, 'AutoETS')} |")
