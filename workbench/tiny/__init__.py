"""The embedded tiny MiniGPT-4's factory: the procedural world it learns from (``world``), its deterministic build
(``build``: world -> corpus -> tokenizer -> foundation -> stage 1 -> curation -> stage 2 -> card) and the checks of
what it learned (``diagnostics``). The factory depends on the workbench (its model, generation and scorers), never
the reverse: outside this folder only ``workbench build-tiny`` imports it.
"""
