"""lbie_tf: Language-Based Image Editing with Recurrent Attentive Models (Chen et al., CVPR 2018).

    from lbie_tf import load_segmenter, load_colorizer
    segmenter = load_segmenter()                               # the shipped CoSaL model
    segmenter = load_segmenter(model_dir="runs/cosal_t4")      # or a training run, a SavedModel, a shipped name
    colorizer = load_colorizer()                               # the shipped CoSaL colorizer; same sources
    model = load_model(model_dir="runs/any")                   # either kind, read from the run's model_config.json

The loaders are imported on first use, so `import lbie_tf` does not start TensorFlow.
"""

__version__ = "0.1.0"
__all__ = ["load_colorizer", "load_model", "load_segmenter"]


def __getattr__(name: str):
    if name in __all__:
        from lbie_tf.serving import loading

        return getattr(loading, name)
    raise AttributeError(f"module 'lbie_tf' has no attribute {name!r}")
