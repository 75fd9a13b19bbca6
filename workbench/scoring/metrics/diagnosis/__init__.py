"""Folder of the local `evaluate` module diagnosis.py (load it by path, not by import)."""
