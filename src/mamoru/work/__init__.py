"""Background work behind one interface: request fulfilment, sweeps, retention, checkpoints, signals.

In-process by default; with ``MAMORU_BROKER_URL`` set, tasks go to a Dramatiq queue on RabbitMQ
(``amqp://``) or Redis (``redis://``) and ``mamoru worker`` processes, on any machine that reaches the
broker and the database, run them.
"""
