"""The kernel manager notebooks run under (``semisup.sweep.execute``: sweeps, ``make demo``).

ipykernel >= 7 warns, on every start, that a kernel on TCP sockets sends code and outputs
unencrypted. The kernels this package starts talk to their client on the same machine, so
they use Unix-domain (IPC) sockets instead, in Jupyter's private runtime folder (mode 0700)
when its path is short enough for a socket address: no port is opened, and there is nothing
to warn about.
"""

from __future__ import annotations

import os
import tempfile
import uuid

from jupyter_client import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from traitlets import default

__all__ = ["IPCKernelManager", "ipc_prefix"]

_MAX_SOCKET_PATH = 107  # bytes in sockaddr_un.sun_path on Linux, without the final NUL


class IPCKernelManager(AsyncKernelManager):
    """An :class:`jupyter_client.AsyncKernelManager` on IPC transport (papermill/nbclient use it as is)."""

    @default("transport")
    def _transport_default(self) -> str:
        return "ipc"

    @default("ip")
    def _ip_default(self) -> str:
        return ipc_prefix(jupyter_runtime_dir())


def ipc_prefix(runtime_dir: str) -> str:
    """Socket path prefix of one kernel (ZMQ appends ``-1`` ... ``-5``, one per channel).

    Beside Jupyter's connection files when the path fits a Unix socket address (107 bytes);
    otherwise (a deep ``JUPYTER_RUNTIME_DIR``) in the system temp folder, where the socket
    files get the umask's permissions and the messages stay signed with the session key.
    Jupyter removes the socket files when the kernel shuts down.
    """
    name = f"semisup-kernel-{uuid.uuid4().hex[:12]}-ipc"
    path = os.path.join(runtime_dir, name)
    if len(path.encode()) + len("-5") > _MAX_SOCKET_PATH:
        return os.path.join(tempfile.gettempdir(), name)
    os.makedirs(runtime_dir, mode=0o700, exist_ok=True)
    return path
