"""The booking service's adapters: its read model and its contract mapping."""
