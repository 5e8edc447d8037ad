"""A base for layers built from other layers, so that `model.summary(expand_nested=True)` lists them."""

from __future__ import annotations

import keras


class CompositeLayer(keras.layers.Layer):
    """A `keras.layers.Layer` whose direct sublayers are listed in `layers` (as for a `keras.Model`).

    Keras' summary expands any layer with a non-empty `layers` attribute, so the C-GRU, the attention, the
    termination gate and the LSTMs appear under their parent with their parameter counts.
    """

    @property
    def layers(self) -> list:
        return list(self._flatten_layers(include_self=False, recursive=False))
