"""pin_numerics makes a training run compute the same bits whatever kernels the CPU offers.

Each check runs a fresh interpreter, because the settings act only before numpy and torch
load their kernels.  "Another CPU" is emulated the way `make test-portable` does it: an
environment asking for other PyTorch kernels, MKL and oneDNN capped below AVX, and the C
library's maths without FMA.
"""

import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")

TRAIN = r"""
import json, sys
import weightdecay as wd
if sys.argv[1] == "pin":
    report = wd.reproducibility.pin_numerics()
import hashlib, numpy as np, torch
torch.set_num_threads(1)
from weightdecay.reproducibility import numerics_report
torch.manual_seed(0)
X = torch.randn(512, 20, generator=torch.Generator().manual_seed(1))
X = X + torch.from_numpy(np.sin(np.linspace(0, 50, 512 * 20)).reshape(512, 20)).float()
y = (X[:, 0] > 0).long()
net = torch.nn.Sequential(torch.nn.Linear(20, 64), torch.nn.Tanh(), torch.nn.Linear(64, 2))
conv = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.Flatten())
opt = torch.optim.AdamW([*net.parameters(), *conv.parameters()], lr=1e-2, weight_decay=0.1)
for step in range(60):
    i = (step * 64) % 512
    xb = X[i:i + 64]
    extra = conv(xb[:, :16].reshape(-1, 1, 4, 4)).sum(dim=1, keepdim=True)
    loss = torch.nn.functional.cross_entropy(net(xb + 1e-3 * extra), y[i:i + 64])
    opt.zero_grad(); loss.backward(); opt.step()
bits = torch.cat([p.detach().flatten() for p in [*net.parameters(), *conv.parameters()]])
print(json.dumps({"hash": hashlib.md5(bits.numpy().tobytes()).hexdigest(),
                  "report": numerics_report()}))
"""

OTHER_CPU = {
    "ATEN_CPU_CAPABILITY": "avx2",
    "MKL_ENABLE_INSTRUCTIONS": "SSE4_2",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "GLIBC_TUNABLES": "glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F",
}
PIN_VARS = ("ATEN_CPU_CAPABILITY", "MKL_CBWR", "NPY_DISABLE_CPU_FEATURES")


def _run(mode: str, extra_env: dict[str, str]) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in PIN_VARS}
    env.update(extra_env)
    out = subprocess.run(
        [sys.executable, "-c", TRAIN, mode], env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_pinned_training_is_bitwise_identical_on_an_emulated_other_cpu():
    here = _run("pin", {})
    other = _run("pin", OTHER_CPU)
    assert here["report"]["pinned"] and other["report"]["pinned"], (here, other)
    assert here["report"]["torch_capability"] == "DEFAULT"
    assert here["report"]["mkldnn"] is False and here["report"]["nnpack"] is False
    assert here["hash"] == other["hash"]


def test_unpinned_training_differs_between_kernels_so_the_pin_is_needed():
    base = _run("plain", {"ATEN_CPU_CAPABILITY": "default"})
    if not base["report"]["problems"]:
        pytest.skip("nothing to unpin")
    vectorised = _run("plain", {})
    if vectorised["report"]["torch_capability"] == "DEFAULT":
        pytest.skip("this CPU has no vector kernels beyond PyTorch's baseline")
    assert base["hash"] != vectorised["hash"]
    assert not vectorised["report"]["pinned"]


def test_pin_after_import_warns_and_names_what_is_not_pinned():
    code = (
        "import warnings, torch, weightdecay as wd\n"
        "print(torch.backends.cpu.get_cpu_capability())\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('always')\n"
        "    r = wd.reproducibility.pin_numerics()\n"
        "print(r['pinned'], r['problems'], [str(x.message) for x in w])\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in PIN_VARS}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    capability, result = out.stdout.strip().splitlines()
    if capability == "DEFAULT":
        pytest.skip("this CPU has no vector kernels beyond PyTorch's baseline")
    assert result.startswith("False"), result
    assert f"torch uses its {capability} kernels" in result
    assert "before importing numpy or torch" in result


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_pin_numerics_rejects_bad_thread_counts(bad):
    from weightdecay.reproducibility import pin_numerics

    with pytest.raises(ValueError, match="threads"):
        pin_numerics(threads=bad)


def test_pinned_env_names_only_variables_that_exist():
    from weightdecay.reproducibility import PINNED_ENV

    assert PINNED_ENV["ATEN_CPU_CAPABILITY"] == "default"
    assert PINNED_ENV["MKL_CBWR"] == "COMPATIBLE"


def test_single_thread_sets_one_thread_and_restores_the_count_even_on_error():
    import torch

    from weightdecay.reproducibility import single_thread

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_thread():
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with pytest.raises(RuntimeError, match="boom"):
            with single_thread():
                raise RuntimeError("boom")
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
