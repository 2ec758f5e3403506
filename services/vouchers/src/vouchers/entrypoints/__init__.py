"""Entry points: HTTP routes and the process main; they only translate into commands."""
