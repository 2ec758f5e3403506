"""benecomune_cli."""
