"""TARGET parsing and probing: local paths, containers, images, locks (now or at a git revision), snapshots."""

from envman.targets.probe import Places, ProbeContext, probe_many, probe_target, snapshot_from_lock, snapshot_from_probe
from envman.targets.project import Project
from envman.targets.spec import TARGET_FORMS, TargetSpec, parse_target

__all__ = [
    "Places",
    "ProbeContext",
    "Project",
    "TargetSpec",
    "TARGET_FORMS",
    "parse_target",
    "probe_target",
    "probe_many",
    "snapshot_from_lock",
    "snapshot_from_probe",
]
