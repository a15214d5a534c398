"""Submit work: to the broker when ``MAMORU_BROKER_URL`` is set, otherwise run it here.

Dramatiq was chosen over Celery: one small dependency tree, explicit acknowledgement after a message is
processed (a killed worker's messages go back to the queue), and the same code over RabbitMQ and Redis.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from functools import cache
from typing import Any, cast

import dramatiq

from mamoru.errors import ConfigurationError
from mamoru.work.tasks import TASKS
from mamoru.workspace import Workspace

QUEUE = "mamoru"
_lock = threading.Lock()
_brokers: dict[str, dramatiq.Broker] = {}
#: The worker's workspace; the actor opens it once per process.
_worker_ws: dict[str, Workspace] = {}


def broker_for(url: str, queue: str = QUEUE) -> dramatiq.Broker:
    """The broker of ``url`` (one per process), with the task actor declared on ``queue``."""
    with _lock:
        broker = _brokers.get(url)
        if broker is None:
            # each broker's client (pika, redis) is loaded only where its URL is used
            if url.startswith(("amqp://", "amqps://")):
                from dramatiq.brokers.rabbitmq import RabbitmqBroker

                broker = RabbitmqBroker(url=url, confirm_delivery=True)
            elif url.startswith(("redis://", "rediss://")):
                from dramatiq.brokers.redis import RedisBroker

                broker = RedisBroker(url=url)  # type: ignore[no-untyped-call]
            else:
                raise ConfigurationError(
                    "MAMORU_BROKER_URL: an amqp:// (RabbitMQ) or redis:// URL is expected"
                )
            dramatiq.set_broker(broker)
            dramatiq.actor(
                actor_name="mamoru_task",
                queue_name=queue,
                broker=broker,
                max_retries=5,
                min_backoff=500,
                time_limit=3_600_000,
            )(run_task)
            _brokers[url] = broker
        return broker


def run_task(task: str, args: dict[str, Any]) -> None:
    """The actor's body in a worker: open the workspace once, run the task."""
    from mamoru.settings import Settings

    ws = _worker_ws.get("ws")
    if ws is None:
        with _lock:
            ws = _worker_ws.get("ws")
            if ws is None:
                ws = _worker_ws["ws"] = Workspace.open(Settings())
    try:
        TASKS[task](ws, args)
    finally:
        release_memory()


def use_workspace(ws: Workspace | None) -> None:
    """The workspace the worker's tasks run in: the one ``mamoru worker`` opened (one database pool,
    one policy and one vault a process, not a second of each opened by the first task); ``None`` when
    it closes (a task run later opens its own)."""
    with _lock:
        if ws is None:
            _worker_ws.pop("ws", None)
        else:
            _worker_ws["ws"] = ws


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        trim = getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None
    return cast("Callable[[int], int] | None", trim)


#: glibc's mallopt() parameter for the most arenas, and the number the worker keeps to.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2


def limit_malloc_arenas() -> None:
    """Let the threads started from now on share two allocator arenas (glibc; elsewhere nothing is
    done). By default glibc gives up to eight per core, one to each thread as it first allocates, and
    each keeps what its thread freed: a worker's threads taking tasks in turn each grew their own to
    the size of a package build. The threads hold the interpreter's lock while they allocate, so
    sharing costs them next to nothing (the same advice as MALLOC_ARENA_MAX=2 for threaded servers)."""
    trim = _malloc_trim()  # glibc found, or not
    if trim is None:
        return
    import ctypes
    import ctypes.util

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(ctypes.util.find_library("c")).mallopt(_M_ARENA_MAX, MALLOC_ARENAS)


def release_memory() -> None:
    """Hand the memory a finished task freed back to the system. The C allocator keeps freed pages for
    reuse, in one arena per thread that allocated, so a worker whose threads each once built a large
    package (100,000 rows) kept the peak of every one of them resident for good; ``malloc_trim`` (glibc;
    elsewhere nothing is done) returns them, in a few milliseconds after a task."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def submit(ws: Workspace, task: str, **args: Any) -> None:
    """Hand ``task`` to the queue, or run it now when there is no broker."""
    if task not in TASKS:
        raise ConfigurationError(f"no background task '{task}'")
    url = ws.settings.broker_url
    if not url:
        TASKS[task](ws, args)
        return
    broker = broker_for(url, ws.settings.queue_name)
    broker.get_actor("mamoru_task").send(task, args)
