"""The exported signatures of each kind of model, and the check that a model is one the product path can run.

    check_servable(model)                            # one-line DataError unless lbie-edit / lbie-export can run it
    tokenizer = caption_tokenizer(model)             # the in-graph caption reader (a tf.Module to export)
    functions = serving_functions(model, tokenizer)  # {"serving_default": ..., "predict_tensors": ...}

Segmenter (`LanguageSegmenter`):
- `serving_default`: inputs `image_bytes` string `[batch]` and `text` string `[batch]`; outputs `class_map`
  int32 `[batch, H, W]`, `edited_image` uint8 `[batch, H, W, 3]` (the classes in `RGB_PALETTE`), `image_size`
  int32 `[batch, 2]` and `stop_step` int32 `[batch, m, n]` (0-based).
- `predict_tensors`: inputs `image` float32 `[batch, S, S, 3]` (0..255) and `tokens` int32
  `[batch, sentences, words]`; outputs `logits`, `class_map`, `stop_step`, `attention` `[batch, T, m, n,
  sentences]`.

Colorizer (`LanguageColorizer` of a CoSaL colorization run, or of a Flowers run that stored its
`vocabulary.json`):
- `serving_default`: the same inputs; outputs `edited_image` uint8 `[batch, H, W, 3]` (the input's lightness
  with the predicted colours, `colorization_pixels.colourise`) and `image_size` int32 `[batch, 2]`.
- `predict_tensors`: inputs `gray` float32 `[batch, S, S, 1]` (L/50 − 1) and `tokens` int32 `[batch, words]`;
  outputs `ab` float32 `[batch, S, S, 2]` (a/110, b/110) and `attention` float32 `[batch, T, S/4, S/4, words]`
  over the words. CoSaL: S = 48, 27 words (`tasks.cosal_colorization.caption_ids`); Flowers: the run's
  image size and `max_words` word ids.

Segmenters and CoSaL colorizers read captions with the in-graph `CaptionTokenizer` (the CoSaL vocabulary: an
unknown word is an error, as on the command line); a Flowers colorizer with the in-graph
`FlowersCaptionTokenizer` (its run's vocabulary as a table: an unknown word is `<unk>`); images are read by
`image_preprocessing` and resized as `colorizer_inputs` says for a colorizer. Images of one batch are answered
at each one's own size, padded to the largest (class -1, black). Bad requests fail with `InvalidArgument`.
"""

from __future__ import annotations

import tensorflow as tf

from lbie_tf.data import cosal_vocabulary as vocab
from lbie_tf.data.flowers_vocabulary import VOCABULARY_FILE
from lbie_tf.errors import DataError
from lbie_tf.models.colorizer import LanguageColorizer
from lbie_tf.serving.caption_tokenizer import CaptionTokenizer
from lbie_tf.serving.colorization_pixels import colourise_requests, gray_input
from lbie_tf.serving.colorizer_inputs import CosalInputs, FlowersInputs, colorizer_inputs
from lbie_tf.serving.frozen_model import frozen_call
from lbie_tf.serving.graph_checks import in_order
from lbie_tf.serving.image_preprocessing import colour_class_maps, prepare_images, resize_class_maps
from lbie_tf.tasks import cosal_colorization


def check_servable(model) -> None:
    """Raise a one-line `DataError` unless `model` is a segmenter or colorizer that the serving graph and
    `lbie-edit` can run: CoSaL captions of the in-graph tokenizer's vocabulary and, for a segmenter, the 7
    CoSaL colour classes (the palette of `edited_image`); or a Flowers colorizer with its run's vocabulary."""
    problems = _colorizer_problems(model) if isinstance(model, LanguageColorizer) else \
        _segmenter_problems(model.config)
    if problems:
        raise DataError(f"this model cannot be served or edited with: {'; '.join(problems)} (lbie-edit and "
                        f"lbie-export serve CoSaL segmenters, CoSaL colorizers and Flowers colorizers; evaluate "
                        f"ReferIt models with lbie-evaluate-referit)")


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


def _colorizer_problems(model) -> list[str]:
    config = model.config
    if not config.use_text:
        return ["it is the text-free baseline (use_text=False): it reads no caption"]
    if model.vocabulary is not None:
        if len(model.vocabulary.words) > config.vocab_size:
            return [f"its {VOCABULARY_FILE} has {len(model.vocabulary.words)} words but the model only "
                    f"{config.vocab_size} word ids"]
        return []
    if config.vocab_size != cosal_colorization.VOCAB_SIZE:
        return [f"its vocabulary has {config.vocab_size} word ids, not CoSaL colorization's "
                f"{cosal_colorization.VOCAB_SIZE}, and its run folder holds no {VOCABULARY_FILE} (a Flowers run "
                f"trained before runs stored it: run train_colorization.py on that --model_dir again with the "
                f"flags it was trained with, which writes the file, or retrain)"]
    return []


def caption_tokenizer(model) -> tf.Module:
    """The in-graph caption reader of `model`: a colorizer's `colorizer_inputs` (which holds its tokenizer),
    a segmenter's `CaptionTokenizer` of its caption shape."""
    if isinstance(model, LanguageColorizer):
        return colorizer_inputs(model)
    return CaptionTokenizer(model.sentences, model.words)


def serving_functions(model, tokenizer: tf.Module, batch: int | None = None, jit_compile: bool = False) -> dict:
    """`{"serving_default": tf.function, "predict_tensors": tf.function}` for a servable `model` and its
    `caption_tokenizer`; `batch` fixes the batch dimension of `predict_tensors` (None: any); `jit_compile`
    compiles the model's call in both with XLA (`frozen_model.frozen_call`; decoding, the tokenizer and the
    resizes stay TensorFlow ops)."""
    if isinstance(model, LanguageColorizer):
        return _colorizer_functions(model, tokenizer, batch, jit_compile)
    return _segmenter_functions(model, tokenizer, batch, jit_compile)


def _request_images(image_bytes: tf.Tensor, text: tf.Tensor, size: int,
                    pixels=None) -> tuple[tf.Tensor, tf.Tensor]:
    """`prepare_images` of a request (`pixels`: as there), after checking it holds one caption per image."""
    with tf.control_dependencies(in_order([
        (tf.size(image_bytes) == tf.size(text),
         ["image_bytes and text need one caption per image; got", tf.size(image_bytes), "images and",
          tf.size(text), "captions"]),
    ])):
        return prepare_images(image_bytes, size, pixels=pixels)


_REQUEST = [tf.TensorSpec([None], tf.string, name="image_bytes"), tf.TensorSpec([None], tf.string, name="text")]


def _segmenter_functions(model, tokenizer: CaptionTokenizer, batch: int | None, jit_compile: bool) -> dict:
    size = model.config.image_size
    call = frozen_call(model, {"image": tf.TensorSpec([batch, size, size, 3], tf.float32),
                               "tokens": tf.TensorSpec([batch, model.sentences, model.words], tf.int32)},
                       jit_compile)

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


def _colorizer_functions(model, inputs: CosalInputs | FlowersInputs, batch: int | None,
                         jit_compile: bool) -> dict:
    size = inputs.size
    call = frozen_call(model, {"gray": tf.TensorSpec([batch, size, size, 1], tf.float32),
                               "tokens": tf.TensorSpec([batch, inputs.words], tf.int32)}, jit_compile)

    def predict(gray, tokens) -> dict:
        outputs = call(gray=gray, tokens=tokens)
        return {"ab": outputs["ab"], "attention": outputs["attention"]}

    @tf.function(input_signature=_REQUEST)
    def serving_default(image_bytes, text):
        images, image_sizes = _request_images(image_bytes, text, size, inputs.pixels)
        outputs = predict(gray_input(images), inputs.ids(text))
        return {"edited_image": colourise_requests(image_bytes, outputs["ab"], image_sizes),
                "image_size": image_sizes}

    @tf.function(input_signature=[tf.TensorSpec([batch, size, size, 1], tf.float32, name="gray"),
                                  tf.TensorSpec([batch, inputs.words], tf.int32, name="tokens")])
    def predict_tensors(gray, tokens):
        return predict(gray, tokens)

    return {"serving_default": serving_default, "predict_tensors": predict_tensors}
