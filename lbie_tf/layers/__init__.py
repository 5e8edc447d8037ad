"""The custom Keras layers that are the paper: attention, C-GRU, termination gates, fusion, upsampling (and the
released code's BatchNorm with a choice of inference statistics)."""

from lbie_tf.layers.attention import RegionTextAttention
from lbie_tf.layers.batch_norm import InferenceStatisticsBatchNormalization
from lbie_tf.layers.conv_gru import ConvGRUCell
from lbie_tf.layers.fusion import RecurrentAttentiveFusion, select_steps
from lbie_tf.layers.termination import (
    GumbelTemperatureSchedule,
    TerminationGate,
    first_stop,
    gumbel_softmax,
    marginal_nll,
    most_likely_stop,
    reinforce_surrogate,
    sample_stop_steps,
    stop_log_probs,
)
from lbie_tf.layers.upsampling import BilinearKernelInitializer, BilinearUpsampling

__all__ = [
    "BilinearKernelInitializer",
    "BilinearUpsampling",
    "ConvGRUCell",
    "GumbelTemperatureSchedule",
    "InferenceStatisticsBatchNormalization",
    "RecurrentAttentiveFusion",
    "RegionTextAttention",
    "TerminationGate",
    "first_stop",
    "gumbel_softmax",
    "marginal_nll",
    "most_likely_stop",
    "reinforce_surrogate",
    "sample_stop_steps",
    "select_steps",
    "stop_log_probs",
]
