"""Loaded by pytest before Django reads its settings (`-p tests.development_env` in pyproject.toml):
tests run with development settings, as under `make test`, also when pytest is started directly.
The app itself starts with DEBUG off unless the environment says otherwise."""

import os

os.environ.setdefault("DEBUG", "true")

# Under pytest-xdist (`-n 2`, as .ci/run uses), each worker gets caches of its own, so one worker's
# `cache.clear()` never empties the other's: Redis databases two apart (the broker keeps its pair), or file
# caches of its own under var/.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _worker.startswith("gw") and _worker[2:].isdigit():
    _index = int(_worker[2:])
    _redis = os.environ.get("REDIS_URL", "")
    if _redis:
        _base, _, _number = _redis.rpartition("/")
        if _number.isdigit():
            os.environ["REDIS_URL"] = f"{_base}/{int(_number) + 2 * _index}"
    else:
        _var = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "var")
        os.environ.setdefault("CACHE_URL", f"filecache://{_var}/cache-{_worker}")
        os.environ.setdefault("PAGE_CACHE_URL", f"filecache://{_var}/page-cache-{_worker}")
