"""`lbie-demo`: the edit path of `lbie-edit` behind a local web page (Gradio), for segmentation and colorization.

One job per module:
- `models`: the models the page serves (the shipped segmenters, or a user's `--model_dir` / `--saved_model`;
  a colorizer from `--colorizer_dir`), loaded once and warmed up;
- `examples`: generated CoSaL examples for the page (`lbie_tf.cli.cosal_example`);
- `page_inputs`: what the page hands over (an uploaded file, a sketch) → uint8 RGB pixels, by the image-file
  checks of `lbie-edit`;
- `segmentation`: one segmentation request → the pictures the page shows (`lbie_tf.cli.edit.segment`);
- `colorization`: one colorization request → the colourised picture;
- `page`: the Gradio page wiring those together, with one-line errors shown in the page;
- `server`: writing the examples, warming the model up and serving the page on 127.0.0.1;
- `process`: `lbie-demo` in a process of its own (the browser tests, `benchmarks/demo_requests.py`).

The entry point is `lbie_tf.cli.demo` (`lbie-demo`). Gradio is an optional extra: `pip install -e '.[demo]'`.
"""
