"""The parent side of the process boundary: worker processes (start, ask, time out, kill), the
pool, the scheduler that alternates the frameworks in rounds, what the workers printed, and the
parity check of their outputs. The worker side is `build_hooks.worker`; the two talk only through
`build_hooks.core.protocol`.
"""
