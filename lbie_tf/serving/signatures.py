"""The exported signatures of each kind of model, and the check that a model is one the product path can run.

    check_servable(model)                            # one-line DataError unless lbie-edit / lbie-export can run it
    tokenizer = caption_tokenizer(model)             # the in-graph CoSaL tokenizer of its caption shape
    functions = serving_functions(model, tokenizer)  # {"serving_default": ..., "predict_tensors": ...}

Segmenter (`LanguageSegmenter`):
- `serving_default`: inputs `image_bytes` string `[batch]` and `text` string `[batch]`; outputs `class_map`
  int32 `[batch, H, W]`, `edited_image` uint8 `[batch, H, W, 3]` (the classes in `RGB_PALETTE`), `image_size`
  int32 `[batch, 2]` and `stop_step` int32 `[batch, m, n]` (0-based).
- `predict_tensors`: inputs `image` float32 `[batch, S, S, 3]` (0..255) and `tokens` int32
  `[batch, sentences, words]`; outputs `logits`, `class_map`, `stop_step`, `attention` `[batch, T, m, n,
  sentences]`.

Colorizer (`LanguageColorizer` of a CoSaL colorization run):
- `serving_default`: the same inputs; outputs `edited_image` uint8 `[batch, H, W, 3]` (the input's lightness
  with the predicted colours, `colorization_pixels.colourise`) and `image_size` int32 `[batch, 2]`.
- `predict_tensors`: inputs `gray` float32 `[batch, S, S, 1]` (L/50 − 1) and `tokens` int32 `[batch, 27]`
  (`tasks.cosal_colorization.caption_ids`); outputs `ab` float32 `[batch, S, S, 2]` (a/110, b/110) and
  `attention` float32 `[batch, T, S/4, S/4, 27]` over the words.

Both kinds read captions with the same in-graph `CaptionTokenizer` (the CoSaL vocabulary: an unknown word is
an error, as on the command line) and images with `image_preprocessing`. Images of one batch are answered at
each one's own size, padded to the largest (class -1, black). Bad requests fail with `InvalidArgument`.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.configs.cosal import CosalConfig
from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.errors import DataError
from lbie_tf.models.colorizer import LanguageColorizer
from lbie_tf.serving.caption_tokenizer import CaptionTokenizer
from lbie_tf.serving.colorization_pixels import colourise_requests, gray_input
from lbie_tf.serving.frozen_model import frozen_call
from lbie_tf.serving.graph_checks import in_order
from lbie_tf.serving.image_preprocessing import colour_class_maps, prepare_images, resize_class_maps
from lbie_tf.tasks import cosal_colorization

COLORIZER_IMAGE_SIZE = CosalConfig().image_size  # CoSaL colorizers are trained at CoSaL's native size


def check_servable(model) -> None:
    """Raise a one-line `DataError` unless `model` is a segmenter or colorizer that the serving graph and
    `lbie-edit` can run: CoSaL captions of the in-graph tokenizer's vocabulary, and for a segmenter the 7
    CoSaL colour classes (the palette of `edited_image`)."""
    problems = _colorizer_problems(model.config) if isinstance(model, LanguageColorizer) else \
        _segmenter_problems(model.config)
    if problems:
        raise DataError(f"this model cannot be served or edited with: {'; '.join(problems)} (lbie-edit and "
                        f"lbie-export serve CoSaL segmenters and CoSaL colorizers; evaluate ReferIt models with "
                        f"lbie-evaluate-referit)")


def _segmenter_problems(config) -> list[str]:
    problems = []
    if getattr(config, "text_encoder", None) != "sentences":
        problems.append(f"it reads {getattr(config, 'text_encoder', 'no')} text, not CoSaL sentences of tokens")
    elif config.vocab_size != vocab.VOCAB_SIZE:
        problems.append(f"its vocabulary has {config.vocab_size} words, not the {vocab.VOCAB_SIZE} CoSaL tokens")
    if getattr(config, "num_classes", None) != vocab.NUM_CLASSES:
        problems.append(f"it predicts {getattr(config, 'num_classes', '?')} classes, not the "
                        f"{vocab.NUM_CLASSES} CoSaL colour classes")
    return problems


def _colorizer_problems(config) -> list[str]:
    if not config.use_text:
        return ["it is the text-free baseline (use_text=False): it reads no caption"]
    if config.vocab_size != cosal_colorization.VOCAB_SIZE:
        return [f"its vocabulary has {config.vocab_size} word ids, not CoSaL colorization's "
                f"{cosal_colorization.VOCAB_SIZE} (a Flowers colorizer: its vocabulary is not stored with the run)"]
    return []


def caption_tokenizer(model) -> CaptionTokenizer:
    """The in-graph tokenizer of `model`'s caption shape (a colorizer: CoSaL's 9 sentences of 3 tokens)."""
    if isinstance(model, LanguageColorizer):
        return CaptionTokenizer()
    return CaptionTokenizer(model.sentences, model.words)


def serving_functions(model, tokenizer: CaptionTokenizer, batch: int | None = None) -> dict:
    """`{"serving_default": tf.function, "predict_tensors": tf.function}` for a servable `model`; `batch`
    fixes the batch dimension of `predict_tensors` (None: any)."""
    if isinstance(model, LanguageColorizer):
        return _colorizer_functions(model, tokenizer, batch)
    return _segmenter_functions(model, tokenizer, batch)


def _request_images(image_bytes: tf.Tensor, text: tf.Tensor, size: int) -> tuple[tf.Tensor, tf.Tensor]:
    """`prepare_images` of a request, after checking it holds one caption per image."""
    with tf.control_dependencies(in_order([
        (tf.size(image_bytes) == tf.size(text),
         ["image_bytes and text need one caption per image; got", tf.size(image_bytes), "images and",
          tf.size(text), "captions"]),
    ])):
        return prepare_images(image_bytes, size)


_REQUEST = [tf.TensorSpec([None], tf.string, name="image_bytes"), tf.TensorSpec([None], tf.string, name="text")]


def _segmenter_functions(model, tokenizer: CaptionTokenizer, batch: int | None) -> dict:
    size = model.config.image_size
    call = frozen_call(model, {"image": tf.TensorSpec([batch, size, size, 3], tf.float32),
                               "tokens": tf.TensorSpec([batch, model.sentences, model.words], tf.int32)})

    def predict(image, tokens) -> dict:
        outputs = call(image=image, tokens=tokens)
        return {"logits": outputs["logits"],
                "class_map": tf.argmax(outputs["logits"], axis=-1, output_type=tf.int32),
                "stop_step": tf.cast(outputs["stop_step"], tf.int32),
                "attention": outputs["attention"]}

    @tf.function(input_signature=_REQUEST)
    def serving_default(image_bytes, text):
        images, image_sizes = _request_images(image_bytes, text, size)
        outputs = predict(images, tokenizer(text))
        class_map = resize_class_maps(outputs["class_map"], image_sizes)
        return {"edited_image": colour_class_maps(class_map, vocab.RGB_PALETTE), "class_map": class_map,
                "image_size": image_sizes, "stop_step": outputs["stop_step"]}

    @tf.function(input_signature=[tf.TensorSpec([batch, size, size, 3], tf.float32, name="image"),
                                  tf.TensorSpec([batch, model.sentences, model.words], tf.int32, name="tokens")])
    def predict_tensors(image, tokens):
        return predict(image, tokens)

    return {"serving_default": serving_default, "predict_tensors": predict_tensors}


def _colorizer_functions(model, tokenizer: CaptionTokenizer, batch: int | None) -> dict:
    size = COLORIZER_IMAGE_SIZE
    call = frozen_call(model, {"gray": tf.TensorSpec([batch, size, size, 1], tf.float32),
                               "tokens": tf.TensorSpec([batch, cosal_colorization.WORDS], tf.int32)})

    def predict(gray, tokens) -> dict:
        outputs = call(gray=gray, tokens=tokens)
        return {"ab": outputs["ab"], "attention": outputs["attention"]}

    @tf.function(input_signature=_REQUEST)
    def serving_default(image_bytes, text):
        images, image_sizes = _request_images(image_bytes, text, size)
        outputs = predict(gray_input(images), cosal_colorization.caption_ids(tokenizer(text)))
        return {"edited_image": colourise_requests(image_bytes, outputs["ab"], image_sizes),
                "image_size": image_sizes}

    @tf.function(input_signature=[tf.TensorSpec([batch, size, size, 1], tf.float32, name="gray"),
                                  tf.TensorSpec([batch, cosal_colorization.WORDS], tf.int32, name="tokens")])
    def predict_tensors(gray, tokens):
        return predict(gray, tokens)

    return {"serving_default": serving_default, "predict_tensors": predict_tensors}
