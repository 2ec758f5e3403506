"""benecomune_contracts."""
