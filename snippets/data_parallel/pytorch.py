"""PyTorch: one SGD step on an MLP, and the same step with DistributedDataParallel (DDP), as the
DDP tutorial writes it: one process per device (gloo on CPUs, NCCL on GPUs), each with a replica
of the model and its own block of the batch; backward() all-reduces and averages the gradients.
This worker process is rank 0; setup starts the other ranks, which take a step whenever rank 0
tells them to."""

import datetime
import os
import runpy
import socket
import statistics
import threading
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

LEARNING_RATE = 0.1
FLAG_PROBES = 100  # flag broadcasts timed in setup (after a few untimed ones)


class MLP(nn.Module):
    def __init__(self, in_features, hidden, classes):
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.fc3 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))


def replica(inputs, device, rank=None, world_size=1):
    """The model at the starting weights, its optimizer, and the rows of the batch it takes:
    all of them; or, given a rank, that rank's block, with the model wrapped in DDP."""
    hidden, in_features = inputs["fc1.weight"].shape
    model = MLP(in_features, hidden, inputs["fc3.weight"].shape[0]).to(device)
    initial = {name: torch.from_numpy(inputs[name]).to(device) for name in model.state_dict()}
    model.load_state_dict(initial)
    rows = slice(None)
    if rank is not None:
        # CPU: no device_ids; one GPU per process: its own. DDP broadcasts rank 0's weights.
        # gradient_as_bucket_view: the gradients are views into DDP's all-reduce bucket (no
        # copies between them); static_graph: the same parameters are used at every step.
        # bucket_cap_mb stays at its default.
        model = DDP(model, device_ids=[device] if device.type == "cuda" else None,
                    gradient_as_bucket_view=True, static_graph=True)
        shard = len(inputs["x"]) // world_size  # rows [rank * shard, (rank + 1) * shard)
        rows = slice(rank * shard, (rank + 1) * shard)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    x = torch.from_numpy(inputs["x"][rows]).to(device)
    labels = torch.from_numpy(inputs["labels"][rows]).to(device)
    return model, optimizer, initial, x, labels


def train_step(model, optimizer, initial, x, labels):
    """One SGD step from the starting weights; `model` is the MLP or its DDP wrapper."""
    net = model.module if isinstance(model, DDP) else model
    with torch.no_grad():  # back to the starting weights, in place, at every call on every rank
        for name, parameter in net.named_parameters():
            parameter.copy_(initial[name])
    optimizer.zero_grad()
    # The mean over this process's rows. DDP averages the gradients over the ranks, so with
    # equal blocks the step follows the gradient of the mean over the whole batch.
    loss = F.cross_entropy(model(x), labels)
    loss.backward()  # with DDP: all-reduces the gradients, bucket by bucket, as they are ready
    optimizer.step()
    return {name: parameter.detach() for name, parameter in net.named_parameters()}


def setup(inputs, device):
    stop_ranks(device)  # those of the previous batch size, if any
    world_size = world_size_for(device)
    if len(inputs["x"]) % world_size:
        raise ValueError(f"the batch does not split into {world_size} equal blocks")
    # The worker's threads (as many as the cores it may run on), split between the ranks, on
    # CPUs and GPUs alike; torchrun would give every rank one thread (OMP_NUM_THREADS=1).
    threads = max(1, torch.get_num_threads() // world_size)
    if device.type == "cuda":
        device = torch.device("cuda", torch.cuda.current_device())  # rank 0's GPU
    # Where rank 0 listens; the ranks started below inherit these variables.
    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(free_port())
    context = mp.get_context("spawn")
    for rank in range(1, world_size):
        # Each rank runs this file as its main program (the harness's copy of this module
        # cannot be imported by name in a new process), with LAUNCH set to its arguments.
        launch = {"rank": rank, "world_size": world_size, "device_type": device.type,
                  "inputs": inputs, "threads": threads}
        context.Process(target=runpy.run_path, args=(__file__,), daemon=True,
                        kwargs={"init_globals": {"LAUNCH": launch}, "run_name": "__main__"}
                        ).start()
    backend = join_group(device, 0, world_size)
    single = replica(inputs, device)  # the baseline: this process alone, the whole batch
    parallel = replica(inputs, device, rank=0, world_size=world_size)
    go = torch.ones(1, dtype=torch.int64)  # rank 0's "take a step": on the CPU, through gloo
    # What the flag costs rank 0 at every data_parallel call: a full gloo broadcast.
    seconds = []
    for probe in range(5 + FLAG_PROBES):  # all ranks run the same count (run_rank)
        started = time.perf_counter()
        dist.broadcast(go, src=0)
        if probe >= 5:
            seconds.append(time.perf_counter() - started)
    print(f"{world_size} ranks, backend {backend!r}, {threads} thread(s) per rank")
    print(f"flag broadcast on rank 0: median {statistics.median(seconds) * 1e3:.3f} ms "
          f"over {FLAG_PROBES} calls")
    return single, (*parallel, go, threads)


def single_device(single, parallel):
    return train_step(*single)


def data_parallel(single, parallel):
    *step_arguments, go, threads = parallel
    dist.broadcast(go, src=0)  # every other rank takes this step too
    default = torch.get_num_threads()
    torch.set_num_threads(threads)  # rank 0's share of the cores, as each other rank's
    try:
        return train_step(*step_arguments)
    finally:
        torch.set_num_threads(default)


def run_rank(rank, world_size, device_type, inputs, threads):
    """Ranks 1 and up, each in a process of its own: one step whenever rank 0 broadcasts 1,
    until it broadcasts 0."""
    parent = os.getppid()

    def exit_with_rank_0():  # rank 0 gone without a word: leave at once
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(1)

    threading.Thread(target=exit_with_rank_0, daemon=True).start()
    device = torch.device(device_type, rank if device_type == "cuda" else None)
    if device_type == "cuda":
        torch.cuda.set_device(device)
    torch.set_num_threads(threads)
    torch.set_float32_matmul_precision("highest")  # as on rank 0, where the harness pins it
    join_group(device, rank, world_size)
    step_arguments = replica(inputs, device, rank, world_size)
    go = torch.zeros(1, dtype=torch.int64)  # on the CPU, as rank 0's
    for _ in range(5 + FLAG_PROBES):  # the broadcasts rank 0 times in setup
        dist.broadcast(go, src=0)
    while True:
        dist.broadcast(go, src=0)
        if go.item() == 0:
            break
        train_step(*step_arguments)
    dist.destroy_process_group()


def join_group(device, rank, world_size):
    """init_process_group with the default backend for the device: gloo (CPU) or NCCL (GPU).
    On GPUs the group also gets gloo for CPU tensors ("cpu:gloo,cuda:nccl"), so the flag, a
    CPU tensor, goes through gloo, not through an NCCL kernel and a device sync."""
    backend = dist.get_default_backend_for_device(device)
    if device.type != "cpu":
        backend = f"cpu:gloo,{device.type}:{backend}"
    dist.init_process_group(backend, rank=rank, world_size=world_size,
                            timeout=datetime.timedelta(minutes=5))
    return backend


def world_size_for(device):
    if device.type == "cuda":
        return torch.cuda.device_count()  # one process per GPU, as JAX uses every GPU
    return int(os.environ["COMPARISON_WORLD_SIZE"])  # topic.toml: as many as JAX's CPU devices


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_ranks(device):
    """A 0 from rank 0 ends the other ranks' loop; then the group is dissolved. A rank still
    alive after its wait is terminated, then killed."""
    if dist.is_initialized():
        dist.broadcast(torch.zeros(1, dtype=torch.int64), src=0)  # the flag, on the CPU
        dist.destroy_process_group()
    for process in mp.active_children():
        process.join(timeout=30)
        if process.is_alive():
            process.terminate()  # SIGTERM
            process.join(timeout=5)
        if process.is_alive():
            process.kill()  # SIGKILL
            process.join()


shown = []  # the results show() printed, in variant order: single_device first


def show(params):
    shown.append({name: value.cpu().numpy().copy() for name, value in params.items()})
    print("fc3.bias after the step:", shown[-1]["fc3.bias"].round(5))
    if len(shown) > 1:
        difference = max(abs(shown[-1][name] - shown[0][name]).max() for name in shown[0])
        print(f"largest difference from the single-device step: {difference:.2e}")


if __name__ == "__main__":  # a rank that setup started: runpy.run_path set LAUNCH
    run_rank(**LAUNCH)  # noqa: F821
