"""The booking service's HTTP API."""
