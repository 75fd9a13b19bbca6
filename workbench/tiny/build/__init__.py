"""Training of the embedded tiny MiniGPT-4: foundation pretraining of the frozen parts, stage 1, stage 2.

Modules, in build order: ``tokenizer`` -> ``llm_pretrain`` -> ``vision_pretrain`` (+ ``probe``) ->
``features`` (frozen Q-Former output cache) -> ``stages`` (stage 1) -> ``curation`` -> ``stages`` (stage 2);
``build`` runs them all and writes ``models/tiny/``.
"""
