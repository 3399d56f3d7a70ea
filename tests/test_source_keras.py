"""Errata B7 with Keras itself: what the source's Keras example really does.

Source B's regression MLP sets ``self.input_shape``, calls ``compile()`` inside its epoch
loop and puts a ReLU on the regression output.  Run with Keras 3 (torch backend):

* ``self.input_shape = ...`` is accepted by Keras 3 (Keras 2 raised ``AttributeError``);
* ``compile()`` in the loop with one optimiser *instance* keeps Adam's state (only wasted
  work); with the string ``'adam'`` it builds a new Adam, moments reset, every epoch;
* a ReLU output is never negative, so negative targets cannot be fitted.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
ex = pytest.importorskip("weightdecay.experiments.optimizers")

# Keras's torch backend converts tensors with numpy's pre-2.0 __array__ protocol.
pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation:DeprecationWarning")


class SourceMLP(keras.Model):
    """The source's model class, reduced to two layers."""

    def __init__(self, input_shape, activation):
        super().__init__()
        self.input_shape = input_shape
        self.dense1 = keras.layers.Dense(4, activation="relu")
        self.dense2 = keras.layers.Dense(1, activation=activation)

    def call(self, x):
        return self.dense2(self.dense1(x))


@pytest.fixture(scope="module")
def data():
    X, y, _ = ex.source_regression_data(200, 2, noise=0.0, rng=42)
    return X.astype("float32"), y.astype("float32")[:, None]


def test_keras3_accepts_the_input_shape_assignment():
    assert SourceMLP(2, "relu").input_shape == 2


def test_compile_in_the_loop_keeps_one_optimizer_instance_and_relu_output_is_never_negative(data):
    X, y = data
    assert (y < 0).any()  # the targets the ReLU output cannot reach
    keras.utils.set_random_seed(0)
    model, optimizer = SourceMLP(2, "relu"), keras.optimizers.Adam(learning_rate=0.01)
    steps_per_epoch = int(np.ceil(len(X) / 32))
    for epoch in range(3):  # the source's loop
        model.compile(optimizer=optimizer, loss="mse")
        model.fit(X, y, batch_size=32, epochs=1, verbose=0)
        assert int(optimizer.iterations) == steps_per_epoch * (epoch + 1)  # state kept
    assert float(model.predict(X, verbose=0).min()) >= 0.0
    assert float(np.mean((model.predict(X, verbose=0) - y) ** 2)) >= float(np.mean(np.minimum(y, 0) ** 2))


def test_compile_in_the_loop_with_a_string_restarts_adam_every_epoch(data):
    X, y = data
    keras.utils.set_random_seed(0)
    model = SourceMLP(2, None)
    steps_per_epoch = int(np.ceil(len(X) / 32))
    for _ in range(3):
        model.compile(optimizer="adam", loss="mse")
        model.fit(X, y, batch_size=32, epochs=1, verbose=0)
        assert int(model.optimizer.iterations) == steps_per_epoch  # a new Adam each time
