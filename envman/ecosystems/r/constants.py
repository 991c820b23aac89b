"""Package sets that come with R itself."""

from __future__ import annotations

__all__ = ["BASE_PACKAGES", "RECOMMENDED_PACKAGES", "DEFAULT_REPOSITORIES", "DEP_FIELDS"]

# Priority: base. Always part of the R installation, never downloaded, never locked.
BASE_PACKAGES = frozenset(
    {
        "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods",
        "parallel", "splines", "stats", "stats4", "tcltk", "tools", "utils",
    }
)

# Priority: recommended. Shipped with most R builds but also published on CRAN: locked
# when a repository provides them, otherwise left to the R installation.
RECOMMENDED_PACKAGES = frozenset(
    {
        "KernSmooth", "MASS", "Matrix", "boot", "class", "cluster", "codetools", "foreign",
        "lattice", "mgcv", "nlme", "nnet", "rpart", "spatial", "survival",
    }
)

DEFAULT_REPOSITORIES = {"CRAN": "https://cloud.r-project.org"}

# Followed transitively, like install.packages(dependencies = NA); Suggests/Enhances are not.
DEP_FIELDS = ("Depends", "Imports", "LinkingTo")
