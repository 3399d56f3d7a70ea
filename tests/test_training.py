import numpy as np
import pytest

torch = pytest.importorskip("torch")

from weightdecay import training  # noqa: E402


def _blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 5)).astype(np.float32) + 3 * np.eye(3, 5, dtype=np.float32)[y]
    return X, y


def test_mlp_structure():
    m = training.mlp(5, [8, 4], 3, dropout=0.2)
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Linear", "ReLU", "Dropout", "Linear", "ReLU", "Dropout", "Linear"]
    assert m(torch.zeros(2, 5)).shape == (2, 3)
    with pytest.raises(ValueError, match="dropout must lie in"):
        training.mlp(5, [8], 3, dropout=1.0)
    with pytest.raises(ValueError, match=r"hidden\[1\] must be an integer >= 1"):
        training.mlp(5, [8, 0], 3)


def test_train_learns_and_records_history():
    torch.manual_seed(0)
    X, y = _blobs()
    model = training.mlp(5, [16], 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = training.train(model, (X, y), optimizer=opt, epochs=15, batch_size=32, val_data=(X, y))
    assert hist["epoch"] == list(range(1, 16)) and hist["stopped_epoch"] is None
    assert hist["train_loss"][-1] < 0.5 * hist["train_loss"][0]
    assert hist["val_acc"][-1] > 0.9
    assert training.evaluate(model, (X, y))["acc"] == pytest.approx(hist["val_acc"][-1])


def test_train_is_deterministic_given_seeds():
    X, y = _blobs()
    results = []
    for _ in range(2):
        torch.manual_seed(1)
        model = training.mlp(5, [16], 3)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        results.append(training.train(model, (X, y), optimizer=opt, epochs=3, seed=7)["train_loss"])
    assert results[0] == results[1]


def test_penalty_is_added_to_the_loss_but_not_recorded():
    X, y = _blobs(64)
    torch.manual_seed(0)
    a = training.mlp(5, [8], 3)
    b = training.mlp(5, [8], 3)
    b.load_state_dict(a.state_dict())
    lam = 0.5
    training.train(a, (X, y), optimizer=torch.optim.SGD(a.parameters(), lr=0.1), epochs=1, batch_size=64,
                   penalty=lambda m: lam / 2 * sum((p**2).sum() for p in m.parameters()))
    training.train(b, (X, y), optimizer=torch.optim.SGD(b.parameters(), lr=0.1, weight_decay=lam), epochs=1, batch_size=64)
    for pa, pb in zip(a.parameters(), b.parameters()):
        torch.testing.assert_close(pa, pb)


def test_callbacks_can_stop_and_log():
    X, y = _blobs(64)

    class StopAtTwo:
        def __init__(self):
            self.ended = False

        def on_epoch_end(self, epoch, model, logs):
            logs["custom"] = epoch * 10
            return epoch == 2

        def on_train_end(self, model, history):
            self.ended = True

    cb = StopAtTwo()
    model = training.mlp(5, [8], 3)
    hist = training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=10, callbacks=[cb])
    assert hist["stopped_epoch"] == 2 and hist["custom"] == [10, 20] and cb.ended


def test_regression_targets_and_bad_inputs():
    X = np.random.default_rng(0).normal(size=(50, 3)).astype(np.float32)
    y = X @ np.array([1.0, -1.0, 0.5], dtype=np.float32)
    model = training.mlp(3, [8], 1)
    loss = lambda out, t: torch.nn.functional.mse_loss(out.squeeze(-1), t)  # noqa: E731
    hist = training.train(model, (X, y), optimizer=torch.optim.Adam(model.parameters(), lr=1e-2), epochs=30,
                          loss_fn=loss, val_data=(X, y))
    assert "val_acc" not in hist and hist["val_loss"][-1] < hist["val_loss"][0]
    with pytest.raises(ValueError, match="same first dimension"):
        training.train(model, (X, y[:10]), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=1)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=0)
    X_bad = X.copy()
    X_bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X must contain only finite values"):
        training.train(model, (X_bad, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=1)


def test_on_epoch_begin_runs_before_each_epoch_in_order():
    X, y = _blobs(64)
    events = []

    class Recorder:
        def on_epoch_begin(self, epoch, model):
            events.append(("begin", epoch, model.training))

        def on_epoch_end(self, epoch, model, logs):
            events.append(("end", epoch))

    model = training.mlp(5, [8], 3)
    training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2, callbacks=[Recorder()])
    assert [e[:2] for e in events] == [("begin", 1), ("end", 1), ("begin", 2), ("end", 2)]


def test_weight_decay_shrinks_back_propagated_gradients():
    """B10: weight decay does not fix vanishing gradients.  In a bias-free ReLU network,
    shrinking every weight by c — what k steps of pure decay do, c = (1 − ηλ)^k — scales the
    gradient of a linear loss with respect to every layer by exactly c^(L−1)."""
    from torch import nn

    from weightdecay.training import layer_gradient_norms

    torch.manual_seed(0)
    depth = 6
    layers = []
    for i in range(depth):
        layers.append(nn.Linear(8, 8, bias=False))
        if i < depth - 1:
            layers.append(nn.ReLU())
    model = nn.Sequential(*layers)
    X = torch.randn(64, 8)
    data = (X, torch.zeros(64))
    linear_loss = lambda out, y: out.mean()  # noqa: E731
    before = np.array(layer_gradient_norms(model, data, linear_loss))
    lr, lam, steps = 0.1, 0.5, 4
    opt = torch.optim.SGD(model.parameters(), lr=lr, weight_decay=lam)
    for _ in range(steps):  # zero data gradient: the step is the decay alone
        for p in model.parameters():
            p.grad = torch.zeros_like(p)
        opt.step()
    after = np.array(layer_gradient_norms(model, data, linear_loss))
    c = (1 - lr * lam) ** steps
    np.testing.assert_allclose(after / before, c ** (depth - 1), rtol=1e-5)
    assert np.all(after < before)
    with pytest.raises(ValueError, match="model must contain"):
        layer_gradient_norms(nn.Sequential(nn.ReLU()), data, linear_loss)


def _decay_only(params, lr, lam, steps):
    """``steps`` SGD steps with zero data gradient: the weights are multiplied by (1 − ηλ)^steps."""
    opt = torch.optim.SGD(params, lr=lr, weight_decay=lam)
    for _ in range(steps):
        for p in params:
            p.grad = torch.zeros_like(p)
        opt.step()
    return (1 - lr * lam) ** steps


@pytest.mark.parametrize("norm", ["batch", "layer"])
def test_weight_decay_grows_the_gradient_of_a_scale_invariant_layer(norm):
    """B10: a linear layer followed by BatchNorm or LayerNorm is scale-invariant, so shrinking
    its weight by c (pure decay) leaves the loss and every other gradient unchanged and
    multiplies its own gradient by 1/c: decay makes that gradient larger, not smaller."""
    from torch import nn

    from weightdecay.training import layer_gradient_norms

    torch.manual_seed(0)
    norm_layer = nn.BatchNorm1d(16, eps=1e-10) if norm == "batch" else nn.LayerNorm(16, eps=1e-10)
    model = nn.Sequential(nn.Linear(5, 16, bias=False), norm_layer, nn.ReLU(), nn.Linear(16, 3))
    X, y = _blobs()

    def loss():  # in training mode, as layer_gradient_norms computes it (BatchNorm: batch statistics)
        with torch.no_grad():
            return float(torch.nn.functional.cross_entropy(model(torch.as_tensor(X)), torch.as_tensor(y)))

    before, loss_before = np.array(layer_gradient_norms(model, (X, y))), loss()
    c = _decay_only([model[0].weight], lr=0.1, lam=1.0, steps=5)  # c = 0.9^5 ≈ 0.59
    after, loss_after = np.array(layer_gradient_norms(model, (X, y))), loss()
    assert loss_after == pytest.approx(loss_before, rel=1e-5)
    np.testing.assert_allclose(after / before, [1 / c, 1.0], rtol=1e-4)
    assert after[0] > 1.6 * before[0]


def test_weight_decay_grows_the_gradients_of_a_saturated_softmax():
    """B10: when every example is classified with a large margin the cross-entropy gradient
    is exponentially small in the logits; halving the weights shrinks the logits, and the
    gradient grows (here by more than 5x)."""
    from torch import nn

    from weightdecay.training import layer_gradient_norms

    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=200)
    X = rng.normal(size=(200, 5)).astype(np.float32) + 8 * np.eye(3, 5, dtype=np.float32)[y]  # separable
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(5, 3, bias=False))
    training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=100, batch_size=200)
    assert training.evaluate(model, (X, y))["acc"] == 1.0  # saturated: all correct, large margins
    before = layer_gradient_norms(model, (X, y))[0]
    c = _decay_only(list(model.parameters()), lr=0.5, lam=1.0, steps=1)  # c = 0.5
    after = layer_gradient_norms(model, (X, y))[0]
    assert c == 0.5 and after > 5 * before


def test_record_metrics_logs_evaluate_on_each_named_set():
    from weightdecay.training import RecordMetrics, evaluate, mlp, train

    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5)).astype(np.float32)
    y = rng.integers(0, 3, 60)
    torch.manual_seed(0)
    model = mlp(5, [8], 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = train(model, (X[:40], y[:40]), optimizer=opt, epochs=2,
                 callbacks=[RecordMetrics(train=(X[:40], y[:40]), test=(X[40:], y[40:]))])
    for key in ("eval_train_loss", "eval_train_acc", "test_loss", "test_acc"):
        assert len(hist[key]) == 2
    assert hist["test_loss"][-1] == pytest.approx(evaluate(model, (X[40:], y[40:]))["loss"])
    with pytest.raises(ValueError, match="at least one"):
        RecordMetrics()


def test_a_float64_model_trains_and_evaluates_on_float32_data():
    torch.manual_seed(0)
    X, y = _blobs()  # float32 inputs
    model = training.mlp(5, [16], 3).double()
    assert training.model_dtype_device(model) == (torch.float64, torch.device("cpu"))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    history = training.train(model, (X, y), optimizer=opt, epochs=3, batch_size=50, val_data=(X, y))
    assert history["val_acc"][-1] > 0.8
    assert training.evaluate(model, (X, y))["acc"] == history["val_acc"][-1]
    assert next(model.parameters()).dtype == torch.float64
    norms = training.layer_gradient_norms(model, (X, y))
    assert len(norms) == 2 and all(np.isfinite(norms))
    Xt, yt = training.as_tensors((X, y), dtype=torch.float64)
    assert Xt.dtype == torch.float64 and yt.dtype == torch.int64
    with pytest.raises(ValueError, match="dtype"):
        training.as_tensors((X, y), dtype=torch.int32)
    with pytest.raises(ValueError, match="floating-point parameters"):
        training.model_dtype_device(torch.nn.ReLU())


# --------------------------------------------------------------------------- pieces shared with cnn.train


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_half_mse_loss_is_bit_identical_to_the_book_s_old_forms(dtype):
    """The old ``0.5 * mse_loss(out.squeeze(-1), y)`` and ``0.5 * mean((y - out.squeeze(-1))**2)``."""
    old_forms = [
        lambda out, y: 0.5 * torch.nn.functional.mse_loss(out.squeeze(-1), y),
        lambda out, y: 0.5 * torch.mean((y - out.squeeze(-1)) ** 2),
    ]
    for seed in range(20):
        g = torch.Generator().manual_seed(seed)
        n = 1 + seed * 7
        out = (torch.randn(n, 1, generator=g, dtype=dtype) * 10.0 ** (seed % 5 - 2)).requires_grad_()
        y = torch.randn(n, generator=g, dtype=dtype)
        results = []
        for f in [training.half_mse_loss, *old_forms]:
            out.grad = None
            loss = f(out, y)
            loss.backward()
            results.append((loss.detach(), out.grad.clone()))
        for loss, grad in results[1:]:
            assert torch.equal(loss, results[0][0]) and torch.equal(grad, results[0][1])
    # the same shapes need no squeeze; a trailing dimension of size 1 of both is kept
    a, b = torch.tensor([1.0, 3.0]), torch.tensor([0.0, 1.0])
    assert float(training.half_mse_loss(a, b)) == pytest.approx(1.25)
    assert float(training.half_mse_loss(a[:, None], b[:, None])) == pytest.approx(1.25)


def test_batch_indices_draw_one_permutation_and_cut_it():
    g, ref = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    batches = training.batch_indices(10, 4, g)
    order = torch.randperm(10, generator=ref)
    assert [b.tolist() for b in batches] == [order[:4].tolist(), order[4:8].tolist(), order[8:].tolist()]
    assert torch.equal(torch.rand(3, generator=g), torch.rand(3, generator=ref))  # the next draws agree
    g, ref = torch.Generator().manual_seed(1), torch.Generator().manual_seed(1)
    ddp = training.batch_indices(11, 4, g, drop_last=True, rank=1, world_size=2)
    order = torch.randperm(11, generator=ref)
    assert [b.tolist() for b in ddp] == [order[1:4:2].tolist(), order[5:8:2].tolist()]


def test_run_callbacks_calls_every_callback_and_reports_a_stop():
    calls = []

    class A:
        def on_epoch_end(self, epoch, model, logs):
            calls.append("a")
            return True

    class B:
        def on_epoch_end(self, epoch, model, logs):
            calls.append("b")

    assert training.run_callbacks([A(), B(), object()], "on_epoch_end", 1, None, {}) is True
    assert calls == ["a", "b"]
    assert training.run_callbacks([B()], "on_train_end", None, {}) is False


def test_as_tensors_labels_and_names():
    X, y = training.as_tensors((np.ones((3, 2)), np.array([0, 1, 2])), labels=True)
    assert y.dtype == torch.int64
    with pytest.raises(ValueError, match="train_data: y must be a 1-D array of integer class labels"):
        training.as_tensors((np.ones((3, 2)), np.zeros(3)), labels=True, name="train_data")
    with pytest.raises(ValueError, match="test_data must be a pair"):
        training.as_tensors(np.ones(3), name="test_data")
    with pytest.raises(ValueError, match="same first dimension"):
        training.as_tensors((np.ones((0, 2)), np.zeros(0)))


def test_evaluate_with_the_speed_switches():
    torch.manual_seed(0)
    X, y = _blobs(40)
    model = training.mlp(5, [8], 3)
    plain = training.evaluate(model, (X, y), batch_size=16)
    assert plain == training.evaluate(model, (X, y), batch_size=16, channels_last=True)  # 2-D input: no effect
    fast = training.evaluate(model, (X, y), autocast=True)
    assert set(fast) == {"loss", "acc"} and abs(fast["loss"] - plain["loss"]) < 0.05


def test_mlp_with_a_normalisation_layer():
    torch.manual_seed(0)
    m = training.mlp(5, [8, 4], 3, norm=torch.nn.LayerNorm, dropout=0.1)
    kinds = [type(layer).__name__ for layer in m]
    assert kinds == ["Linear", "LayerNorm", "ReLU", "Dropout", "Linear", "LayerNorm", "ReLU", "Dropout", "Linear"]
    assert m[0].bias is None and m[4].bias is None and m[-1].bias is not None
