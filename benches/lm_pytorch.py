"""Training speed of the same GPT as `agents/lm/benches/lm_speed.rs`, in Python PyTorch.

d_model 128, 4 layers, 4 heads, context 64, vocabulary 256, RoPE (rotate_half layout), pre-LN
blocks with GPT-2 `Conv1D`-style [in, out] weights, scaled_dot_product_attention with
is_causal, tanh-GELU MLP, tied LM head, no dropout; batches of 16 x 64 random tokens,
next-token cross-entropy, AdamW (lr 3e-4, torch defaults otherwise: weight decay 0.01) on one
thread. Prints training tokens/s.

    /work/main/.libtorch/venv/bin/python benches/lm_pytorch.py [--device cuda]
"""

import argparse
import math
import time

import torch
import torch.nn.functional as F
from torch import nn

VOCAB, CTX, D, LAYERS, HEADS = 256, 64, 128, 4, 4
BATCH, SEQ = 16, 64


class Conv1D(nn.Module):
    def __init__(self, n_in, n_out, std):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_in, n_out) * std)
        self.bias = nn.Parameter(torch.zeros(n_out))

    def forward(self, x):
        return F.linear(x, self.weight.t(), self.bias)


def rope_tables(ctx, head_dim, theta=10000.0):
    inv_freq = 1.0 / theta ** (torch.arange(head_dim // 2, dtype=torch.float64) * 2 / head_dim)
    freqs = torch.outer(torch.arange(ctx, dtype=torch.float64), inv_freq)
    emb = torch.cat([freqs, freqs], -1)
    return emb.cos().float(), emb.sin().float()


def apply_rope(x, cos, sin):
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], -1)
    return x * cos + rotated * sin


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        proj_std = 0.02 / math.sqrt(2 * LAYERS)
        self.ln_1 = nn.LayerNorm(D)
        self.c_attn = Conv1D(D, 3 * D, 0.02)
        self.attn_proj = Conv1D(D, D, proj_std)
        self.ln_2 = nn.LayerNorm(D)
        self.c_fc = Conv1D(D, 4 * D, 0.02)
        self.mlp_proj = Conv1D(4 * D, D, proj_std)

    def forward(self, x, cos, sin):
        b, t, d = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(d, dim=2)
        q, k, v = (z.view(b, t, HEADS, d // HEADS).transpose(1, 2) for z in (q, k, v))
        q, k = apply_rope(q, cos, sin), apply_rope(k, cos, sin)
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(b, t, d))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = nn.Parameter(torch.randn(VOCAB, D) * 0.02)
        self.blocks = nn.ModuleList(Block() for _ in range(LAYERS))
        self.ln_f = nn.LayerNorm(D)
        cos, sin = rope_tables(CTX, D // HEADS)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)

    def forward(self, tokens):
        t = tokens.shape[1]
        x = F.embedding(tokens, self.wte)
        cos, sin = self.cos[:t], self.sin[:t]
        for block in self.blocks:
            x = block(x, cos, sin)
        return F.linear(self.ln_f(x), self.wte)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    device = torch.device(args.device)
    model = Gpt().to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    data = torch.randint(VOCAB, (BATCH, SEQ + 1), device=device)
    x, y = data[:, :SEQ], data[:, 1:]

    def step():
        loss = F.cross_entropy(model(x).reshape(-1, VOCAB), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    for _ in range(3):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(args.steps):
        last = step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    secs = time.perf_counter() - start
    print(f"lm_pytorch on {device}, {torch.get_num_threads()} torch thread(s), torch {torch.__version__}")
    print(f"  (final loss {last:.3f} after {args.steps + 3} steps)")
    print(f"train: {BATCH * SEQ * args.steps / secs:.0f} tokens/s (batch {BATCH}x{SEQ}, d128 L4 H4, AdamW)")


if __name__ == "__main__":
    main()
