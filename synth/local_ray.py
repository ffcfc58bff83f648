"""The embedded local Ray that ``synth`` starts when no cluster is named, started lean.

``ray.init()`` on one machine starts more than a run uses and waits for it: the dashboard head
(even with ``include_dashboard=False``: it waits until that process is up, 0.6 s), the autoscaler
monitor (nothing to scale on one machine; at exit it ignores SIGTERM, so stopping Ray waits 1 s
to kill it), and it polls the GCS for the raylet once a second (half a second lost on average).
Together about 2 s of wall time and 1.5 CPU seconds of every short local run. While
:func:`lean_local_ray` is active, a head that ``ray.init`` starts for itself skips the first two
and is polled every 20 ms; the raylet, its agents and the log monitor (worker logs still reach the
console) start as before. Joining a cluster (``--address``, ``RAY_ADDRESS``, ``ray job submit``)
is untouched, and so is any Ray this module does not recognise (another version): then it
starts as ``ray.init`` starts it.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import ray

#: How often the start polls the GCS for the raylet (Ray's own wait polls once a second).
POLL_SECONDS = 0.02


@contextmanager
def lean_local_ray() -> Iterator[None]:
    """While active, a local head that ``ray.init`` starts runs no dashboard head and no
    autoscaler monitor, and its start returns as soon as the raylet has registered."""
    node_module = getattr(ray._private, "node", None)
    services = getattr(ray._private, "services", None)
    base = getattr(node_module, "Node", None)
    get_node = getattr(services, "get_node", None)
    if base is None or get_node is None or not hasattr(base, "start_api_server"):
        yield
        return

    class LeanNode(base):
        def __init__(self, ray_params, *args, **kwargs):
            self._lean = bool(kwargs.get("ray_init_cluster"))  # the head ray.init starts itself
            if self._lean:
                ray_params.no_monitor = True
            super().__init__(ray_params, *args, **kwargs)

        def start_api_server(self, *args, **kwargs):
            if not self._lean:
                super().start_api_server(*args, **kwargs)

    def registered_node(gcs_address: str, node_id: str):
        _wait_registered(gcs_address, node_id)
        return get_node(gcs_address, node_id)

    node_module.Node, services.get_node = LeanNode, registered_node
    try:
        yield
    finally:
        node_module.Node, services.get_node = base, get_node


def _wait_registered(gcs_address: str, node_id: str, timeout: float = 30.0) -> None:
    """Until the GCS lists ``node_id`` (or ``timeout``: then Ray's own wait reports it)."""
    try:
        client = ray._raylet.GcsClient(address=gcs_address)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(n.hex() == node_id for n in client.get_all_node_info(timeout=5)):
                return
            time.sleep(POLL_SECONDS)
    except Exception:  # noqa: BLE001 - any surprise: leave the wait to Ray's own poll
        return


def ray_started_here() -> bool:
    """Whether this process started the Ray it is connected to (and so stops it at exit)."""
    node = getattr(ray._private.worker, "_global_node", None)
    return bool(node is not None and getattr(node, "ray_init_cluster", False))


def stop_local_ray() -> None:
    """Stop the embedded Ray at exit, before Ray's own exit hook: that one first sleeps 0.5 s
    for worker logs still on their way, and a finished run has none."""
    if ray.is_initialized() and ray_started_here():
        ray.shutdown()
