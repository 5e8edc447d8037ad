"""A model's inference call with its weights folded in as constants, for the exported graphs.

    call = frozen_call(model, {"image": tf.TensorSpec([None, 48, 48, 3]), "tokens": tf.TensorSpec(...)})
    outputs = call(image=image, tokens=tokens)       # == model({"image": image, "tokens": tokens}, training=False)

A serving graph that reads its weights from variables executes a `ReadVariableOp` per weight and recomputes
every weight-only expression (a kernel reshaped or transposed, an upsampling kernel built from its factors) on
each request; at CoSaL's sizes those small ops cost about as much as the convolutions. With the weights as
constants, TensorFlow's graph optimiser folds all weight-only expressions once when the SavedModel is loaded.
The outputs are those of the model: the same operations on the same values.

With `jit_compile=True` the call is compiled by XLA (`tf.function(jit_compile=True)`, kept in a SavedModel as
the function's `_XlaMustCompile` attribute): XLA fuses the recurrent fusion's many small ops, which at batch 1
take most of the call's time. The outputs agree with the uncompiled call to float32 rounding (1e-5), not bit
for bit. A server must be able to run XLA on its CPU: TensorFlow in Python does, `tensorflow_model_server`
only with `--xla_cpu_compilation_enabled=true`. XLA compiles once per batch size it sees.
"""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2


def frozen_call(model, input_specs: dict[str, tf.TensorSpec], jit_compile: bool = False):
    """`model(inputs, training=False)` as a concrete function of keyword tensors whose variables are constants.

    Args:
        model: a built Keras model called with a dict of tensors.
        input_specs: the dict's `tf.TensorSpec`s by key (a `None` batch dimension stays dynamic).
        jit_compile: compile the frozen call with XLA.

    Returns:
        A concrete function called with the same keys as keyword arguments, returning the model's output dict.
    """
    names = sorted(input_specs)

    @tf.function(input_signature=[input_specs[name] for name in names])
    def call(*tensors):
        return model(dict(zip(names, tensors)), training=False)

    concrete = call.get_concrete_function()
    # XLA compiles functional control flow (While), not the v1 loop ops (Enter, Exit) that freezing lowers it to
    # by default; TensorFlow's runtime runs either, so the loops stay functional only where XLA needs them.
    frozen = convert_variables_to_constants_v2(concrete, lower_control_flow=not jit_compile)
    if jit_compile:
        frozen = tf.function(frozen, jit_compile=True)

    def keyword_call(**inputs):
        return tf.nest.pack_sequence_as(concrete.structured_outputs, frozen(*[inputs[name] for name in names]))

    return keyword_call
