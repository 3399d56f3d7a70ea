"""Repository-wide pytest configuration: never collect build outputs or the virtualenv.

(Do not set MPLBACKEND here: the notebook kernels started by nbval inherit the environment,
and a non-inline backend would drop the figures from their outputs.)
"""

collect_ignore_glob = ["_build/*", ".venv/*", "artifacts/*"]
