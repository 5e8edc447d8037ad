"""The lbie-demo web page for the tests that need one: `lbie-demo` started once per session on a free loopback
port, with the shipped segmenter (the model users get), and the system Chromium."""

import os
import shutil

import pytest

CHROMIUM_CANDIDATES = ("chromium", "chromium-browser")  # Debian's package names the binary `chromium`
STARTUP_TIMEOUT_S = 240  # TensorFlow and Gradio imports, the model and its warm-up, on a busy 2-core machine
SETUP_HINT = "`make test-browser` installs the demo extra; .ci/run installs Debian's chromium"


def require(reason: str):
    """Skips the test with `reason`, or fails it when `LBIE_REQUIRE_BROWSER=1` (`make test-browser`, CI)."""
    if os.environ.get("LBIE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{reason} (LBIE_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def import_or_require(module: str):
    """The module, or skip / fail (`require`) when the demo extra that holds it is not installed."""
    try:
        return __import__(module, fromlist=["_"])
    except ImportError:
        require(f"{module} is not installed: pip install -e '.[demo]' ({SETUP_HINT})")


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium (no browser is downloaded); skip / fail when there is none."""
    path = os.environ.get("LBIE_CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_CANDIDATES)), None)
    if not path:
        require(f"no system Chromium: apt-get install -y chromium, or set LBIE_CHROMIUM ({SETUP_HINT})")
    return path


@pytest.fixture(scope="session")
def demo_page(tmp_path_factory):
    """`(url, models, examples)`: the page served by `lbie-demo` in its own process (as a user starts it), the
    `DemoModels` it serves (loaded here too, for expected results) and its segmentation examples (generated
    here the same way)."""
    import_or_require("gradio")
    from lbie_tf.demo.examples import segmentation_examples
    from lbie_tf.demo.models import DemoModels
    from lbie_tf.demo.process import free_loopback_port, start_demo_process, wait_until_answering

    log = tmp_path_factory.mktemp("demo") / "lbie-demo.log"
    server, url = start_demo_process(free_loopback_port(), str(log))
    try:
        try:
            wait_until_answering(url, server, STARTUP_TIMEOUT_S)
        except RuntimeError as error:
            pytest.fail(f"{error}:\n{log.read_text()}")
        yield url, DemoModels(), segmentation_examples(str(tmp_path_factory.mktemp("examples")))
    finally:
        server.terminate()
        server.wait(timeout=30)
