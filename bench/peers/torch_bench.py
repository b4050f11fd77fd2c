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
    a1 = rand((1,), "fp32")
    b1 = rand((1,), "fp32")
    row(g, "add", "1", "fp32", bench(lambda: torch.add(a1, b1)), 3 * 4)
    row(g, "eval floor, 3-op graph", "1", "fp32", bench(lambda: torch.exp(a1 + b1) * a1), 3 * 4)
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


def group_random():
    """lumen's random rows: torch.rand, torch.randn and -log(-log(rand)).
    torch has no plain chain to time; its one timing stands for both of
    lumen's rows (op and op_plain), so compare.py joins each. PEAK lines:
    torch's peak allocated memory during one call over the output's bytes."""
    g = "random"
    shape = (16384, 16384)
    name = "16384x16384"
    gen = torch.Generator(device="cuda")
    gen.manual_seed(20261125)

    def gumbel(dt):
        return -torch.log(-torch.log(torch.rand(shape, device="cuda", dtype=DT[dt], generator=gen)))

    fns = []
    for dt in ("bf16", "fp32"):
        fns.append(("uniform", dt, lambda dt=dt: torch.rand(shape, device="cuda", dtype=DT[dt], generator=gen)))
        fns.append(("normal", dt, lambda dt=dt: torch.randn(shape, device="cuda", dtype=DT[dt], generator=gen)))
    fns.append(("gumbel", "bf16", lambda: gumbel("bf16")))
    for op, dt, fn in fns:
        nbytes = shape[0] * shape[1] * DT[dt].itemsize
        ms = bench(fn)
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = fn()
        torch.cuda.synchronize()
        ratio = (torch.cuda.max_memory_allocated() - base) / nbytes
        del out
        for name_op in (op, op + "_plain"):
            row(g, name_op, name, dt, ms, nbytes)
            print(f"PEAK|{g}|{name_op}|{name}|{dt}|{ratio:.4f}", flush=True)


def group_random_large():
    """The same large requests as lumen's random_large group, in torch."""
    gen = torch.Generator(device="cuda")
    gen.manual_seed(46341)
    for op, side, fn in (("uniform", 65536, torch.rand), ("normal", 46341, torch.randn)):
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = fn((side, side), device="cuda", dtype=torch.bfloat16, generator=gen)
        torch.cuda.synchronize()
        ratio = (torch.cuda.max_memory_allocated() - base) / (out.numel() * 2)
        sample = out.view(-1)[::9973].float()
        print(f"LARGE|{op}|{side}x{side}|bf16|{ratio:.4f}|{sample.mean().item():.5f}|"
              f"{sample.std().item():.5f}|-", flush=True)
        del out, sample


def group_index():
    g = "index"
    x = rand((16384, 16384), "fp32")
    y = torch.empty_like(x)
    row(g, "copy_transposed", "16384x16384", "fp32", bench(lambda: y.copy_(x.t())), 2 * x.numel() * 4)
    del x, y
    a = rand((8192, 16384), "fp32")
    b = rand((8192, 16384), "fp32")
    row(g, "concatenate", "8192x16384x2", "fp32", bench(lambda: torch.cat((a, b), dim=1)),
        2 * 2 * a.numel() * 4)
    del a, b
    vocab, dim, picks = 131072, 4096, 32768
    table = rand((vocab, dim), "bf16")
    idx = (torch.arange(picks, device="cuda", dtype=torch.int32) * 7919) % vocab
    row(g, "take_rows", f"{vocab}x{dim}[{picks}]", "bf16", bench(lambda: table.index_select(0, idx)),
        2 * picks * dim * 2)


def group_attention():
    g = "attention"
    F = torch.nn.functional
    rows = [(32, 32, 4096, 4096, 128, False, "B1H32L4096D128"),
            (32, 32, 8192, 8192, 128, True, "B1H32L8192D128causal"),
            (32, 32, 8192, 8192, 64, False, "B1H32L8192D64"),
            (32, 32, 4096, 4096, 256, False, "B1H32L4096D256"),
            (32, 8, 1, 32768, 128, False, "decodeB1H32/8KV32768D128")]
    for hq, hkv, lq, lk, d, causal, name in rows:
        q = rand((1, hq, lq, d), "bf16")
        k = rand((1, hkv, lk, d), "bf16")
        v = rand((1, hkv, lk, d), "bf16")
        flops = 4 * hq * lq * lk * d * (0.5 if causal else 1.0)
        nbytes = 2 * (2 * hq * lq * d + 2 * hkv * lk * d)
        ms = bench(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal,
                                                          enable_gqa=hq != hkv))
        row(g, "sdpa", name, "bf16", ms, nbytes, flops)
        if hq == hkv:  # flash attention's own entry point also returns the logsumexp
            ms = bench(lambda: torch.ops.aten._scaled_dot_product_flash_attention(
                q, k, v, is_causal=causal))
            row(g, "sdpa_lse", name, "bf16", ms, nbytes, flops)




def group_transforms():
    """Peers of lumen's compile rows: eager torch for both the uncompiled and
    the compiled keys (torch.compile is not used), so compiled lumen is
    compared with what one eager torch kernel per op does."""
    g = "transforms"
    x = rand((16384, 16384), "bf16")
    inv_sqrt2 = 0.7071067811865476

    def gelu():
        # the same five elementwise ops as lumen's gelu (erf form)
        return x * 0.5 * (1.0 + torch.erf(x * inv_sqrt2))

    nbytes = 2 * x.numel() * 2
    ms = bench(gelu)
    row(g, "gelu", "16384x16384", "bf16", ms, nbytes)
    row(g, "gelu_compiled", "16384x16384", "bf16", ms, nbytes)
    del x
    batch, n_in, hidden, n_out = 512, 1024, 2048, 1024
    w1 = rand((n_in, hidden), "fp32").requires_grad_()
    w2 = rand((hidden, n_out), "fp32").requires_grad_()
    xb = rand((batch, n_in), "fp32")
    yb = rand((batch, n_out), "fp32")
    torch.backends.cuda.matmul.allow_tf32 = False
    lr = 1e-3

    def step():
        # value_and_grad of the loss, then an out-of-place SGD update
        h = torch.clamp_min(xb @ w1, 0.0)
        loss = ((h @ w2 - yb) ** 2).mean()
        g1, g2 = torch.autograd.grad(loss, (w1, w2))
        with torch.no_grad():
            return loss, w1 - lr * g1, w2 - lr * g2

    shape = f"{batch}x{n_in}x{hidden}x{n_out}"
    flops = 6 * batch * (n_in * hidden + hidden * n_out)
    nbytes = 4 * 3 * (n_in * hidden + hidden * n_out)
    ms = bench(step)
    row(g, "mlp_step", shape, "fp32", ms, nbytes, flops)
    row(g, "mlp_step_compiled", shape, "fp32", ms, nbytes, flops)




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
        wide = x * 4.0
        row(g, "sample_wide", shape, "fp32",
            bench(lambda: torch.multinomial(torch.softmax(wide / t, dim=-1), 1)), nbytes)


def group_binary():
    """The float16 side of lumen's binary rows: x [M, 8192] @ W.T for W
    [28672, 8192], M = 1, 16, 512 (torch has no sub-1-bit kernel)."""
    g = "binary"
    n, k = 28672, 8192
    w = rand((n, k), "fp16")
    for m in (1, 16, 512):
        x = rand((m, k), "fp16")
        row(g, "fp16_matmul", f"{m}x{k}@{n}x{k}^T", "fp16", bench(lambda: x @ w.T),
            2 * n * k + 2 * m * (k + n), 2 * m * n * k)
    del w
    # What reading the bytes of lumen's 0.75 bpw weights (indices and scales,
    # 25.7 MB) takes torch: a float32 sum over as many bytes, alone and over
    # 8 such buffers (no L2 reuse) per buffer, read beside the GEMV's figure
    # as the share of HBM a read of this size reaches.
    packed = 4 * n * (k // 8 * 6 // 32) + 2 * n * (k // 128) + 4 * 64
    # (the 8 sums replayed as one CUDA graph: no host launch between them)
    bufs = [torch.rand(packed // 4, device="cuda", dtype=torch.float32) for _ in range(8)]
    row(g, "read_packed", f"{packed}B", "fp32", bench(lambda: bufs[0].sum()), packed)
    sums = [b.sum() for b in bufs]
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        sums = [b.sum() for b in bufs]
    row(g, "read_packed_x8", f"{packed}B", "fp32", bench(graph.replay) / 8, packed)
    # The same 8 x 25.7 MB as one buffer and one sum: the rate a large read reaches.
    big = torch.cat(bufs)
    row(g, "read_8x_packed_at_once", f"{8 * packed}B", "fp32", bench(lambda: big.sum()), 8 * packed)
    del bufs, sums, graph, big


GROUPS = {"core": group_core, "random": group_random, "random_large": group_random_large,
          "index": group_index, "attention": group_attention, "transforms": group_transforms,
          "sampling": group_sampling, "binary": group_binary}

if __name__ == "__main__":
    names = sys.argv[1:] or list(GROUPS)
    print(f"# torch {torch.__version__} on {torch.cuda.get_device_name()}", flush=True)
    for name in names:
        if name in GROUPS:  # lumen-only groups (checks, huge tensors) have no peer
            GROUPS[name]()
        else:
            print(f"# torch: no peer group {name}", flush=True)
