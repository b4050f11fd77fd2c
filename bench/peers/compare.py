#!/usr/bin/env python3
"""Joins lumen's and torch's ROW lines (same op, shape, dtype) into one table:
op, shape, dtype, lumen ms, torch ms, ratio (torch/lumen: > 1 means lumen is
faster), and lumen's achieved GB/s or TFLOP/s.

    python3 compare.py lumen.txt torch.txt
"""
import sys


def read(path):
    rows = {}
    order = []
    for line in open(path):
        if not line.startswith("ROW|"):
            continue
        _, group, op, shape, dtype, ms, nbytes, flops = line.strip().split("|")
        key = (group, op, shape, dtype)
        rows[key] = (float(ms), int(float(nbytes)), int(float(flops)))  # either side may print floats
        order.append(key)
    return rows, order


def main():
    lumen, order = read(sys.argv[1])
    torch, torder = read(sys.argv[2])
    for k in torder:
        if k not in lumen:
            order.append(k)
    print(f"{'op':<18}{'shape':<22}{'dtype':<7}{'lumen ms':>10}{'torch ms':>10}{'ratio':>8}  lumen rate")
    for key in order:
        group, op, shape, dtype = key
        l = lumen.get(key)
        t = torch.get(key)
        lms = f"{l[0]:.3f}" if l else "-"
        tms = f"{t[0]:.3f}" if t else "-"
        ratio = f"{t[0] / l[0]:.2f}" if l and t and l[0] > 0 else "-"
        rate = ""
        if l and l[0] > 0:
            if l[2]:
                rate = f"{l[2] / l[0] / 1e9:.1f} TFLOP/s"
            elif l[1]:
                rate = f"{l[1] / l[0] / 1e6:.0f} GB/s"
        print(f"{op:<18}{shape:<22}{dtype:<7}{lms:>10}{tms:>10}{ratio:>8}  {rate}")


if __name__ == "__main__":
    main()
