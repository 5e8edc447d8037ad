"""The Gradio page of `lbie-demo`: a segmentation tab and a colorization tab over `DemoModels`.

A user's mistake (an unknown caption word, a file that is not an image, an empty canvas) is shown in the page
as the library's one-line message (`gr.Error`); anything else is logged with its traceback on the server and
shown as one line too, and the server goes on serving. Every model call runs under one concurrency group
(`MODEL_CONCURRENCY_ID`, one call at a time): requests wait in Gradio's queue, at most `MAX_QUEUED_REQUESTS`,
instead of running a model from several threads at once.
"""

from __future__ import annotations

import functools
import logging

import gradio as gr
import numpy as np

from lbie_tf.cli.app import error_line
from lbie_tf.demo.colorization import colorize_request
from lbie_tf.demo.models import COLORIZER_SIZE, DemoModels
from lbie_tf.demo.page_inputs import SKETCH_SIDE, sketch_background, sketch_image, uploaded_image
from lbie_tf.demo.segmentation import SegmentationView, segment_request
from lbie_tf.errors import DataError, LbieError
from lbie_tf.visualization.edit_figures import SENTENCE_COLORS, sentence_labels

MODEL_CONCURRENCY_ID = "model"
MAX_QUEUED_REQUESTS = 64
SKETCH_BRUSH_PIXELS = 14
TITLE = "lbie-tf: language-based image editing"
RESULT_HEIGHT = 220  # pixels: the small result pictures are shown enlarged, pixels as blocks (PAGE_CSS)
ATTENTION_HEIGHT = 360
PAGE_CSS = ("#class-map img, #overlay img, #stop-steps img, #colourised img "
            "{image-rendering: pixelated; width: 100%; height: 100%; object-fit: contain}")
_LOG = logging.getLogger(__name__)


def one_line_errors(handler):
    """`handler` with every exception turned into a `gr.Error` of one line (see the module docstring)."""
    @functools.wraps(handler)
    def wrapped(*args):
        try:
            return handler(*args)
        except LbieError as error:
            raise gr.Error(error_line(error), duration=None, print_exception=False) from None
        except Exception as error:  # a bug: the traceback goes to the server log, the page gets one line
            _LOG.exception("lbie-demo: request failed")
            raise gr.Error(f"internal error ({type(error).__name__}); the server log has the details",
                           duration=None, print_exception=False) from None
    return wrapped


def input_image(upload: str | None, sketch: dict | None) -> np.ndarray:
    """The image of a request: the chosen file (upload or example) when there is one, else the sketch."""
    return uploaded_image(upload) if upload else sketch_image(sketch)


def sentence_color_map(sentences: list[str]) -> dict[str, str]:
    """Label → hex colour of each sentence, the `--explain` figure's colours."""
    return {label: "#{:02x}{:02x}{:02x}".format(*SENTENCE_COLORS[k])
            for k, label in enumerate(sentence_labels(sentences))}


def attention_value(view: SegmentationView | None, step: int):
    """The attention view for fusion step `step` (1-based): the model input with one mask per sentence."""
    if view is None or not view.attended:
        return None
    return gr.AnnotatedImage(value=(view.model_input, view.attended[min(step, len(view.attended)) - 1]),
                             color_map=sentence_color_map(view.sentences))


def build_page(models: DemoModels, segmentation_examples: list[tuple[str, str]],
               colorization_examples: list[tuple[str, str]]) -> gr.Blocks:
    """The page, its queue set up (not launched).

    Args:
        models: what the page serves.
        segmentation_examples: `(image_path, caption)` pairs offered in the segmentation tab.
        colorization_examples: `(image_path, caption)` pairs offered in the colorization tab.

    Returns:
        The `gr.Blocks`; its API names are `segment` and `colorize`.
    """
    @one_line_errors
    def segment(model_name, sketch, upload, caption):
        view = segment_request(models.segmenter(model_name), input_image(upload, sketch), caption)
        steps = max(len(view.attended), 1)
        return (view.class_map, view.overlay, view.stop_steps, view.explanation,
                gr.Radio(choices=list(range(1, steps + 1)), value=steps),
                attention_value(view, steps), view)

    @one_line_errors
    def colorize(upload, caption):
        if models.colorizer is None:
            raise DataError("no colorizer is loaded: start lbie-demo with --colorizer_dir=<a "
                            "train_colorization.py --flagfile=configs/cosal_colorization.cfg run>")
        if not upload:
            raise DataError("nothing to colourise: upload a grey image or pick an example")
        return colorize_request(models.colorizer, uploaded_image(upload), caption, COLORIZER_SIZE)

    with gr.Blocks(title=TITLE) as page:
        gr.Markdown(f"# {TITLE}\nSegment a sketch of shapes by a caption, or colourise a grey picture by one "
                    "(Chen et al., CVPR 2018). The same path as `lbie-edit`.")
        with gr.Tab("Segmentation"):
            with gr.Row():
                with gr.Column():
                    model_name = gr.Dropdown(models.segmenter_names, value=models.default_segmenter, label="model")
                    sketch = gr.Sketchpad(
                        value={"background": sketch_background(), "layers": [], "composite": None},
                        canvas_size=(SKETCH_SIDE, SKETCH_SIDE), fixed_canvas=True, type="numpy",
                        brush=gr.Brush(colors=["#000000"], color_mode="fixed", default_size=SKETCH_BRUSH_PIXELS),
                        label="sketch: one filled black shape per cell (used when no file is chosen)",
                        elem_id="sketch")
                    upload = gr.File(label="or an image file (PNG, JPEG, GIF, BMP)", type="filepath",
                                     elem_id="segment-upload")
                    caption = gr.Textbox(label="caption: 9 sentences such as 'circle is red' or 'blue above "
                                         "square'", lines=3, elem_id="segment-caption")
                    gr.Examples([list(pair) for pair in segmentation_examples], [upload, caption],
                                label="generated examples (held-out CoSaL test sketches)", elem_id="segment-examples")
                    segment_button = gr.Button("Segment", variant="primary", elem_id="segment-button")
                with gr.Column():
                    with gr.Row():
                        class_map = gr.Image(label="result (class colours)", format="png", interactive=False,
                                             height=RESULT_HEIGHT, elem_id="class-map")
                        overlay = gr.Image(label="overlay", format="png", interactive=False,
                                           height=RESULT_HEIGHT, elem_id="overlay")
                        stop_steps = gr.Image(label="stop step of each region", format="png", interactive=False,
                                              height=RESULT_HEIGHT, elem_id="stop-steps")
                    step = gr.Radio([1], value=1, label="fusion step", elem_id="fusion-step")
                    attention = gr.AnnotatedImage(label="regions by the sentence they attend to most (hover a "
                                                  "sentence or a region)", format="png", height=ATTENTION_HEIGHT,
                                                  elem_id="attention")
            explanation = gr.Image(label="the lbie-edit --explain figure", format="png", interactive=False,
                                   elem_id="explanation")
            view = gr.State(None)
            segment_button.click(segment, [model_name, sketch, upload, caption],
                                 [class_map, overlay, stop_steps, explanation, step, attention, view],
                                 api_name="segment", concurrency_id=MODEL_CONCURRENCY_ID, concurrency_limit=1)
            step.change(attention_value, [view, step], attention, api_visibility="private")
        with gr.Tab("Colorization"):
            with gr.Row():
                with gr.Column():
                    grey_upload = gr.File(label="a grey image file (PNG, JPEG, GIF, BMP)", type="filepath",
                                          elem_id="colorize-upload")
                    grey_caption = gr.Textbox(label="caption: 9 sentences such as 'circle is red'", lines=3,
                                              elem_id="colorize-caption")
                    gr.Examples([list(pair) for pair in colorization_examples], [grey_upload, grey_caption],
                                label="generated examples (every shape at the same lightness)")
                    colorize_button = gr.Button("Colourise", variant="primary", elem_id="colorize-button")
                colourised = gr.Image(label="colourised", format="png", interactive=False, height=RESULT_HEIGHT,
                                      elem_id="colourised")
            colorize_button.click(colorize, [grey_upload, grey_caption], colourised, api_name="colorize",
                                  concurrency_id=MODEL_CONCURRENCY_ID, concurrency_limit=1)
    return page.queue(max_size=MAX_QUEUED_REQUESTS, default_concurrency_limit=1)
