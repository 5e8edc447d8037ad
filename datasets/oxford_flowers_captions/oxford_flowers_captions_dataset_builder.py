"""The file `tfds build datasets/oxford_flowers_captions` runs. The builder lives in the package
(`lbie_tf.data.builders.oxford_flowers_captions.OxfordFlowersCaptions`), so an installed lbie-tf
prepares the data too; TFDS wants a builder class defined in this file, named `Builder`, and this is it.
"""

from lbie_tf.data.builders.oxford_flowers_captions import OxfordFlowersCaptions


class Builder(OxfordFlowersCaptions):
    """`lbie_tf.data.builders.oxford_flowers_captions.OxfordFlowersCaptions` under the name `tfds build` looks for."""
