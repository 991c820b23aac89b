"""Bioconductor: `r.bioconductor: "3.16"` -> its repositories, ahead of CRAN (as BiocManager
and renv order them), so a Bioconductor package comes from the release it names.

The release's repositories are BioCsoft (software), BioCann (annotation data), BioCexp
(experiment data) and BioCworkflows, under `r.bioconductor-mirror` (default
https://bioconductor.org, the path layout every mirror keeps)."""

from __future__ import annotations

__all__ = ["DEFAULT_MIRROR", "bioconductor_repositories", "with_bioconductor"]

DEFAULT_MIRROR = "https://bioconductor.org"
_PATHS = (
    ("BioCsoft", "packages/{version}/bioc"),
    ("BioCann", "packages/{version}/data/annotation"),
    ("BioCexp", "packages/{version}/data/experiment"),
    ("BioCworkflows", "packages/{version}/workflows"),
)


def bioconductor_repositories(version: str, mirror: str | None = None) -> dict[str, str]:
    base = (mirror or DEFAULT_MIRROR).rstrip("/")
    return {name: f"{base}/{path.format(version=version)}" for name, path in _PATHS}


def with_bioconductor(repositories: dict[str, str], version: str | None, mirror: str | None = None) -> dict[str, str]:
    """The release's repositories first, then the section's own (one already listed, by
    name or URL, keeps the section's spelling and place)."""
    if not version:
        return dict(repositories)
    urls = {url.rstrip("/") for url in repositories.values()}
    bioc = {name: url for name, url in bioconductor_repositories(version, mirror).items() if name not in repositories and url not in urls}
    return {**bioc, **repositories}
