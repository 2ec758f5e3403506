"""The correlation id that follows one piece of work across HTTP, the store and Kafka.

It lives in a context variable so that an HTTP request, or the processing of one Kafka message,
binds it once and every log line and every domain event recorded meanwhile carries it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import structlog

_correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def current_correlation_id() -> str | None:
    return _correlation_id.get()


def new_correlation_id() -> str:
    return uuid.uuid4().hex


@contextmanager
def correlation_scope(correlation_id: str | None) -> Iterator[str]:
    """Bind a correlation id (a new one when none is given) for the duration of the block."""
    value = correlation_id or new_correlation_id()
    token = _correlation_id.set(value)
    with structlog.contextvars.bound_contextvars(correlation_id=value):
        try:
            yield value
        finally:
            _correlation_id.reset(token)
