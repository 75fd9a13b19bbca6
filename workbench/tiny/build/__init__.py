"""The tiny MiniGPT-4's build: foundation pretraining of the frozen parts, stage 1, curation, stage 2, the card.

Modules, in build order: ``tokenizer`` -> ``llm_pretrain`` -> ``vision_pretrain`` -> ``stages`` (stage 1) ->
``curation`` -> ``stages`` (stage 2) -> ``card``; ``build`` runs them all (with ``common``, ``config``, ``labels``
and ``world_api``) and writes ``models/tiny/``. The checks it records come from ``workbench.tiny.diagnostics``.
"""
