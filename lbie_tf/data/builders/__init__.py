"""TFDS dataset builders (`tfds build datasets/<name>` runs them through the thin files in `datasets/`)."""
