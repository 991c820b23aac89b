"""envman: one manifest and one lock for Python, R, JVM and conda environments."""

__all__ = ["__version__"]
__version__ = "0.1.0"
