"""What the tiny model's build measures about itself, for its card; nothing here feeds back into training.

``probe`` (linear probes on the frozen encoder), ``slot_ceiling`` (what the frozen LLM reads from true soft slots),
``dev_eval`` (development items through the product's own generation and scorers), ``heldout`` (the held-out eval
sets through ``workbench generate`` and ``compare``).
"""
