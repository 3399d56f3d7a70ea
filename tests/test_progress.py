"""One progress-bar default for every long loop: ``progress=None`` follows WEIGHTDECAY_PROGRESS."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from weightdecay import cnn, training  # noqa: E402
from weightdecay.experiments import cnn_speed  # noqa: E402
from weightdecay.progress import ENV_VAR, progress_bar, progress_enabled  # noqa: E402


def test_env_var_name():
    assert ENV_VAR == "WEIGHTDECAY_PROGRESS"


def test_unset_means_on(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)
    assert progress_enabled() is True
    assert progress_enabled(None) is True


@pytest.mark.parametrize("value, expected", [
    ("0", False), ("1", True), ("false", False), ("TRUE", True), (" off ", False), ("yes", True),
])
def test_env_var_parsing(monkeypatch, value, expected):
    monkeypatch.setenv(ENV_VAR, value)
    assert progress_enabled() is expected


@pytest.mark.parametrize("value", ["junk", "2", "", "maybe"])
def test_junk_env_var_is_an_error_naming_the_variable(monkeypatch, value):
    monkeypatch.setenv(ENV_VAR, value)
    with pytest.raises(ValueError, match="WEIGHTDECAY_PROGRESS"):
        progress_enabled()


@pytest.mark.parametrize("env", ["0", "1"])
def test_explicit_progress_overrides_the_env_var(monkeypatch, env):
    monkeypatch.setenv(ENV_VAR, env)
    assert progress_enabled(True) is True
    assert progress_enabled(False) is False
    assert progress_enabled(np.bool_(True)) is True


@pytest.mark.parametrize("bad", [1, 0, "yes", "True", 0.5, []])
def test_bad_progress_values_are_errors(bad):
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        progress_enabled(bad)


def test_silent_bar_iterates_and_ignores_bar_methods(capsys):
    bar = progress_bar(range(3), desc="x", progress=False)
    assert list(bar) == [0, 1, 2] and len(bar) == 3
    bar.set_postfix({"loss": "0.1"})
    bar.set_description("y")
    bar.update()
    bar.close()
    assert capsys.readouterr().err == ""


# ---------------------------------------------------------------------------------------
# The training loops
# ---------------------------------------------------------------------------------------


def _blobs(n=48, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, size=n)
    X = rng.normal(size=(n, 4)).astype(np.float32) + 2 * np.eye(3, 4, dtype=np.float32)[y]
    return X, y


def _train_mlp(progress):
    X, y = _blobs()
    torch.manual_seed(0)
    model = training.mlp(4, [8], 3)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    hist = training.train(model, (X, y), optimizer=opt, epochs=3, batch_size=16, val_data=(X, y),
                          seed=1, progress=progress)
    return hist, model


def test_training_train_bar_does_not_change_the_result(capsys):
    on, model_on = _train_mlp(True)
    err_on = capsys.readouterr().err
    off, model_off = _train_mlp(False)
    err_off = capsys.readouterr().err
    assert on == off
    for a, b in zip(model_on.parameters(), model_off.parameters()):
        assert torch.equal(a, b)
    assert "epochs" in err_on and "/3 [" in err_on  # the bar was drawn, with its label and length
    assert "val_loss" in err_on  # set_postfix shows the latest losses
    assert err_off == ""


@pytest.mark.parametrize("env, drawn", [("0", False), ("1", True), (None, True)])
def test_training_train_default_follows_the_env_var(monkeypatch, capsys, env, drawn):
    if env is None:
        monkeypatch.delenv(ENV_VAR, raising=False)
    else:
        monkeypatch.setenv(ENV_VAR, env)
    _train_mlp(None)
    err = capsys.readouterr().err
    assert ("epochs" in err) is drawn, err


def test_training_train_rejects_bad_progress_before_training():
    X, y = _blobs()
    model = training.mlp(4, [8], 3)
    before = [p.detach().clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=1,
                       progress="yes")
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_training_train_postfix_skips_non_numbers(capsys):
    class Note:
        def on_epoch_end(self, epoch, model, logs):
            logs["note"] = "text"
            logs["flag"] = None
            return False

    X, y = _blobs()
    model = training.mlp(4, [8], 3)
    hist = training.train(model, (X, y), optimizer=torch.optim.SGD(model.parameters(), lr=0.1), epochs=2,
                          callbacks=[Note()], progress=True)
    assert hist["note"] == ["text", "text"]
    assert "train_loss" in capsys.readouterr().err


def _cnn_train(progress):
    torch.manual_seed(0)
    X, y = torch.randn(32, 16), torch.arange(32) % 10
    model = cnn.fast_resnet((4, 8, 8, 8), dims=1)
    return cnn.train(model, (X, y), test_data=(X, y), epochs=2, batch_size=16, seed=0, progress=progress,
                     make_optimizer=cnn.make_optimizer_factory("sgd", lr=0.05))


def test_cnn_train_follows_the_same_default(monkeypatch, capsys):
    monkeypatch.setenv(ENV_VAR, "0")
    off = _cnn_train(None)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(ENV_VAR, "1")
    on = _cnn_train(None)
    err = capsys.readouterr().err
    assert "epochs" in err and "test_acc" in err
    for key in ("train_loss", "test_acc", "weight_norm", "effective_lr"):
        np.testing.assert_array_equal(on[key], off[key])
    with pytest.raises(ValueError, match="progress must be True, False or None"):
        _cnn_train(1)


def test_cnn_grid_and_timing_helpers_show_one_bar(monkeypatch, capsys):
    monkeypatch.delenv(ENV_VAR, raising=False)
    X, y = torch.randn(32, 16), torch.arange(32) % 10
    tta = cnn_speed.time_to_accuracy_experiment(
        lambda: cnn.fast_resnet((4, 8, 8, 8), dims=1), (X, y), (X, y), weight_decays=[0.0, 5e-3], seeds=[0],
        target=0.5, epochs=1, batch_size=16,
        make_optimizer=lambda m, lam: cnn.make_optimizer_factory("sgd", lr=0.05, weight_decay=lam)(m))
    err = capsys.readouterr().err
    assert tta.test_acc.shape == (2, 1, 2)
    assert "runs" in err and "/2 [" in err and "epochs" not in err  # the outer loop only
    cnn.time_call(lambda: None, repeats=3, warmup=1)
    assert "timing" in capsys.readouterr().err
    rows = cnn_speed.speed_switches(lambda: torch.nn.Linear(16, 10), X, y, switches=("4x batch",), repeats=2, warmup=1)
    err = capsys.readouterr().err
    assert len(rows) == 2 and "settings" in err and "timing" not in err
    monkeypatch.setenv(ENV_VAR, "0")
    cnn.time_call(lambda: None, repeats=3, warmup=1)
    cnn.throughput(lambda: torch.nn.Linear(16, 10), X, y, repeats=2, warmup=1)
    assert capsys.readouterr().err == ""
