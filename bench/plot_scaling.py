#!/usr/bin/env python3
"""Plots bench_scaling's rows as an SVG (stdlib only).

    build-bench/bench/bench_scaling > scaling.md
    python3 bench/plot_scaling.py scaling.md docs/scaling.svg

Left: ms per training step against the parameter count (log-log). Right: samples per ms
against the batch size (log-log)."""
import math
import re
import sys


def rows(path):
    params, batch = [], []
    for line in open(path, encoding="utf-8"):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 7 or cells[0] != "scaling":
            continue
        ms = float(cells[2])
        if cells[1].startswith("params sweep"):
            n = int(re.search(r"(\d+) parameters", cells[6]).group(1))
            params.append((n, ms))
        elif cells[1].startswith("batch sweep"):
            b = int(re.search(r" b(\d+)", cells[1]).group(1))
            batch.append((b, b / ms))
    return params, batch


def panel(points, x0, title, xlabel, ylabel, w=360, h=260, pad=50):
    if not points:
        return ""
    lx = [math.log10(x) for x, _ in points]
    ly = [math.log10(y) for _, y in points]
    xmin, xmax = math.floor(min(lx)), math.ceil(max(lx))
    ymin, ymax = math.floor(min(ly)), math.ceil(max(ly))
    xmax, ymax = max(xmax, xmin + 1), max(ymax, ymin + 1)

    def sx(v):
        return x0 + pad + (v - xmin) / (xmax - xmin) * (w - 2 * pad)

    def sy(v):
        return h - pad + 20 - (v - ymin) / (ymax - ymin) * (h - 2 * pad)

    out = [f'<text x="{x0 + w / 2}" y="18" text-anchor="middle" font-weight="bold">{title}</text>']
    for d in range(xmin, xmax + 1):
        out.append(f'<line x1="{sx(d)}" y1="{sy(ymin)}" x2="{sx(d)}" y2="{sy(ymax)}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(d)}" y="{sy(ymin) + 16}" text-anchor="middle">1e{d}</text>')
    for d in range(ymin, ymax + 1):
        out.append(f'<line x1="{sx(xmin)}" y1="{sy(d)}" x2="{sx(xmax)}" y2="{sy(d)}" stroke="#ddd"/>')
        out.append(f'<text x="{sx(xmin) - 6}" y="{sy(d) + 4}" text-anchor="end">1e{d}</text>')
    path = " ".join(f"{sx(a):.1f},{sy(b):.1f}" for a, b in zip(lx, ly))
    out.append(f'<polyline points="{path}" fill="none" stroke="#1f77b4" stroke-width="2"/>')
    for a, b in zip(lx, ly):
        out.append(f'<circle cx="{sx(a):.1f}" cy="{sy(b):.1f}" r="3" fill="#1f77b4"/>')
    out.append(f'<text x="{x0 + w / 2}" y="{h + 10}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text x="{x0 + 12}" y="{h / 2}" transform="rotate(-90 {x0 + 12} {h / 2})" '
               f'text-anchor="middle">{ylabel}</text>')
    return "\n".join(out)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    params, batch = rows(sys.argv[1])
    if not params and not batch:
        sys.exit(f"{sys.argv[1]}: no bench_scaling rows")
    svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="740" height="290" '
           'font-family="sans-serif" font-size="11">',
           '<rect width="100%" height="100%" fill="white"/>',
           panel(params, 0, "Training step vs parameters (batch 128)", "parameters", "ms / step"),
           panel(batch, 380, "Throughput vs batch (784-512-512-10)", "batch size", "samples / ms"),
           "</svg>"]
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
