"""Starting the page on the loopback interface: examples written, the default segmenter loaded and warmed up
(one edit of the first example, so a user's first edit does not pay for it), then Gradio's server.

    page, url = start(DemoModels(), port=7860, folder="/tmp/lbie-demo", block=False)
    ...
    page.close()
"""

from __future__ import annotations

import os

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # nothing leaves the machine

from lbie_tf.demo import examples  # noqa: E402
from lbie_tf.demo.models import DemoModels  # noqa: E402
from lbie_tf.demo.page_inputs import uploaded_image  # noqa: E402
from lbie_tf.demo.segmentation import segment_request  # noqa: E402

HOST = "127.0.0.1"  # loopback only: the page is for the user of this machine
DEFAULT_PORT = 7860


def start(models: DemoModels, port: int, folder: str, block: bool = True):
    """Builds the page and serves it on `http://127.0.0.1:<port>/`.

    Args:
        models: what the page serves.
        port: the TCP port (must be free).
        folder: where the generated examples are written (the page may serve files from it).
        block: serve until interrupted (the command line); False: return once the server answers.

    Returns:
        `(page, url)`: the launched `gr.Blocks` (`page.close()` stops it) and its address.
    """
    from lbie_tf.demo.page import PAGE_CSS, build_page

    segmentation = examples.segmentation_examples(os.path.join(folder, "segmentation"))
    colorization = examples.colorization_examples(os.path.join(folder, "colorization"))
    image_path, caption = segmentation[0]
    segment_request(models.segmenter(models.default_segmenter), uploaded_image(image_path), caption)
    page = build_page(models, segmentation, colorization)
    _, url, _ = page.launch(server_name=HOST, server_port=port, prevent_thread_lock=not block, quiet=not block,
                            ssr_mode=False, allowed_paths=[folder], show_error=False, css=PAGE_CSS)
    return page, url
