"""Packaging for lbie-tf: Language-Based Image Editing (Chen et al., CVPR 2018) in TensorFlow 2 / Keras 3."""

from setuptools import find_packages, setup

setup(
    name="lbie-tf",
    version="0.1.0",
    description="Language-Based Image Editing with Recurrent Attentive Models, in TensorFlow 2 / Keras 3",
    long_description=open("README.md", encoding="utf-8").read(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["lbie_tf", "lbie_tf.*"]),
    package_data={"lbie_tf": ["pretrained/*/*.json", "pretrained/*/*.h5", "presets/*.cfg"]},
    py_modules=["train_segmentation", "train_colorization"],
    install_requires=[
        "tensorflow==2.21.0",
        "keras==3.15.1",
        "tensorboard==2.21.0",
        "tensorflow-datasets==4.9.10",
        "importlib_resources>=7.1",  # needed by tensorflow-datasets on Python >= 3.9, not declared by it
        "numpy>=2.0,<3",
        "pillow>=10",
        "absl-py>=2.1",
        "scipy>=1.13",
    ],
    extras_require={
        "test": ["pytest>=8", "pytest-xdist>=3.5", "ruff==0.17.5"],
        # lbie-demo's web page, and the browser that tests it (Playwright drives the system Chromium).
        "demo": ["gradio==6.31.0", "gradio_client==2.7.2", "playwright==1.65.2"],
    },
    entry_points={"console_scripts": [
        "lbie-train-segmentation=train_segmentation:run",
        "lbie-train-colorization=train_colorization:run",
        "lbie-edit=lbie_tf.cli.edit:main",
        "lbie-demo=lbie_tf.cli.demo:main",
        "lbie-export=lbie_tf.cli.export:main",
        "lbie-summary=lbie_tf.cli.summary:main",
        "lbie-evaluate-referit=lbie_tf.cli.evaluate_referit:main",
        "lbie-prepare-referit=lbie_tf.cli.prepare_referit:main",
    ]},
)
