"""PyTorch: F.scaled_dot_product_attention takes (batch, heads, T, head_dim) tensors and picks a
fused kernel (FlashAttention, memory-efficient, cuDNN) or its C++ math version for the inputs."""

import torch
import torch.nn.functional as F


def setup(inputs, device):
    # (batch, T, heads, head_dim) -> (batch, heads, T, head_dim), stored contiguously
    return tuple(torch.from_numpy(inputs[name]).to(device).transpose(1, 2).contiguous()
                 for name in ("q", "k", "v"))


def full(q, k, v):
    out = F.scaled_dot_product_attention(q, k, v)
    return out.transpose(1, 2)  # a view indexed (batch, T, heads, head_dim), like JAX's: no copy


def causal(q, k, v):
    out = F.scaled_dot_product_attention(q, k, v, is_causal=True)
    return out.transpose(1, 2)


def show(out):
    print(f"out: {tuple(out.shape)} {out.dtype}, out[0, 0, 0, :3] = {out[0, 0, 0, :3].tolist()}")
