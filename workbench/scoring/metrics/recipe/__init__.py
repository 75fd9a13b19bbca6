"""Folder of the local `evaluate` module recipe.py (load it by path, not by import)."""
