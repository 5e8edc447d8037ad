"""What the image readers take: the formats `lbie-edit` and the serving graph read, and the pixel limit of
every image reader (`lbie-edit`, the exported `serving_default` signature and the dataset builders' Pillow
reader `lbie_tf.serving.images`).

An image with more than `MAX_PIXELS` pixels (width × height, read from its header) is refused before its pixels
are decoded. 40 megapixels is e.g. 8,000 × 5,000, more than most cameras give; decoding and resizing such an
image takes about 1 GB at its peak (the RGB pixels as float32 for the resize, 480 MB, and the decoded bytes).
A GIF counts the pixels of all its frames, since TensorFlow's GIF decoder reads every frame to return the
first.
"""

MAX_PIXELS = 40_000_000
FORMATS = ("PNG", "JPEG", "GIF", "BMP")  # recognised from their first bytes (`image_preprocessing.SIGNATURES`)
