"""One shared check for every custom layer (keras-hub `run_layer_test` style).

`run_layer_test` builds the layer, calls it eagerly, under `tf.function` (optionally with XLA), checks the
output shapes and the trainable-weight count, takes one gradient step that changes the weights, and
round-trips it through `get_config`/`from_config` and a `.keras` file, each time with equal outputs.
"""

from __future__ import annotations

import inspect
import warnings

import keras
import numpy as np
import tensorflow as tf

ATOL = 1e-5


def _flat(structure):
    return keras.tree.flatten(structure)


def _assert_close(actual, expected, atol=ATOL, what=""):
    actual, expected = _flat(actual), _flat(expected)
    assert len(actual) == len(expected), what
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(np.asarray(a), np.asarray(e), atol=atol, rtol=1e-4, err_msg=what)


def _shapes(structure):
    return keras.tree.map_structure(lambda t: tuple(t.shape), structure)


def _normalize_shapes(structure):
    """Shapes (tuples of ints/None) as leaves; dicts, lists and tuples of shapes as structure."""
    if isinstance(structure, dict):
        return {key: _normalize_shapes(value) for key, value in structure.items()}
    if hasattr(structure, "as_list"):
        return tuple(structure.as_list())
    if all(d is None or isinstance(d, (int, np.integer)) for d in structure):
        return tuple(None if d is None else int(d) for d in structure)
    return tuple(_normalize_shapes(item) for item in structure)


def _loss(outputs):
    """A scalar that depends on every float output (squares, so softmax rows still carry a gradient)."""
    terms = [tf.reduce_mean(tf.square(tf.cast(t, tf.float32)))
             for t in _flat(outputs) if t.dtype.is_floating]
    return tf.add_n(terms)


def run_layer_test(layer_cls, init_kwargs, call_args, call_kwargs=None, expected_output_shape=None,
                   expected_num_trainable_weights=None, build_shapes=None, jit_compile=False,
                   allow_missing_gradients=False, run_training_test=True, run_saving_test=True,
                   tmp_path=None, atol=ATOL):
    """Exercise `layer_cls(**init_kwargs)` on `call_args` / `call_kwargs` (numpy arrays or None).

    Args:
        layer_cls: the layer class.
        init_kwargs: constructor arguments.
        call_args: tuple of positional call arguments (arrays, or None to skip an optional argument).
        call_kwargs: dict of keyword call arguments (arrays or None).
        expected_output_shape: the output shapes, same structure as the output (tuples, batch included).
        expected_num_trainable_weights: int.
        build_shapes: optional dict `{"<arg>_shape": shape}`; when given, `build()` is called explicitly
            and the weights must exist before the first call.
        jit_compile: also compare a `tf.function(jit_compile=True)` call.
        allow_missing_gradients: allow trainable weights without gradient from the test loss.
        run_training_test / run_saving_test: switch those parts off.
        tmp_path: directory for the `.keras` file (pytest's `tmp_path`).
        atol: absolute tolerance of every output comparison.

    Returns:
        `(layer, outputs)` of the eager call (before the gradient step).
    """
    call_kwargs = dict(call_kwargs or {})
    call_args = tuple(call_args)

    def call(layer):
        return layer(*call_args, **call_kwargs)

    layer = layer_cls(**init_kwargs)
    if build_shapes is not None:
        layer.build(**build_shapes)
        assert layer.built
        if expected_num_trainable_weights is not None:
            assert len(layer.trainable_weights) == expected_num_trainable_weights, "weights after build()"

    # Eager call, shapes and weight count.
    outputs = call(layer)
    if expected_output_shape is not None:
        assert _normalize_shapes(_shapes(outputs)) == _normalize_shapes(expected_output_shape)
    if expected_num_trainable_weights is not None:
        assert len(layer.trainable_weights) == expected_num_trainable_weights
    if hasattr(layer, "compute_output_shape") and expected_output_shape is not None:
        shapes = {f"{name}_shape": None if value is None else value.shape
                  for name, value in zip(_call_arg_names(layer), call_args)}
        shapes.update({f"{name}_shape": value.shape for name, value in call_kwargs.items() if value is not None})
        shapes = {k: v for k, v in shapes.items() if v is not None}
        try:
            if len(shapes) == 1:  # Keras passes a single shape positionally, whatever its name
                computed = layer.compute_output_shape(*shapes.values())
            else:
                computed = layer.compute_output_shape(**shapes)
        except NotImplementedError:
            computed = None
        if computed is not None:
            assert _normalize_shapes(computed) == _normalize_shapes(expected_output_shape)

    # Graph (and XLA) calls give the same result.
    _assert_close(tf.function(lambda: call(layer))(), outputs, atol, "tf.function")
    if jit_compile:
        _assert_close(tf.function(lambda: call(layer), jit_compile=True)(), outputs, atol, "jit_compile")

    layer_config = layer.get_config()

    # One gradient step changes the weights.
    if run_training_test and layer.trainable_weights:
        before = [np.array(w.numpy()) for w in layer.trainable_weights]
        with tf.GradientTape() as tape:
            loss = _loss(call(layer))
        grads = tape.gradient(loss, layer.trainable_weights)
        missing = [w.path for w, g in zip(layer.trainable_weights, grads) if g is None]
        if not allow_missing_gradients:
            assert not missing, f"no gradient for {missing}"
        pairs = [(g, w) for g, w in zip(grads, layer.trainable_weights) if g is not None]
        assert pairs, "no trainable weight received a gradient"
        keras.optimizers.SGD(learning_rate=0.1).apply_gradients(pairs)
        changed = [not np.array_equal(b, w.numpy()) for b, w in zip(before, layer.trainable_weights)]
        assert any(changed), "the gradient step changed no weight"
        outputs_after = call(layer)
    else:
        outputs_after = outputs

    # get_config / from_config round trip.
    assert layer.get_config() == layer_config
    clone = layer_cls.from_config(layer_config)
    assert clone.get_config() == layer_config
    call(clone)
    clone.set_weights(layer.get_weights())
    _assert_close(call(clone), outputs_after, atol, "from_config")

    # .keras save / load round trip (the layer inside a functional model).
    if run_saving_test:
        assert tmp_path is not None, "pass pytest's tmp_path"
        model, feed = _functional_model(layer, call_args, call_kwargs)
        path = str(tmp_path / f"{layer.name}.keras")
        with warnings.catch_warnings():
            # Keras' own save path calls np.array(tf_variable, copy=False) (NumPy 2 DeprecationWarning).
            warnings.filterwarnings("ignore", message="__array__ implementation", category=DeprecationWarning)
            model.save(path)
        restored = keras.saving.load_model(path)
        _assert_close(restored(feed), model(feed), atol, ".keras round trip")
        _assert_close(model(feed), outputs_after, atol, "functional wrapper")
    return layer, outputs


def _call_arg_names(layer):
    return [name for name in inspect.signature(layer.call).parameters]


def _functional_model(layer, call_args, call_kwargs):
    """Wrap a built layer in a functional model whose inputs are the non-None call arguments."""
    names = _call_arg_names(layer)
    inputs, feed, args, kwargs = {}, {}, [], {}

    def make_input(name, value):
        value = np.asarray(value)
        tensor = keras.Input(shape=value.shape[1:], dtype=str(value.dtype), name=name)
        inputs[name], feed[name] = tensor, value
        return tensor

    for name, value in zip(names, call_args):
        args.append(None if value is None else make_input(name, value))
    for name, value in call_kwargs.items():
        kwargs[name] = None if value is None else make_input(name, value)
    return keras.Model(inputs=inputs, outputs=layer(*args, **kwargs)), feed
