"""Folder of the local `evaluate` module pope.py (load it by path, not by import)."""
