"""HTTP clients of the services' APIs, one module per service (the portal imports no service)."""
