"""Folder of the local `evaluate` module failure.py (load it by path, not by import)."""
