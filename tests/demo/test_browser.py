"""The lbie-demo page in a real headless Chromium (the system one, driven by Playwright): an example edited
through the page gives `lbie-edit`'s class map for the same input; an unknown caption word and a file that is
not an image show the library's one-line message in the page; the page still edits afterwards.

`LBIE_DEMO_SCREENSHOT=docs/images/demo_segmentation.png make test-browser` also saves the page after the
successful edit (the README's screenshot)."""

import io
import os

import numpy as np
import pytest
from PIL import Image

from lbie_tf.cli import edit
from tests.demo.conftest import import_or_require

pytestmark = pytest.mark.browser
TIMEOUT_MS = 60_000  # a model call on a busy 2-core machine, with room to spare
VIEWPORT = {"width": 1400, "height": 1500}


@pytest.fixture(scope="module")
def browser_page(chromium_path, demo_page):
    """A Playwright page showing the demo (`(page, url)`), in headless Chromium."""
    sync_api = import_or_require("playwright.sync_api")
    url = demo_page[0]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=["--no-sandbox"])
        page = browser.new_page(viewport=VIEWPORT)
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        page.wait_for_selector("#segment-button")
        yield page, url
        browser.close()


def pick_example(page, index: int, caption: str) -> None:
    """Clicks a row of the generated examples and waits until it has filled in the caption."""
    page.locator(f'#segment-examples [data-testid="dataset-cell-{index}-0"]').click()
    page.wait_for_function("caption => document.querySelector('#segment-caption textarea').value === caption",
                           arg=caption)


def submit_and_wait_for_class_map(page, url: str, previous_src: str | None = None) -> np.ndarray:
    """Clicks "Segment" and returns the result image the page shows, once it differs from `previous_src`."""
    page.click("#segment-button")
    handle = page.wait_for_function(
        "previous => { const img = document.querySelector('#class-map img');"
        " return img && img.complete && img.src !== previous ? img.src : null; }", arg=previous_src or "")
    response = page.request.get(handle.json_value())
    assert response.ok, response.status
    return np.asarray(Image.open(io.BytesIO(response.body())).convert("RGB"))


def class_map_src(page) -> str:
    return page.locator("#class-map img").get_attribute("src")


def expect_message(page, text: str) -> None:
    """Waits until the page shows an error message holding `text`."""
    page.get_by_text(text, exact=False).first.wait_for(state="visible")


def test_edit_in_the_browser(browser_page, demo_page, tmp_path):
    page, url = browser_page
    _, _, examples = demo_page
    image_path, caption = examples[1]

    pick_example(page, 1, caption)
    shown = submit_and_wait_for_class_map(page, url)
    assert edit.main(["lbie-edit", f"--image={image_path}", f"--text={caption}",
                      f"--out={tmp_path / 'edit.png'}"]) == 0
    np.testing.assert_array_equal(shown, np.asarray(Image.open(tmp_path / "edit.png").convert("RGB")))
    page.locator("#explanation img").wait_for(state="visible")
    screenshot = os.environ.get("LBIE_DEMO_SCREENSHOT")
    page.screenshot(path=screenshot or str(tmp_path / "page.png"), full_page=True)

    page.fill("#segment-caption textarea", "circle is purple; " * 9)
    page.click("#segment-button")
    expect_message(page, "unknown word(s) 'purple'")

    notes = tmp_path / "notes.txt"
    notes.write_text("not an image\n")
    page.locator("#segment-upload button[aria-label='Clear']").click()
    page.locator("#segment-upload input[type=file]").set_input_files(str(notes))
    page.fill("#segment-caption textarea", caption)
    page.click("#segment-button")
    expect_message(page, "notes.txt is not a PNG, JPEG, GIF or BMP image")

    previous = class_map_src(page)
    pick_example(page, 0, examples[0][1])
    assert submit_and_wait_for_class_map(page, url, previous).shape[2] == 3
