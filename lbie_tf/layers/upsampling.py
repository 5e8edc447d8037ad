"""Learned upsampling initialised to bilinear interpolation (paper §4.1: "a single-layer deconvolutional
network of kernel size 16, stride 8 ... initialized with bilinear transforms", FCN style)."""

from __future__ import annotations

import keras
import numpy as np


def _bilinear_1d(size):
    """FCN `upsample_filt` along one axis: `1 − |x − center| / factor`."""
    factor = (size + 1) // 2
    center = factor - 1 if size % 2 == 1 else factor - 0.5
    return 1.0 - np.abs(np.arange(size, dtype=np.float64) - center) / factor


@keras.saving.register_keras_serializable(package="lbie")
class BilinearKernelInitializer(keras.initializers.Initializer):
    """Initialiser for a `Conv2DTranspose` kernel `[kh, kw, out_channels, in_channels]`: channel `c` is
    bilinearly interpolated into output channel `c` (cross-channel entries 0; channels beyond
    `min(in, out)` are all 0)."""

    def __call__(self, shape, dtype=None):
        kh, kw, out_channels, in_channels = shape
        filt = np.outer(_bilinear_1d(kh), _bilinear_1d(kw))
        kernel = np.zeros(shape, dtype=np.float64)
        for c in range(min(out_channels, in_channels)):
            kernel[:, :, c, c] = filt
        return keras.ops.convert_to_tensor(kernel, dtype=dtype or "float32")

    def get_config(self):
        return {}


@keras.saving.register_keras_serializable(package="lbie")
class BilinearUpsampling(keras.layers.Conv2DTranspose):
    """A transposed convolution (padding "same") initialised to per-channel bilinear upsampling.

    With `kernel_size = 2 · strides` (the paper's 16 / 8) a constant map upsamples to the same constant
    (away from the border), and the layer starts as exact bilinear interpolation; it is trainable unless
    `trainable=False` (a fixed bilinear upsampler).

    Args:
        filters: int, output channels (normally equal to the input channels, e.g. the 7 class logits).
        kernel_size: int or pair, transposed-convolution kernel (paper 16).
        strides: int or pair, upsampling factor (paper 8).
        trainable: bool, whether the kernel and bias are trained.
        **kwargs: other `keras.layers.Conv2DTranspose` arguments (`use_bias`, regularisers, `name`, ...);
            `padding` is always "same" and `kernel_initializer` always bilinear.

    Call arguments:
        inputs: float tensor `[batch, h, w, in_channels]`.

    Returns:
        Float tensor `[batch, h · strides, w · strides, filters]`.

    Reference:
        Chen et al., CVPR 2018, §4.1 (upsampling layer); Long et al., CVPR 2015 (FCN bilinear init).
    """

    def __init__(self, filters, kernel_size=16, strides=8, trainable=True, **kwargs):
        padding = kwargs.pop("padding", "same")
        if str(padding).lower() != "same":
            raise ValueError(f"`BilinearUpsampling` always uses padding='same', got {padding!r}.")
        kwargs.pop("kernel_initializer", None)
        kwargs.setdefault("bias_initializer", "zeros")
        super().__init__(filters=filters, kernel_size=kernel_size, strides=strides, padding="same",
                         kernel_initializer=BilinearKernelInitializer(), trainable=trainable, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.pop("padding", None)
        config.pop("kernel_initializer", None)
        return config
