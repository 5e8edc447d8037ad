"""`frozen_call`: the model's outputs, with the weights as constants (no variable read left in the graph)."""

import numpy as np
import tensorflow as tf

from lbie_tf.configs import SegmenterConfig
from lbie_tf.models.segmenter import build_segmenter
from lbie_tf.serving.frozen_model import frozen_call


def test_frozen_call_equals_the_model_and_reads_no_variable():
    tf.keras.utils.set_random_seed(3)
    model = build_segmenter(SegmenterConfig())
    rng = np.random.default_rng(0)
    inputs = {"image": tf.constant(rng.uniform(0, 255, (2, 48, 48, 3)), tf.float32),
              "tokens": tf.constant(rng.integers(0, 20, (2, 9, 3)), tf.int32)}
    call = frozen_call(model, {"image": tf.TensorSpec([None, 48, 48, 3], tf.float32),
                               "tokens": tf.TensorSpec([None, 9, 3], tf.int32)})
    frozen, expected = call(**inputs), model(inputs, training=False)
    assert set(frozen) == set(expected)
    for key in expected:
        np.testing.assert_allclose(frozen[key].numpy(), np.asarray(expected[key]), atol=1e-5)

    graph = tf.function(lambda image, tokens: call(image=image, tokens=tokens)).get_concrete_function(
        tf.TensorSpec([1, 48, 48, 3], tf.float32), tf.TensorSpec([1, 9, 3], tf.int32)).graph
    ops = {node.op for function in graph.as_graph_def().library.function for node in function.node_def}
    ops |= {op.type for op in graph.get_operations()}
    assert "ReadVariableOp" not in ops and not graph.variables
