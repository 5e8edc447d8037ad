"""20 concurrent segmentation requests to the lbie-demo page over HTTP (Gradio's client, loopback): every one
is answered, none lost or mixed up — each result is the class map of its own input."""

import concurrent.futures
import os

import numpy as np
import pytest
from PIL import Image

from lbie_tf.cli.cosal_example import write_example
from lbie_tf.cli.edit import edits_from_text_file
from lbie_tf.demo.page_inputs import uploaded_image
from lbie_tf.demo.segmentation import segment_request
from tests.demo.conftest import import_or_require

pytestmark = pytest.mark.browser
CONCURRENT_REQUESTS = 20


def distinct_inputs(folder: str, count: int) -> list[tuple[str, str]]:
    """`count` different held-out CoSaL sketches with their captions."""
    pairs = []
    for index in range(count):
        (edit,) = edits_from_text_file(write_example(os.path.join(folder, str(index)), index), folder)
        pairs.append((edit.image_path, ". ".join(edit.sentences)))
    return pairs


def test_concurrent_requests_are_all_answered_with_their_own_result(demo_page, tmp_path):
    client_module = import_or_require("gradio_client")
    url, models, _ = demo_page
    inputs = distinct_inputs(str(tmp_path), CONCURRENT_REQUESTS)
    model = models.segmenter(models.default_segmenter)
    expected = [segment_request(model, uploaded_image(path), caption).class_map for path, caption in inputs]
    assert len({array.tobytes() for array in expected}) > 1  # the inputs give different results

    client = client_module.Client(url, verbose=False)
    jobs = [client.submit(models.default_segmenter, None, client_module.handle_file(path), caption,
                          api_name="/segment") for path, caption in inputs]
    with concurrent.futures.ThreadPoolExecutor(CONCURRENT_REQUESTS) as pool:
        results = list(pool.map(lambda job: job.result(timeout=300), jobs))
    for result, want in zip(results, expected):
        np.testing.assert_array_equal(np.asarray(Image.open(result[0]).convert("RGB")), want)
