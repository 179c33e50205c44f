"""Expected chrF and BLEU for TranslationMetricsTests, written from the metrics' definitions (not from LstmSimd's code).

chrF: sacreBLEU 2.x CHRF() defaults -- character n-grams of orders 1..6 with whitespace removed, statistics summed over
the corpus, a hypothesis n-gram count kept only when the reference has n-grams of that order, precision and recall
averaged over the orders with n-grams on both sides, F-beta with beta = 2.
BLEU: Papineni et al. corpus BLEU-4 (sacreBLEU with tokenize='none', smooth_method='none'): clipped n-gram precisions
summed over the corpus, geometric mean, brevity penalty exp(1 - r/c) when c < r.

Run: /usr/bin/python3 tests/LstmSimd.Tests/Golden/make_translation_metrics_golden.py > tests/LstmSimd.Tests/Golden/translation/metrics.txt
"""
import math
from collections import Counter

CASES = {
    "one_sentence": (["Datei öffnen"], ["Datei öffnen …"]),
    "corpus": (["Die Datei wurde nicht gefunden", "Speichern unter", "Hilfe", "Fenster schließen"],
               ["Datei nicht gefunden", "Speichern unter …", "Hilfe", "Das Fenster schließen"]),
    "wrong_order": (["gefunden nicht Datei die"], ["die Datei nicht gefunden"]),
    "brevity": (["das ist ein kleiner Test der Datei", "bitte warten Sie hier kurz"],
                ["das ist ein kleiner Test der neuen Datei", "bitte warten Sie hier noch kurz bis fertig"]),
    "longer_hypothesis": (["a b c d e f g h", "x y z w"], ["a b c d e f", "x y z w"]),
}


def chrf(hyps, refs, order=6, beta=2):
    stats = [[0, 0, 0] for _ in range(order)]
    for h, r in zip(hyps, refs):
        h = "".join(h.split())
        r = "".join(r.split())
        for n in range(1, order + 1):
            hc = Counter(h[i:i + n] for i in range(len(h) - n + 1))
            rc = Counter(r[i:i + n] for i in range(len(r) - n + 1))
            match = sum(min(c, rc[g]) for g, c in hc.items())
            stats[n - 1][0] += sum(hc.values()) if rc else 0
            stats[n - 1][1] += sum(rc.values())
            stats[n - 1][2] += match
    prec = rec = 0.0
    eff = 0
    for nh, nr, nm in stats:
        if nh > 0 and nr > 0:
            prec += nm / nh
            rec += nm / nr
            eff += 1
    if eff == 0:
        return 0.0
    prec /= eff
    rec /= eff
    f = beta * beta
    return 0.0 if prec + rec == 0 else 100 * (1 + f) * prec * rec / (f * prec + rec)


def bleu(hyps, refs, order=4):
    matches = [0] * order
    totals = [0] * order
    c = r = 0
    for h, ref in zip(hyps, refs):
        h, ref = h.split(), ref.split()
        c += len(h)
        r += len(ref)
        for n in range(1, order + 1):
            hc = Counter(tuple(h[i:i + n]) for i in range(len(h) - n + 1))
            rc = Counter(tuple(ref[i:i + n]) for i in range(len(ref) - n + 1))
            matches[n - 1] += sum(min(k, rc[g]) for g, k in hc.items())
            totals[n - 1] += sum(hc.values())
    if c == 0 or min(matches) == 0:
        return 0.0
    log_p = sum(math.log(m / t) for m, t in zip(matches, totals)) / order
    bp = 1.0 if c >= r else math.exp(1 - r / c)
    return 100 * bp * math.exp(log_p)


for name, (hyps, refs) in CASES.items():
    print(f"{name} chrF {chrf(hyps, refs)!r} BLEU {bleu(hyps, refs)!r}")
