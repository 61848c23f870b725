"""uvicorn for ``twofold serve``: with several workers, a supervisor that lets go of the listening
socket as soon as it is told to stop (docs/deployment.md#draining)."""

from __future__ import annotations

from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class _Supervisor(Multiprocess):
    """uvicorn's supervisor, which kept its copy of the listening socket open until its workers had
    finished the requests in flight.  Until then the port still accepted connections that no worker
    took, and the requests HAProxy sent on them failed when the supervisor exited.  Closed first, the
    port refuses connections as soon as the workers close theirs, and HAProxy sends them elsewhere."""

    def terminate_all(self) -> None:  # called once, when the supervisor stops
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def run(app: str, **options: Any) -> None:
    """``uvicorn.run(app, **options)``, with the supervisor above for more than one worker."""
    config = uvicorn.Config(app, **options)
    if config.workers <= 1:
        uvicorn.run(app, **options)
        return
    try:
        _Supervisor(config, sockets=[config.bind_socket()]).run()
    except KeyboardInterrupt:
        pass
