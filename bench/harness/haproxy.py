"""The shipped ``deploy/haproxy.cfg`` made to run on this machine, for the scale-out phase
(harness/scale_out.py) and the deployment test (tests/deployment/support.py)."""

from __future__ import annotations

import re
from pathlib import Path

SHIPPED_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "haproxy.cfg"


def haproxy_config(front_port: int, stats_socket: Path, servers: list[tuple[str, int]]) -> str:
    """The shipped config with this machine's ports: the frontend's bind, the runtime API socket, the
    servers (name, port on 127.0.0.1); without syslog, chroot and the haproxy user, so no system HAProxy
    is needed. Everything else (checks, retries, timeouts) is what an operator installs."""
    text = SHIPPED_CONFIG.read_text()
    for machine_only in ("log /dev/log local0", "chroot /var/lib/haproxy", "user haproxy", "group haproxy"):
        text = text.replace(f"    {machine_only}\n", "")
    text = re.sub(r"stats socket \S+", f"stats socket {stats_socket}", text)
    text = re.sub(r"bind :80\b", f"bind 127.0.0.1:{front_port}", text)
    text = re.sub(r"(?m)^    server .*\n", "", text)
    assert "backend twofold\n" in text
    return text.rstrip("\n") + "\n" + "".join(f"    server {name} 127.0.0.1:{port}\n" for name, port in servers)
