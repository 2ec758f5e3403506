"""The version of the contracts package, also the ``info.version`` of the AsyncAPI document."""

__version__ = "0.1.0"
