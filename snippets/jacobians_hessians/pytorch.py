"""PyTorch: torch.func.jacfwd, jacrev and hessian turn a function into one that returns its
Jacobian or Hessian, pushing (jvp) or pulling (vjp) a whole identity basis through it at once with
vmap; torch.compile captures each of them with TorchDynamo and compiles it with Inductor."""

import torch
import torch.nn.functional as F


def setup(inputs, device):
    weight = torch.from_numpy(inputs["weight"]).to(device)
    bias = torch.from_numpy(inputs["bias"]).to(device)
    x = torch.from_numpy(inputs["x"]).to(device)
    return weight, bias, x


def predict(weight, bias, x):  # g: R^n -> R^n
    return F.linear(x, weight, bias).tanh()


def log_cosh_loss(weight, bias, x):  # f: R^n -> R, whose gradient is W^T g(x)
    return torch.log(torch.cosh(F.linear(x, weight, bias))).sum()


# argnums=2: differentiate with respect to x. torch.compile goes around the whole transform;
# without it (hessian_eager), each call runs operator by operator on torch.func's wrapper tensors.
jacfwd = torch.compile(torch.func.jacfwd(predict, argnums=2))  # forward mode: a JVP per input
jacrev = torch.compile(torch.func.jacrev(predict, argnums=2))  # reverse mode: a VJP per output
hessian_eager = torch.func.hessian(log_cosh_loss, argnums=2)  # jacfwd(jacrev(f))
hessian = torch.compile(hessian_eager)


def show(result):
    row = [round(v, 5) for v in result[0, :3].tolist()]
    print(f"{tuple(result.shape)} {result.dtype}, row 0 starts {row}")
