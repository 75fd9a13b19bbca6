"""Generation: batched decoding that stops on the end symbol, the vision-feature cache, and the
loop that runs a model over an eval set into a resumable run folder.

Public API::

    GenerationConfig(sample=False, max_new_tokens=300, ...)      # .chat_sampling(), .from_flags()
    generate_batch(model, questions, features, config) -> [GenerationResult(output, n_tokens, finish)]
    VisionFeatureCache(directory=None).features(model, image_paths)
    run_generation(model, eval_set, out_dir, config, batch_size=, limit=, seed=, cache=, shard=)
"""

from workbench.generation.batch import GenerationResult, generate_batch, generate_from_contexts
from workbench.generation.config import GenerationConfig
from workbench.generation.runner import RunSummary, run_generation
from workbench.generation.stopping import EndSymbolStop, cut_at_end
from workbench.generation.vision_cache import VisionFeatureCache

__all__ = [
    "EndSymbolStop",
    "GenerationConfig",
    "GenerationResult",
    "RunSummary",
    "VisionFeatureCache",
    "cut_at_end",
    "generate_batch",
    "generate_from_contexts",
    "run_generation",
]
