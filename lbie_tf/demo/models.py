"""The models the page serves: segmenters by name (the shipped ones — every folder of `lbie_tf/pretrained` that
holds a segmenter, so a newly shipped model appears without a change here — or the one model a user names with
`--model_dir` / `--saved_model`, loaded as `lbie-edit` loads it) and an optional colorizer (`--colorizer_dir`).
Segmenters are loaded on first use and kept; a Keras segmenter is called through one TensorFlow graph
(`GraphSegmenter`)."""

from __future__ import annotations

import json
import os

from lbie_tf import pretrained
from lbie_tf.data import cosal
from lbie_tf.errors import ConfigError, DataError

COLORIZER_SIZE = cosal.CosalConfig().image_size  # the CoSaL colorization data's square side


def shipped_segmenters() -> list[str]:
    """Names of the shipped models whose metadata describes a segmenter (the default first)."""
    names = [name for name in pretrained.available()
             if "model" in _metadata(os.path.join(pretrained.PRETRAINED_DIR, name, pretrained.METADATA_FILE))]
    return sorted(names, key=lambda name: name != pretrained.DEFAULT_SEGMENTER)


def _metadata(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class GraphSegmenter:
    """A Keras segmenter whose calls run as one TensorFlow graph (`tf.function`), traced by the first call (the
    server's warm-up edit); its other attributes (`image_size`, `check_inputs`, ...) are the model's.

    Called op by op (eagerly, as `lbie-edit` calls it once), the shipped segmenter took 0.45 s a call here,
    holding Python's lock for every op, which the page's server threads then wait for (about 4 s a request
    through the page); as a graph, 0.03 s, with the same outputs.
    """

    def __init__(self, model):
        import tensorflow as tf

        self.model = model
        self._call = tf.function(model, reduce_retracing=True)

    def __call__(self, inputs: dict) -> dict:
        return self._call(inputs)

    def __getattr__(self, name: str):
        return getattr(self.__dict__["model"], name)


class DemoModels:
    """The page's models.

    Args:
        model_dir: a `train_segmentation.py` run to serve instead of the shipped segmenters.
        saved_model: an `lbie-export` version folder to serve instead of the shipped segmenters.
        colorizer_dir: a CoSaL `train_colorization.py` run for the colorization tab (None: the tab says that
            no colorizer is loaded); a Flowers run is refused with one `ConfigError` line.
    """

    def __init__(self, model_dir: str | None = None, saved_model: str | None = None,
                 colorizer_dir: str | None = None):
        from lbie_tf.serving.loading import load_colorizer

        self._model_dir, self._saved_model = model_dir, saved_model
        own = model_dir or saved_model
        self.segmenter_names = [f"your model: {own}"] if own else shipped_segmenters()
        self._segmenters = {}
        self.colorizer = None
        if colorizer_dir:
            from lbie_tf.tasks.cosal_colorization import check_compatible

            self.colorizer = load_colorizer(colorizer_dir)
            if self.colorizer.vocabulary is not None:
                raise ConfigError(f"--colorizer_dir={colorizer_dir} is a Flowers colorization run; the page's "
                                  f"colorization tab serves CoSaL colorizers (colourise with lbie-edit "
                                  f"--model_dir={colorizer_dir}, or serve it with lbie-export)")
            check_compatible(self.colorizer.config)

    @property
    def default_segmenter(self) -> str:
        """The name the page selects first."""
        return self.segmenter_names[0]

    def segmenter(self, name: str):
        """The segmenter called `name` (one of `segmenter_names`), loaded on first use: a `GraphSegmenter`, or
        the `ExportedSegmenter` of `--saved_model`."""
        if name not in self.segmenter_names:
            raise DataError(f"no model named {name!r}; choose one of: {', '.join(self.segmenter_names)}")
        if name not in self._segmenters:
            self._segmenters[name] = self._load(name)
        return self._segmenters[name]

    def _load(self, name: str):
        from lbie_tf.cli.edit import load_model

        if self._saved_model:
            return load_model(saved_model=self._saved_model)  # already a graph (its exported signature)
        return GraphSegmenter(load_model(self._model_dir) if self._model_dir else load_model(pretrained=name))
