"""PyTorch: a Python loop runs op by op, and torch.compile unrolls it into one graph with T copies
of the step; torch.compiler.nested_compile_region compiles the step once and reuses it at every
step. A Python `if` on a tensor inside the loop makes Dynamo skip the whole function (it runs
eagerly); torch.cond (a prototype) keeps the branch in the compiled program."""

import torch


def setup(inputs, device):
    return tuple(torch.from_numpy(inputs[name]).to(device) for name in ("W", "V", "xs", "h"))


# The recurrence h = tanh(W h + x), once per row x of xs. (V is the branching variants' second
# matrix.)
def eager(W, V, xs, h):
    for x in xs:
        h = torch.tanh(W @ h + x)
    return h


# Dynamo traces the Python loop: the graph holds T copies of the step.
unrolled = torch.compile(eager)


# The step as a nested compile region: Dynamo still traces the loop, but compiles the step's
# code once and calls it at every step.
@torch.compiler.nested_compile_region
def step(W, h, x):
    return torch.tanh(W @ h + x)


def region_loop(W, V, xs, h):
    for x in xs:
        h = step(W, h, x)
    return h


region = torch.compile(region_loop)


# A branch on the state at every step: each step uses W or V depending on the sign of sum(h).
# torch.cond captures the branch as one operator holding both branches, inside a step compiled
# once as above.
@torch.compiler.nested_compile_region
def cond_step(W, V, h, x):
    return torch.cond(h.sum() > 0,
                      lambda h, x: torch.tanh(W @ h + x),
                      lambda h, x: torch.tanh(V @ h + x),
                      (h, x))


def cond_loop(W, V, xs, h):
    for x in xs:
        h = cond_step(W, V, h, x)
    return h


branch = torch.compile(cond_loop)


# The same branch as a Python `if` (fine in eager code). Under torch.compile, `if` on a
# tensor's value is a graph break; inside a loop Dynamo cannot resume after it, so it skips the
# whole function, which then runs eagerly on every call (silently, by default).
def python_if(W, V, xs, h):
    for x in xs:
        if h.sum() > 0:
            h = torch.tanh(W @ h + x)
        else:
            h = torch.tanh(V @ h + x)
    return h


if_compile = torch.compile(python_if)


def show(h):
    print(f"h: {tuple(h.shape)} {h.dtype}, h[:4] = {[round(v, 4) for v in h[:4].tolist()]}")
