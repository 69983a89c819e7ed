"""The kernel manager notebooks run under (``semisup.sweep.execute``: sweeps, ``make demo``).

ipykernel >= 7 warns, on every start, that a kernel on TCP sockets sends code and outputs
unencrypted. The kernels this package starts talk to their client on the same machine, so
they use Unix-domain (IPC) sockets instead, in Jupyter's private runtime folder (mode 0700):
no port is opened, nothing is readable by other users, and there is nothing to warn about.
"""

from __future__ import annotations

import os
import uuid

from jupyter_client import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import default

__all__ = ["IPCKernelManager"]


class IPCKernelManager(AsyncKernelManager):
    """An :class:`jupyter_client.AsyncKernelManager` on IPC transport (papermill/nbclient use it as is)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        # a socket path prefix, not an address: one per kernel, beside Jupyter's connection files
        runtime = jupyter_runtime_dir()
        os.makedirs(runtime, mode=0o700, exist_ok=True)
        return os.path.join(runtime, f"semisup-kernel-{uuid.uuid4().hex[:12]}-ipc")
