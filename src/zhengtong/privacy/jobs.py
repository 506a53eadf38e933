"""Registers the background jobs of every privacy sub-package.

The job runner imports `zhengtong.<domain>.jobs` of each top-level domain
(platform.jobs.import_domain_handlers); privacy is split into sub-packages, so this module imports
each `zhengtong.privacy.<area>.jobs` that exists, and a new area's jobs register without a list.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil

import zhengtong.privacy


def _import_area_jobs() -> None:
    for area in pkgutil.iter_modules(zhengtong.privacy.__path__):
        module_name = f"zhengtong.privacy.{area.name}.jobs"
        if area.ispkg and importlib.util.find_spec(module_name) is not None:
            importlib.import_module(module_name)


_import_area_jobs()
