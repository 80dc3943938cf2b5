"""Loaded by pytest before Django reads its settings (`-p tests.development_env` in pyproject.toml):
tests run with development settings, as under `make test`, also when pytest is started directly.
The app itself starts with DEBUG off unless the environment says otherwise."""

import os

os.environ.setdefault("DEBUG", "true")
