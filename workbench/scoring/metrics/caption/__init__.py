"""Folder of the local `evaluate` module caption.py (load it by path, not by import)."""
