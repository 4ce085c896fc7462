"""PyTorch peer of the WTConv2d benchmark: the reference layer (SPEC section 1,
as the upstream PyTorch module computes it) with the workload's weights, timed
forward and forward+backward on the CPU. Prints one JSON object. With --serve
it prints {"torch", "threads"} and then times what standard input asks for, a
line "forward COUNT" or "forward_backward COUNT" at a time, answering each
with a line {"times": [ms, ...]} (so the caller can take turns with it).

usage: pytorch_wtconv.py WEIGHTS.safetensors N C H W K LEVELS REPEAT THREADS [--serve]
"""
import json
import sys
import time

import pywt
import torch
import torch.nn.functional as F

import safetensors_f32
from peer_server import serve


def wavelet_filters(name, channels):
    w = pywt.Wavelet(name)
    dec_hi = torch.tensor(w.dec_hi[::-1], dtype=torch.float32)
    dec_lo = torch.tensor(w.dec_lo[::-1], dtype=torch.float32)
    dec = torch.stack([dec_lo[None] * dec_lo[:, None], dec_lo[None] * dec_hi[:, None],
                       dec_hi[None] * dec_lo[:, None], dec_hi[None] * dec_hi[:, None]], 0)
    rec_hi = torch.tensor(w.rec_hi[::-1], dtype=torch.float32).flip(0)
    rec_lo = torch.tensor(w.rec_lo[::-1], dtype=torch.float32).flip(0)
    rec = torch.stack([rec_lo[None] * rec_lo[:, None], rec_lo[None] * rec_hi[:, None],
                       rec_hi[None] * rec_lo[:, None], rec_hi[None] * rec_hi[:, None]], 0)
    return dec[:, None].repeat(channels, 1, 1, 1), rec[:, None].repeat(channels, 1, 1, 1)


def wtconv2d(x, p, levels, wt_filter, iwt_filter):
    c = x.shape[1]
    pad = wt_filter.shape[2] // 2 - 1
    lls, hs, shapes = [], [], []
    cur = x
    for i in range(levels):
        shapes.append(cur.shape)
        if cur.shape[2] % 2 or cur.shape[3] % 2:
            cur = F.pad(cur, (0, cur.shape[3] % 2, 0, cur.shape[2] % 2))
        t = F.conv2d(cur, wt_filter, stride=2, groups=c, padding=pad)
        t = t.reshape(t.shape[0], c, 4, t.shape[2], t.shape[3])
        cur = t[:, :, 0]
        s = t.shape
        z = F.conv2d(t.reshape(s[0], c * 4, s[3], s[4]), p[f"wavelet_convs.{i}.weight"], padding="same", groups=c * 4)
        z = (z * p[f"wavelet_scale.{i}.weight"]).reshape(s)
        lls.append(z[:, :, 0])
        hs.append(z[:, :, 1:4])
    nxt = 0
    for i in range(levels - 1, -1, -1):
        ll = lls.pop() + nxt
        z = torch.cat([ll.unsqueeze(2), hs.pop()], dim=2)
        s = z.shape
        nxt = F.conv_transpose2d(z.reshape(s[0], c * 4, s[3], s[4]), iwt_filter, stride=2, groups=c, padding=pad)
        shape = shapes.pop()
        nxt = nxt[:, :, :shape[2], :shape[3]]
    base = F.conv2d(x, p["base_conv.weight"], p.get("base_conv.bias"), padding="same", groups=c)
    return base * p["base_scale.weight"] + nxt


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    serve_mode = "--serve" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--serve"]
    path = args[0]
    n, c, h, w, k, levels, repeat, threads = map(int, args[1:9])
    torch.set_num_threads(threads)
    weights, _ = safetensors_f32.load(path)
    params = {name: t.clone().requires_grad_(True) for name, t in weights.items() if "filter" not in name}
    wt_filter, iwt_filter = wavelet_filters("db1", c)
    x = torch.rand(n, c, h, w, requires_grad=True)

    def forward():
        t0 = time.perf_counter()
        with torch.no_grad():
            wtconv2d(x, params, levels, wt_filter, iwt_filter)
        return (time.perf_counter() - t0) * 1e3

    def forward_backward():
        t0 = time.perf_counter()
        y = wtconv2d(x, params, levels, wt_filter, iwt_filter)
        y.backward(torch.ones_like(y))
        elapsed = (time.perf_counter() - t0) * 1e3
        for t in [x, *params.values()]:  # zeroed in place, as zero_grad() does in PyTorch 1.13
            t.grad.zero_()
        return elapsed

    header = {"torch": torch.__version__, "threads": threads}
    if serve_mode:
        serve(header, {"forward": forward, "forward_backward": forward_backward})
        return
    times_forward, total = [], []
    for i in range(repeat + 2):
        f, fb = forward(), forward_backward()
        if i >= 2:  # warm-up
            times_forward.append(f)
            total.append(fb)
    print(json.dumps({**header, "forward_ms": median(times_forward), "forward_backward_ms": median(total)}))


if __name__ == "__main__":
    main()
