"""A transactional outbox: Celery tasks to send, written in the same transaction as the work they finish.

A task enqueued with ``enqueue_on_commit`` is a row committed with the work; it is published after the
commit and marked sent. If the broker is down the row stays unsent and the request still succeeds; the
``outbox.send_pending`` beat job publishes it once the broker is back. With eager tasks (the embedded
mode, no broker) nothing is written: the task runs in-process at commit, as it always did.
"""
