"""Repository-wide pytest configuration: never collect build outputs or the virtualenv.

(Do not set MPLBACKEND here: the notebook kernels started by nbval inherit the environment,
and a non-inline backend would drop the figures from their outputs.)
"""

collect_ignore_glob = ["_build/*", ".venv/*", "artifacts/*"]

# Property-based tests: a fixed example sequence by default, so a run is reproducible and CI
# cannot turn red by chance; `HYPOTHESIS_PROFILE=explore pytest tests` searches afresh
# with random examples when hunting for new counterexamples.
try:
    from hypothesis import settings as _hypothesis_settings
except ImportError:  # pragma: no cover - hypothesis is in requirements.txt
    pass
else:
    import os as _os

    _hypothesis_settings.register_profile("default", derandomize=True, database=None)
    _hypothesis_settings.register_profile("explore", derandomize=False)
    _hypothesis_settings.load_profile(_os.environ.get("HYPOTHESIS_PROFILE", "default"))
