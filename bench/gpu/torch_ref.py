"""PyTorch timings on the GPU for bench/gpu/run.sh: the reference semantics of
SPEC section 1 (WTConv2d as conv2d / conv_transpose2d with the wavelet filters,
as the PyTorch layer computes it) and, when its sources were packed, the fused
CUDA kernels of BGU-CS-VIL/WTConv fast_wtconv (built here, never committed); and
F.conv2d (cuDNN) on the conv workloads.
    python3 torch_ref.py workloads.json [fast_wtconv_dir] > torch.json
workloads.json: {"wtconv": [...], "conv": [...]} (bench/gpu/workloads.ts).
Forward and forward+backward medians in ms (CUDA events), fp32, same shapes as bench.mjs."""
import json
import statistics
import sys

import torch
import torch.nn.functional as F


def haar_filters(c, device):
    s = 2 ** -0.5
    lo = torch.tensor([s, s], device=device)
    hi = torch.tensor([-s, s], device=device)
    dec_lo, dec_hi = lo.flip(0), hi.flip(0)  # SPEC: analysis uses the reversed decomposition filters
    wt = torch.stack([dec_lo[None, :] * dec_lo[:, None], dec_lo[None, :] * dec_hi[:, None],
                      dec_hi[None, :] * dec_lo[:, None], dec_hi[None, :] * dec_hi[:, None]], 0)
    rec_lo, rec_hi = lo, torch.tensor([s, -s], device=device)  # PyWavelets' db1 reconstruction filters
    iwt = torch.stack([rec_lo[None, :] * rec_lo[:, None], rec_lo[None, :] * rec_hi[:, None],
                       rec_hi[None, :] * rec_lo[:, None], rec_hi[None, :] * rec_hi[:, None]], 0)
    return wt[:, None].repeat(c, 1, 1, 1), iwt[:, None].repeat(c, 1, 1, 1)


def wtconv_ref(x, p, levels, wt_f, iwt_f):
    """SPEC section 1, db1, stride 1 (what the reference layer computes)."""
    c = x.shape[1]
    lls, hs, shapes = [], [], []
    cur = x
    for i in range(levels):
        shapes.append(cur.shape)
        if cur.shape[2] % 2 or cur.shape[3] % 2:
            cur = F.pad(cur, (0, cur.shape[3] % 2, 0, cur.shape[2] % 2))
        t = F.conv2d(cur, wt_f, stride=2, groups=c)
        cur = t[:, 0::4]
        b, _, h, w = t.shape
        z = F.conv2d(t, p[f'wavelet_convs.{i}.weight'], padding='same', groups=4 * c) * p[f'wavelet_scale.{i}.weight']
        z = z.reshape(b, c, 4, h, w)
        lls.append(z[:, :, 0])
        hs.append(z[:, :, 1:4])
    nxt = 0
    for i in range(levels - 1, -1, -1):
        ll = lls[i] + nxt
        z = torch.cat([ll.unsqueeze(2), hs[i]], 2).reshape(x.shape[0], 4 * c, ll.shape[2], ll.shape[3])
        nxt = F.conv_transpose2d(z, iwt_f, stride=2, groups=c)[:, :, :shapes[i][2], :shapes[i][3]]
    base = F.conv2d(x, p['base_conv.weight'], p['base_conv.bias'], padding='same', groups=c)
    return p['base_scale.weight'] * base + nxt


def timed(fn, reps=20):
    fn()
    torch.cuda.synchronize()
    out = []
    for _ in range(7):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(reps):
            fn()
        b.record()
        torch.cuda.synchronize()
        out.append(a.elapsed_time(b) / reps)
    return statistics.median(out)


def params(c, k, levels, dev):
    g = torch.Generator(device='cpu').manual_seed(0)
    p = {'base_conv.weight': torch.randn(c, 1, k, k, generator=g) * 0.2, 'base_conv.bias': torch.randn(c, generator=g) * 0.1,
         'base_scale.weight': torch.ones(1, c, 1, 1)}
    for i in range(levels):
        p[f'wavelet_convs.{i}.weight'] = torch.randn(4 * c, 1, k, k, generator=g) * 0.2
        p[f'wavelet_scale.{i}.weight'] = torch.full((1, 4 * c, 1, 1), 0.1)
    return {n: v.to(dev).requires_grad_(True) for n, v in p.items()}


def main():
    lists = json.load(open(sys.argv[1]))
    workloads, conv_workloads = lists['wtconv'], lists['conv']
    fast_dir = sys.argv[2] if len(sys.argv) > 2 else None
    dev = torch.device('cuda')
    torch.backends.cudnn.benchmark = True
    fast, fast_error = None, None
    if fast_dir:
        try:
            sys.path.insert(0, fast_dir)
            from fast_wtconv.wtconv_cuda import WTConv2d as FastWTConv2d  # noqa: E402 (JIT-builds its extension)
            fast = FastWTConv2d
        except Exception as e:  # recorded in the results: the comparison is then missing, not faked
            fast_error = f'{type(e).__name__}: {e}'
    rows = []
    for w in workloads:
        n, c, h, wd, k, levels = w['n'], w['c'], w['h'], w['w'], w['k'], w['levels']
        x = torch.randn(n, c, h, wd, device=dev, requires_grad=True)
        p = params(c, k, levels, dev)
        wt_f, iwt_f = haar_filters(c, dev)
        gy = torch.randn(n, c, h, wd, device=dev)
        row = dict(w)
        with torch.no_grad():
            row['torch_forward_ms'] = timed(lambda: wtconv_ref(x, p, levels, wt_f, iwt_f))

        def fwd_bwd():
            y = wtconv_ref(x, p, levels, wt_f, iwt_f)
            torch.autograd.backward(y, gy)
        row['torch_forward_backward_ms'] = timed(fwd_bwd)
        row['torch_backward_ms'] = row['torch_forward_backward_ms'] - row['torch_forward_ms']
        if fast is not None:
            try:
                m = fast(c, c, kernel_size=k, wt_levels=levels).to(dev)
                with torch.no_grad():
                    row['fast_wtconv_forward_ms'] = timed(lambda: m(x))

                def fast_fb():
                    torch.autograd.backward(m(x), gy)
                row['fast_wtconv_forward_backward_ms'] = timed(fast_fb)
            except Exception as e:
                row['fast_wtconv_error'] = f'{type(e).__name__}: {e}'
        elif fast_error:
            row['fast_wtconv_error'] = fast_error
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    conv_rows = []
    for w in conv_workloads:
        x = torch.randn(w['n'], w['cin'], w['size'], w['size'], device=dev, requires_grad=True)
        weight = (torch.randn(w['cout'], w['cin'] // w['groups'], w['k'], w['k'], device=dev) * 0.2).requires_grad_(True)
        bias = (torch.randn(w['cout'], device=dev) * 0.1).requires_grad_(True)

        def conv():
            return F.conv2d(x, weight, bias, stride=w['stride'], padding=w['padding'], groups=w['groups'])
        gy = torch.randn_like(conv())
        row = dict(w)
        with torch.no_grad():
            row['torch_forward_ms'] = timed(conv)
        row['torch_forward_backward_ms'] = timed(lambda: torch.autograd.backward(conv(), gy))
        row['torch_backward_ms'] = row['torch_forward_backward_ms'] - row['torch_forward_ms']
        conv_rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    # Device-to-device copy bandwidth as PyTorch measures it (1 GiB).
    a = torch.empty(2 ** 28, device=dev)
    b = torch.empty_like(a)
    ms = timed(lambda: b.copy_(a), reps=5)
    json.dump({'device': torch.cuda.get_device_name(0), 'torch': torch.__version__,
               'copy_GBps': 2 * a.numel() * 4 / (ms / 1e3) / 1e9, 'rows': rows, 'conv': conv_rows}, sys.stdout, indent=1)


if __name__ == '__main__':
    main()
