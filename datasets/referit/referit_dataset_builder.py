"""The file `tfds build datasets/referit` runs. The builder lives in the package
(`lbie_tf.data.builders.referit.Referit`), so an installed lbie-tf prepares the data too; TFDS wants a
builder class defined in this file, named `Builder`, and this is it.
"""

from lbie_tf.data.builders.referit import Referit


class Builder(Referit):
    """`lbie_tf.data.builders.referit.Referit` under the name `tfds build` looks for."""
