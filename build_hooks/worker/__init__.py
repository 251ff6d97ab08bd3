"""What runs inside a framework's worker process: the request loop (`server`), the framework
adapters, the timing method, output flattening and the independent timers.

The MkDocs process never imports this package: it starts `python -m build_hooks.worker` and
talks to it over pipes (`build_hooks.run.process`). Only this package imports jax or torch.
"""
