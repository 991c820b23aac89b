"""Lock -> Dockerfile and build context. plan.py gathers the data (each ecosystem's
Fragment, the pinned base, labels), templating.py turns it into text from templates/,
context.py writes the folder an engine builds, layers.py reads the layer groups back."""

__all__: list[str] = []
