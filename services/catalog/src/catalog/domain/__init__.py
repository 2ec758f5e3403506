"""The catalog domain: providers, offerings, slots, packages."""
