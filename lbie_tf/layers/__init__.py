"""The custom Keras layers that are the paper: attention, C-GRU, termination gate, fusion (Algorithm 1),
upsampling, and the released code's BatchNorm with a choice of inference statistics. One class per file."""

from lbie_tf.layers.bilinear_upsampling import (
    BilinearKernelInitializer,
    BilinearUpsampling,
)
from lbie_tf.layers.centre_identity_initializer import CentreIdentityInitializer
from lbie_tf.layers.composite_layer import CompositeLayer
from lbie_tf.layers.conv_gru_cell import ConvGRUCell
from lbie_tf.layers.inference_statistics_batch_normalization import (
    InferenceStatisticsBatchNormalization,
)
from lbie_tf.layers.recurrent_attentive_fusion import RecurrentAttentiveFusion
from lbie_tf.layers.region_text_attention import RegionTextAttention
from lbie_tf.layers.termination_gate import TerminationGate

__all__ = [
    "BilinearKernelInitializer",
    "BilinearUpsampling",
    "CentreIdentityInitializer",
    "CompositeLayer",
    "ConvGRUCell",
    "InferenceStatisticsBatchNormalization",
    "RecurrentAttentiveFusion",
    "RegionTextAttention",
    "TerminationGate",
]
