"""`envman export --format renv`: a renv.lock (JSON) for one environment and platform."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from envman.ecosystems.r.constants import DEFAULT_REPOSITORIES
from envman.errors import BadInputError
from envman.redact import redact_url

__all__ = ["to_renv_lock"]


def to_renv_lock(entries: Sequence[Any], r_version: str | None, repositories: dict[str, str] | None) -> str:
    """renv.lock text: R.Version, R.Repositories (priority order), Packages by name.

    Repository URLs lose any credentials, like the lock itself; renv users configure
    credentials for restore as they do for R (netrc, `options(repos=)`).
    """
    if not r_version:
        raise BadInputError("envman.yaml: set `r.version` to export a renv.lock (renv records the R version)")
    repos = repositories or dict(DEFAULT_REPOSITORIES)
    packages: dict[str, Any] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        record: dict[str, Any] = {
            "Package": entry.name,
            "Version": entry.version,
            "Source": "Repository",
            "Repository": entry.repository,
        }
        if entry.requires:
            record["Requirements"] = sorted(entry.requires)
        packages[entry.name] = record
    document = {
        "R": {
            "Version": r_version,
            "Repositories": [{"Name": name, "URL": redact_url(url).rstrip("/")} for name, url in repos.items()],
        },
        "Packages": packages,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
