"""TARGET parsing and probing: local paths, containers, images, locks (now or at a git revision), snapshots."""

from envman.targets.context import Places, ProbeContext
from envman.targets.probe import probe_many, probe_target
from envman.targets.project import Project
from envman.targets.reading import snapshot_from_lock, snapshot_from_probe
from envman.targets.spec import TargetSpec, parse_target, target_forms

__all__ = [
    "Places",
    "ProbeContext",
    "Project",
    "TargetSpec",
    "target_forms",
    "parse_target",
    "probe_target",
    "probe_many",
    "snapshot_from_lock",
    "snapshot_from_probe",
]
