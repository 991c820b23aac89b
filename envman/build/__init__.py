"""`envman build`: build an environment's image with the engine, then rewrite it so that the
same lock always gives the same image ID (layers.py), also as an OCI image layout (oci.py)."""

__all__: list[str] = []
