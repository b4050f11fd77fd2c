#!/usr/bin/env python3
"""PyTorch side of the device bench: the same rows as bench/device_bench, timed
with CUDA events (warm-up, median of repeats), printed as
    ROW|group|op|shape|dtype|ms|bytes|flops
lines that bench/peers/compare.py joins with lumen's rows into one table.

    python3 torch_bench.py [group ...]      (default: every group)
"""
import sys

import torch

DT = {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}


def bench(fn, warmup=3, reps=10):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        a = torch.cuda.Event(enable_timing=True)
        b = torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def row(group, op, shape, dtype, ms, nbytes=0, flops=0):
    print(f"ROW|{group}|{op}|{shape}|{dtype}|{ms:.4f}|{nbytes}|{flops}", flush=True)


def rand(shape, dt):
    return torch.randn(shape, device="cuda", dtype=torch.float32).to(DT[dt])


def group_core():
    g = "core"
    n = (1 << 30) // 4  # 1 GiB of float32
    x = rand((n,), "fp32")
    y = torch.empty_like(x)
    row(g, "copy", "1GiB", "fp32", bench(lambda: y.copy_(x)), 2 * x.numel() * 4)
    del x, y
    a = rand((16384, 16384), "bf16")
    b = rand((16384, 16384), "bf16")
    c = torch.empty_like(a)
    row(g, "add", "16384x16384", "bf16", bench(lambda: torch.add(a, b, out=c)), 3 * a.numel() * 2)
    del a, b, c
    s = rand((512 << 20,), "bf16")
    row(g, "sum", "512M", "bf16", bench(lambda: s.sum()), s.numel() * 2)
    del s
    x = rand((32768, 4096), "bf16")
    row(g, "softmax", "32768x4096", "bf16", bench(lambda: torch.softmax(x, dim=-1)),
        2 * x.numel() * 2)
    del x
    for dt in ("bf16", "fp16"):
        for n in (4096, 8192):
            a = rand((n, n), dt)
            b = rand((n, n), dt)
            row(g, "matmul", f"{n}^3", dt, bench(lambda: a @ b), 3 * n * n * 2, 2 * n ** 3)
    torch.backends.cuda.matmul.allow_tf32 = False
    a = rand((4096, 4096), "fp32")
    b = rand((4096, 4096), "fp32")
    row(g, "matmul", "4096^3", "fp32", bench(lambda: a @ b), 3 * 4096 * 4096 * 4, 2 * 4096 ** 3)
    w = rand((28672, 8192), "fp16")
    v = rand((8192,), "fp16")
    row(g, "gemv", "28672x8192", "fp16", bench(lambda: w @ v), w.numel() * 2, 2 * w.numel())


def top_p_sample(x, t, p):
    """The usual sort-based top-p: sort, softmax, cumulative sum, mask the
    tokens past p (keeping the one that crosses it), renormalize, draw."""
    logits, order = torch.sort(x / t, dim=-1, descending=True)
    probs = torch.softmax(logits, dim=-1)
    past = torch.cumsum(probs, dim=-1) - probs >= p
    logits = logits.masked_fill(past, float("-inf"))
    pick = torch.multinomial(torch.softmax(logits, dim=-1), 1)
    return torch.gather(order, -1, pick)


def top_k_sample(x, t, k):
    values, order = torch.topk(x / t, k, dim=-1)
    pick = torch.multinomial(torch.softmax(values, dim=-1), 1)
    return torch.gather(order, -1, pick)


def group_sampling():
    g = "sampling"
    t = 0.7
    for rows, vocab in ((1, 128256), (32, 128256), (64, 262144)):
        shape = f"{rows}x{vocab}"
        x = rand((rows, vocab), "fp32")
        nbytes = x.numel() * 4
        row(g, "sample", shape, "fp32",
            bench(lambda: torch.multinomial(torch.softmax(x / t, dim=-1), 1)), nbytes)
        row(g, "sample_top_k", shape, "fp32", bench(lambda: top_k_sample(x, t, 50)), nbytes)
        row(g, "sample_top_p", shape, "fp32", bench(lambda: top_p_sample(x, t, 0.9)), nbytes)


GROUPS = {"core": group_core, "sampling": group_sampling}

if __name__ == "__main__":
    names = sys.argv[1:] or list(GROUPS)
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name()}", flush=True)
    for name in names:
        GROUPS[name]()
