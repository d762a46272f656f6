#!/usr/bin/python3
"""Writes tests/fixtures/torch_parity.json: reference values from PyTorch
(Debian's python3-torch) for kiln's parity test, in the manner of llm.c's
test_gpt2. CI does not need torch; only the committed fixture.

  /usr/bin/python3 tests/make_fixture.py out/data tests/fixtures/torch_parity.json

Two networks, both on the first 4 MNIST training images:
  small: conv:4x3,relu,pool:2,conv:8x3,relu,pool:2,dense:16,relu,dense:10
         fixed weights (stored), the loss, every gradient, and the weights
         after one Keras-style Adam step (lr 1e-3) computed from the torch
         gradients with Keras' update rule (epsilon-hat form).
  seed:  the article's network (dropout off), weights from a closed formula
         both sides compute; the loss and each tensor's gradient norm.
  optimizers: RMSprop and Adagrad (TF2 Keras rules, written out below in
         plain Python doubles), three steps of lr 1e-3 from the small
         network's weights with its torch gradients.
All tensors are written in kiln's layout: NHWC activations, conv kernels
[K,K,C,OC], dense kernels [D,N] with D in (h, w, c) flatten order.

  /usr/bin/python3 tests/make_fixture.py --optimizers tests/fixtures/torch_parity.json

recomputes only the optimizer entries from the weights and gradients
already in the fixture (no torch, no numpy needed); the stored weights and
gradients are float32 values written with 9 digits, so they read back
exactly and the result equals that of a full run."""
import json, math, struct, sys

OPT_STEPS = 3
OPT_LR, RHO, EPS, ADAGRAD_INIT = 1e-3, 0.9, 1e-7, 0.1

def rmsprop(w, g, steps=OPT_STEPS):
    """TF2 Keras RMSprop, momentum 0: a = rho*a + (1-rho)*g^2 from a = 0,
    w -= lr*g / (sqrt(a) + eps)  (epsilon outside the square root)."""
    w, a = list(w), [0.0] * len(w)
    for _ in range(steps):
        for i, gi in enumerate(g):
            a[i] = RHO * a[i] + (1 - RHO) * gi * gi
            w[i] -= OPT_LR * gi / (math.sqrt(a[i]) + EPS)
    return w

def adagrad(w, g, steps=OPT_STEPS):
    """TF2 Keras Adagrad: a += g^2 from a = 0.1, w -= lr*g / (sqrt(a) + eps)."""
    w, a = list(w), [ADAGRAD_INIT] * len(w)
    for _ in range(steps):
        for i, gi in enumerate(g):
            a[i] += gi * gi
            w[i] -= OPT_LR * gi / (math.sqrt(a[i]) + EPS)
    return w

def add_optimizers(small):
    w0, g = small['params'], small['grads']
    small['optimizer_steps'] = OPT_STEPS
    small['rmsprop_params'] = [float('%.9g' % v) for v in rmsprop(w0, g)]
    small['adagrad_params'] = [float('%.9g' % v) for v in adagrad(w0, g)]

if sys.argv[1] == '--optimizers':
    fx = json.load(open(sys.argv[2]))
    add_optimizers(fx['small'])
    json.dump(fx, open(sys.argv[2], 'w'))
    print('updated the optimizer entries of', sys.argv[2])
    sys.exit(0)

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
d, out = sys.argv[1], sys.argv[2]

def idx(path):
    with open(path, 'rb') as f:
        magic, = struct.unpack('>I', f.read(4)); nd = magic & 0xff
        dims = struct.unpack('>' + 'I' * nd, f.read(4 * nd))
        return np.frombuffer(f.read(), dtype=np.uint8).reshape(dims)

B = 4
x = idx(d + '/train-images-idx3-ubyte')[:B].astype(np.float32) / 255.0   # [B,28,28]
y = idx(d + '/train-labels-idx1-ubyte')[:B].astype(np.int64)
xt = torch.tensor(x).unsqueeze(1)                                         # NCHW
yt = torch.tensor(y)

def conv_to_kiln(w):   # torch [OC,C,K,K] -> kiln [K,K,C,OC]
    return w.permute(2, 3, 1, 0).contiguous()
def conv_from_kiln(w): # kiln [K,K,C,OC] -> torch [OC,C,K,K]
    return w.permute(3, 2, 0, 1).contiguous()
def dense1_to_kiln(w, C, H, W):   # torch [N, C*H*W] -> kiln [H*W*C, N]
    N = w.shape[0]
    return w.reshape(N, C, H, W).permute(2, 3, 1, 0).reshape(H * W * C, N).contiguous()
def dense1_from_kiln(w, C, H, W): # kiln [H*W*C, N] -> torch [N, C*H*W]
    N = w.shape[1]
    return w.reshape(H, W, C, N).permute(3, 2, 0, 1).reshape(N, C * H * W).contiguous()

def forward(p, c2):
    h = F.max_pool2d(F.relu(F.conv2d(xt, p['c1w'], p['c1b'])), 2)
    h = F.max_pool2d(F.relu(F.conv2d(h, p['c2w'], p['c2b'])), 2)
    h = F.relu(F.linear(h.flatten(1), p['f1w'], p['f1b']))
    return F.linear(h, p['f2w'], p['f2b'])

def kiln_params(p, c2):
    """The parameters in kiln's buffer order: per layer kernel then bias."""
    return [conv_to_kiln(p['c1w']), p['c1b'], conv_to_kiln(p['c2w']), p['c2b'],
            dense1_to_kiln(p['f1w'], c2, 5, 5), p['f1b'], p['f2w'].t().contiguous(), p['f2b']]

def flat(ts):
    return [float('%.9g' % v) for t in ts for v in t.detach().reshape(-1).tolist()]

# ---- small network at seeded random weights --------------------------------
torch.manual_seed(1234)
c1, c2, h1 = 4, 8, 16
p = {'c1w': torch.randn(c1, 1, 3, 3) * 0.3, 'c1b': torch.randn(c1) * 0.1,
     'c2w': torch.randn(c2, c1, 3, 3) * 0.2, 'c2b': torch.randn(c2) * 0.1,
     'f1w': torch.randn(h1, c2 * 25) * 0.1, 'f1b': torch.randn(h1) * 0.1,
     'f2w': torch.randn(10, h1) * 0.3, 'f2b': torch.randn(10) * 0.1}
for t in p.values(): t.requires_grad_(True)
loss = F.cross_entropy(forward(p, c2), yt)
loss.backward()
w0 = kiln_params(p, c2)
g = kiln_params({k: v.grad for k, v in p.items()}, c2)
# one Keras Adam step (t = 1): m = (1-b1) g, v = (1-b2) g^2,
# alpha = lr * sqrt(1 - b2) / (1 - b1), w -= alpha * m / (sqrt(v) + eps)
lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-7
w1 = []
for wt, gt in zip(w0, g):
    wn, gn = wt.detach().double().numpy(), gt.double().numpy()
    m, v = (1 - b1) * gn, (1 - b2) * gn * gn
    alpha = lr * math.sqrt(1 - b2) / (1 - b1)
    w1.append(torch.tensor(wn - alpha * m / (np.sqrt(v) + eps)))
small = {'spec': 'conv:%dx3,relu,pool:2,conv:%dx3,relu,pool:2,dense:%d,relu,dense:10' % (c1, c2, h1),
         'params': flat(w0), 'loss': float(loss), 'grads': flat(g), 'adam_params': flat(w1)}
add_optimizers(small)

# ---- the article's network at formula weights -------------------------------
# kiln buffer element i of parameter tensor t (0-based, kernels and biases in
# order) = 0.05 * sin(0.37 * i + 1.3 * t); the C test computes the same.
c1, c2, h1 = 32, 64, 256
shapes = [(3, 3, 1, c1), (c1,), (3, 3, c1, c2), (c2,), (5 * 5 * c2, h1), (h1,), (h1, 10), (10,)]
kt = []
for t, s in enumerate(shapes):
    n = int(np.prod(s))
    kt.append(torch.tensor((0.05 * np.sin(0.37 * np.arange(n, dtype=np.float64) + 1.3 * t)).astype(np.float32)).reshape(s))
q = {'c1w': conv_from_kiln(kt[0]), 'c1b': kt[1], 'c2w': conv_from_kiln(kt[2]), 'c2b': kt[3],
     'f1w': dense1_from_kiln(kt[4], c2, 5, 5), 'f1b': kt[5], 'f2w': kt[6].t().contiguous(), 'f2b': kt[7]}
for t in q.values(): t.requires_grad_(True)
loss2 = F.cross_entropy(forward(q, c2), yt)
loss2.backward()
gn = [float(t.norm()) for t in kiln_params({k: v.grad for k, v in q.items()}, c2)]
seed = {'spec': 'seed-without-dropout', 'loss': float(loss2), 'grad_norms': gn}

json.dump({'batch': B, 'images': [float('%.9g' % v) for v in x.reshape(-1)], 'labels': [int(v) for v in y],
           'small': small, 'seed': seed, 'torch': torch.__version__}, open(out, 'w'))
print('wrote', out, 'small loss', float(loss), 'seed loss', float(loss2))
