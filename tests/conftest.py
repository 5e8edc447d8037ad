"""Test session setup: two logical CPU devices (for MirroredStrategy tests) before TensorFlow starts."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import tensorflow as tf  # noqa: E402

_cpus = tf.config.list_physical_devices("CPU")
tf.config.set_logical_device_configuration(
    _cpus[0], [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)

import pytest  # noqa: E402


@pytest.fixture(scope="session")
def mirrored_strategy():
    """One 2-replica MirroredStrategy on the logical CPUs for the whole session (collective ops allow only one
    per process; ReductionToOneDevice avoids the collective clash with strategies that layer tests build)."""
    return tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"],
                                          cross_device_ops=tf.distribute.ReductionToOneDevice())


@pytest.fixture(scope="session")
def referit_prepared(tmp_path_factory):
    """The tiny ReferIt fixture (tests/data/referit_fixture.py) written and built with the TFDS builder once
    per session: `(manual_dir, data_dir)`."""
    from lbie_tf.data import referit
    from tests.data.referit_fixture import write_referit_fixture

    root = tmp_path_factory.mktemp("referit")
    manual_dir = write_referit_fixture(str(root))
    data_dir = str(root / "tensorflow_datasets")
    referit.builder_class(data_dir=data_dir).download_and_prepare(
        download_config=referit.tfds.download.DownloadConfig(manual_dir=manual_dir))
    return manual_dir, data_dir
