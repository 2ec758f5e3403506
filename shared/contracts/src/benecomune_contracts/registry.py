"""The registry of public event types: versioned type name → contract model.

Every contract class is registered with the :func:`contract` decorator when its module is
imported; importing :mod:`benecomune_contracts` imports them all.
"""

from __future__ import annotations

import re
from typing import TypeVar

from benecomune_contracts.base import ContractEvent
from benecomune_contracts.topics import get_topic

__all__ = [
    "UnknownEventType",
    "all_contracts",
    "contract",
    "contracts_for_topic",
    "get_contract",
    "parse_event",
]

E = TypeVar("E", bound=type[ContractEvent])

TYPE_NAME_PATTERN = re.compile(r"^benecomune\.[a-z][a-z0-9-]*\.[A-Z][A-Za-z0-9]*\.v[1-9][0-9]*$")
"""``benecomune.<service>.<EventName>.v<version>``."""

_REGISTRY: dict[str, type[ContractEvent]] = {}


class UnknownEventType(ValueError):
    """A message carries a type name no contract is registered for."""

    def __init__(self, type_name: str) -> None:
        super().__init__(f"unknown event type {type_name!r}")
        self.type_name = type_name


def contract(cls: E) -> E:
    """Class decorator registering a contract event under its ``type_name``.

    Checks that the type name is versioned (``benecomune.<service>.<Name>.v<N>``), that the
    topic is a known domain topic and matches the type name's service, and that the type name
    is not taken by another class.
    """
    if not (isinstance(cls, type) and issubclass(cls, ContractEvent)):
        raise TypeError(f"{cls!r} is not a ContractEvent subclass")
    type_name = cls.__dict__.get("type_name")
    topic = cls.__dict__.get("topic")
    if not isinstance(type_name, str) or not isinstance(topic, str):
        raise TypeError(f"{cls.__qualname__} must set the class variables type_name and topic")
    if not TYPE_NAME_PATTERN.match(type_name):
        raise ValueError(
            f"{cls.__qualname__}: type name {type_name!r} is not of the form "
            "benecomune.<service>.<EventName>.v<version>"
        )
    get_topic(topic)  # a known domain topic
    if not type_name.startswith(topic + "."):
        raise ValueError(f"{cls.__qualname__}: type {type_name!r} is not published on {topic!r}")
    existing = _REGISTRY.get(type_name)
    if existing is not None and existing is not cls:
        raise ValueError(
            f"type name {type_name!r} is already registered by {existing.__module__}."
            f"{existing.__qualname__}"
        )
    _REGISTRY[type_name] = cls
    return cls


def get_contract(type_name: str) -> type[ContractEvent]:
    """The contract class registered under ``type_name``; raises :class:`UnknownEventType`."""
    try:
        return _REGISTRY[type_name]
    except KeyError:
        raise UnknownEventType(type_name) from None


def parse_event(type_name: str, payload: bytes) -> ContractEvent:
    """Parse a message value as the contract ``type_name`` (the ``ce_type`` header).

    Raises :class:`UnknownEventType` for an unregistered type and
    :class:`pydantic.ValidationError` for a payload that does not match the contract (both are
    :class:`ValueError` subclasses).
    """
    return get_contract(type_name).from_json_bytes(payload)


def all_contracts() -> tuple[type[ContractEvent], ...]:
    """Every registered contract class, sorted by type name."""
    return tuple(_REGISTRY[name] for name in sorted(_REGISTRY))


def contracts_for_topic(topic: str) -> tuple[type[ContractEvent], ...]:
    """The registered contract classes published on ``topic``, sorted by type name."""
    return tuple(cls for cls in all_contracts() if cls.topic == topic)
