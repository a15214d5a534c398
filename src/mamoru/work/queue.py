"""Submit work: to the broker when ``MAMORU_BROKER_URL`` is set, otherwise run it here.

Dramatiq was chosen over Celery: one small dependency tree, explicit acknowledgement after a message is
processed (a killed worker's messages go back to the queue), and the same code over RabbitMQ and Redis.
"""

from __future__ import annotations

import threading
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

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
            if url.startswith(("amqp://", "amqps://")):
                broker = RabbitmqBroker(url=url, confirm_delivery=True)
            elif url.startswith(("redis://", "rediss://")):
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
    TASKS[task](ws, args)


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
