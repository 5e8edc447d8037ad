"""A convolution kernel initialised to the identity map: the centre tap is the identity matrix, the rest 0."""

from __future__ import annotations

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="lbie")
class CentreIdentityInitializer(keras.initializers.Initializer):
    """Initialiser for a `Conv2D` kernel `[kh, kw, in_channels, out_channels]` (odd `kh`, `kw`) such that the
    convolution ("same" padding) starts as the identity: the centre tap holds the identity matrix (channel `c`
    to channel `c`; channels beyond `min(in, out)` all 0), every other tap is 0.

    Used for the C-GRU's `W7` (`S_{t+1} = W7 ⊗ h`, `--output_projection_init=identity`): the next state then
    starts equal to the step output, as in the released code's `S_{t+1} = h`, instead of a random mix of it.
    """

    def __call__(self, shape, dtype=None):
        kh, kw, in_channels, out_channels = shape
        if kh % 2 == 0 or kw % 2 == 0:
            raise ValueError(f"CentreIdentityInitializer needs an odd kernel size, got {kh}×{kw}")
        kernel = np.zeros(shape, dtype=np.float64)
        kernel[kh // 2, kw // 2] = np.eye(in_channels, out_channels)
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self):
        return {}
