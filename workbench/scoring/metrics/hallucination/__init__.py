"""Folder of the local `evaluate` module hallucination.py (load it by path, not by import)."""
