"""PyTorch peer of the WaveMix benchmark: the WaveMix model of SPEC section 4b
(as the upstream PyTorch modules compute it: 1x1 reduction, a Haar DWT, per
level Conv 1x1 -> GELU -> Dropout -> Conv 1x1 -> ConvTranspose 4x4/2 ->
BatchNorm, residual blocks, pooled linear head) with the workload's weights,
timed on the CPU (or a GPU: DEVICE cuda, synchronised around each timing):
the eval forward and a training step (forward in training mode,
cross-entropy, backward). Prints one JSON object, with the eval output's
first logits so the caller can check that both sides compute the same model.
With --serve it prints that object without the timings and then times what
standard input asks for, a line "eval COUNT" or "train COUNT" at a time,
answering each with a line {"times": [ms, ...]} (so the caller can take turns
with it, as it does with the other peers).

usage: pytorch_wavemix.py WEIGHTS.safetensors REPEAT THREADS [DEVICE] [--serve]
"""
import json
import math
import sys
import time

import torch
import torch.nn.functional as F

import safetensors_f32
from peer_server import serve


def haar_dwt(x):
    """One level of the 2-D Haar DWT (zero mode, even sizes): LL and the three detail bands (N, C, 3, H/2, W/2)."""
    a, b = x[:, :, 0::2, 0::2], x[:, :, 0::2, 1::2]
    c, d = x[:, :, 1::2, 0::2], x[:, :, 1::2, 1::2]
    ll = (a + b + c + d) / 2
    lh = (a + b - c - d) / 2
    hl = (a - b + c - d) / 2
    hh = (a - b - c + d) / 2
    return ll, torch.stack([lh, hl, hh], 2)


def batch_norm(x, p, name, training):
    return F.batch_norm(x, p[name + ".running_mean"], p[name + ".running_var"], p[name + ".weight"], p[name + ".bias"],
                        training=training, momentum=0.1, eps=1e-5)


def feed_forward(x, p, name, training):
    x = F.conv2d(x, p[name + ".0.weight"], p[name + ".0.bias"])
    x = F.gelu(x)
    x = F.conv2d(x, p[name + ".3.weight"], p[name + ".3.bias"])
    x = F.conv_transpose2d(x, p[name + ".4.weight"], p[name + ".4.bias"], stride=2, padding=1)
    return batch_norm(x, p, name + ".5", training)


def block(x, p, prefix, level, training):
    r = F.conv2d(x, p[prefix + "reduction.weight"], p[prefix + "reduction.bias"])
    levels = []
    cur = r
    for _ in range(level):
        cur, high = haar_dwt(cur)
        n, c, _, h, w = high.shape
        levels.append(torch.cat([cur, high.reshape(n, c * 3, h, w)], 1))
    up = None
    for l in range(level, 0, -1):
        name = prefix + ("feedforward" if level == 1 else f"feedforward{l}")
        inp = levels[l - 1] if up is None else torch.cat([levels[l - 1], up], 1)
        up = feed_forward(inp, p, name, training)
    return up


def model(x, p, cfg, training):
    x = F.conv2d(x, p["conv.0.weight"], p["conv.0.bias"], padding=1)
    x = F.conv2d(x, p["conv.1.weight"], p["conv.1.bias"], padding=1)
    x = F.conv2d(x, p["conv.2.weight"], p["conv.2.bias"], stride=cfg["patch_size"])
    x = batch_norm(F.gelu(x), p, "conv.4", training)
    for i in range(cfg["depth"]):
        x = block(x, p, f"layers.{i}.", cfg["level"], training) + x
    x = x.mean((2, 3))
    return F.linear(x, p["pool.2.weight"], p["pool.2.bias"])


def median(values):
    return sorted(values)[len(values) // 2]


def main():
    serve_mode = "--serve" in sys.argv
    args = [a for a in sys.argv[1:] if a != "--serve"]
    path = args[0]
    repeat, threads = int(args[1]), int(args[2])
    device = torch.device(args[3] if len(args) > 3 else "cpu")
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    torch.set_num_threads(threads)
    weights, metadata = safetensors_f32.load(path)
    cfg = json.loads(metadata["config"])
    p = {k: (v.clone().to(device).requires_grad_(True) if "running" not in k else v.clone().to(device)) for k, v in weights.items()}
    shape = (cfg["N"], cfg["in_channels"], cfg["H"], cfg["W"])
    count = math.prod(shape)
    # The benchmark's input: x[i] = sin(0.37 i).
    x = torch.sin(torch.arange(count, dtype=torch.float64) * 0.37).to(torch.float32).reshape(shape).to(device)
    labels = (torch.arange(cfg["N"]) % cfg["num_classes"]).to(device)
    with torch.no_grad():
        logits = model(x, p, cfg, training=False)

    def eval_forward():
        sync()
        t0 = time.perf_counter()
        with torch.no_grad():
            model(x, p, cfg, training=False)
        sync()
        return (time.perf_counter() - t0) * 1e3

    def train_step():
        sync()
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x, p, cfg, training=True), labels)
        loss.backward()
        sync()
        elapsed = (time.perf_counter() - t0) * 1e3
        for t in p.values():  # zeroed in place, as zero_grad() does in PyTorch 1.13
            if t.grad is not None:
                t.grad.zero_()
        return elapsed

    header = {"torch": torch.__version__, "device": str(device), "threads": threads, "eval_logits": logits[0].cpu().tolist()}
    if serve_mode:
        serve(header, {"eval": eval_forward, "train": train_step})
        return
    evals, steps = [], []
    for i in range(repeat + 2):
        e, t = eval_forward(), train_step()
        if i >= 2:  # warm-up
            evals.append(e)
            steps.append(t)
    print(json.dumps({**header, "eval_forward_ms": median(evals), "train_step_ms": median(steps)}))


if __name__ == "__main__":
    main()
