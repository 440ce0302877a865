"""Test-wide set-up: tests run with DEBUG on, so no secret key is needed."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")
