"""A model's inference call with its weights folded in as constants, for the exported graphs.

    call = frozen_call(model, {"image": tf.TensorSpec([None, 48, 48, 3]), "tokens": tf.TensorSpec(...)})
    outputs = call(image=image, tokens=tokens)       # == model({"image": image, "tokens": tokens}, training=False)

A serving graph that reads its weights from variables executes a `ReadVariableOp` per weight and recomputes
every weight-only expression (a kernel reshaped or transposed, an upsampling kernel built from its factors) on
each request; at CoSaL's sizes those small ops cost about as much as the convolutions. With the weights as
constants, TensorFlow's graph optimiser folds all weight-only expressions once when the SavedModel is loaded.
The outputs are those of the model: the same operations on the same values.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


def frozen_call(model, input_specs: dict[str, tf.TensorSpec]):
    """`model(inputs, training=False)` as a concrete function of keyword tensors whose variables are constants.

    Args:
        model: a built Keras model called with a dict of tensors.
        input_specs: the dict's `tf.TensorSpec`s by key (a `None` batch dimension stays dynamic).

    Returns:
        A concrete function called with the same keys as keyword arguments, returning the model's output dict.
    """
    names = sorted(input_specs)

    @tf.function(input_signature=[input_specs[name] for name in names])
    def call(*tensors):
        return model(dict(zip(names, tensors)), training=False)

    concrete = call.get_concrete_function()
    frozen = convert_variables_to_constants_v2(concrete)

    def keyword_call(**inputs):
        return tf.nest.pack_sequence_as(concrete.structured_outputs, frozen(*[inputs[name] for name in names]))

    return keyword_call
