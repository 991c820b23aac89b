"""Parse POM XML (untrusted) into plain data: the raw model, before inheritance.

defusedxml refuses external entities and entity-expansion bombs; anything that is not a
well-formed POM becomes PomError naming the artifact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from envman.errors import ResolutionError

__all__ = [
    "PomError",
    "RawDependency",
    "RawProfile",
    "RawPom",
    "parse_pom",
    "parse_metadata_versions",
    "parent_relative_path",
    "pom_to_json",
    "pom_from_json",
]


class PomError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """A POM or metadata document that cannot be read (message names the document)."""


@dataclass
class RawDependency:
    group: str | None = None
    artifact: str | None = None
    version: str | None = None
    type: str | None = None
    classifier: str | None = None
    scope: str | None = None
    optional: str | None = None
    system_path: str | None = None
    exclusions: list[tuple[str, str]] = field(default_factory=list)

    def management_key(self) -> tuple[str, str, str, str]:
        """Maven's `groupId:artifactId:type[:classifier]`."""
        return (self.group or "", self.artifact or "", self.type or "jar", self.classifier or "")

    def copy(self) -> RawDependency:
        return RawDependency(
            self.group, self.artifact, self.version, self.type, self.classifier, self.scope,
            self.optional, self.system_path, list(self.exclusions),
        )


@dataclass
class RawProfile:
    id: str
    active_by_default: bool = False
    activation: dict[str, Any] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    dependencies: list[RawDependency] = field(default_factory=list)
    managed: list[RawDependency] = field(default_factory=list)


@dataclass
class RawPom:
    group: str | None = None
    artifact: str | None = None
    version: str | None = None
    packaging: str | None = None
    parent: tuple[str, str, str] | None = None
    properties: dict[str, str] = field(default_factory=dict)
    dependencies: list[RawDependency] = field(default_factory=list)
    managed: list[RawDependency] = field(default_factory=list)
    relocation: dict[str, str | None] | None = None
    profiles: list[RawProfile] = field(default_factory=list)


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""  # comments, processing instructions
    return tag.rsplit("}", 1)[-1]


def _text(element: Any) -> str:
    return (element.text or "").strip()


def _children(element: Any) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for child in element:
        name = _local(child.tag)
        if name and name not in found:
            found[name] = child
    return found


def _dependency(element: Any) -> RawDependency:
    dep = RawDependency()
    for child in element:
        name = _local(child.tag)
        if name == "groupId":
            dep.group = _text(child)
        elif name == "artifactId":
            dep.artifact = _text(child)
        elif name == "version":
            dep.version = _text(child)
        elif name == "type":
            dep.type = _text(child)
        elif name == "classifier":
            dep.classifier = _text(child)
        elif name == "scope":
            dep.scope = _text(child)
        elif name == "optional":
            dep.optional = _text(child)
        elif name == "systemPath":
            dep.system_path = _text(child)
        elif name == "exclusions":
            for exclusion in child:
                if _local(exclusion.tag) != "exclusion":
                    continue
                parts = _children(exclusion)
                # an incomplete exclusion matches nothing (never "everything")
                group = _text(parts["groupId"]) if "groupId" in parts else ""
                artifact = _text(parts["artifactId"]) if "artifactId" in parts else ""
                dep.exclusions.append((group, artifact))
    return dep


def _dependency_list(element: Any | None) -> list[RawDependency]:
    if element is None:
        return []
    return [_dependency(child) for child in element if _local(child.tag) == "dependency"]


def _managed(element: Any | None) -> list[RawDependency]:
    if element is None:
        return []
    return _dependency_list(_children(element).get("dependencies"))


def _properties(element: Any | None) -> dict[str, str]:
    if element is None:
        return {}
    return {_local(child.tag): _text(child) for child in element if _local(child.tag)}


def _activation(element: Any | None) -> tuple[bool, dict[str, Any]]:
    if element is None:
        return False, {}
    parts = _children(element)
    by_default = _text(parts["activeByDefault"]) == "true" if "activeByDefault" in parts else False
    found: dict[str, Any] = {}
    if "jdk" in parts:
        found["jdk"] = _text(parts["jdk"])
    if "os" in parts:
        found["os"] = {name: _text(child) for name, child in _children(parts["os"]).items()}
    if "property" in parts:
        prop = _children(parts["property"])
        found["property"] = (
            _text(prop["name"]) if "name" in prop else "",
            _text(prop["value"]) if "value" in prop else None,
        )
    if "file" in parts:
        found["file"] = {name: _text(child) for name, child in _children(parts["file"]).items()}
    return by_default, found


def parse_pom(data: bytes, where: str) -> RawPom:
    """The raw model of one POM document; `where` names it in errors."""
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise PomError(f"malformed POM {where}: {exc}") from None
    if _local(root.tag) != "project":
        raise PomError(f"malformed POM {where}: root element is <{_local(root.tag)}>, not <project>")
    pom = RawPom()
    for child in root:
        name = _local(child.tag)
        if name == "groupId":
            pom.group = _text(child)
        elif name == "artifactId":
            pom.artifact = _text(child)
        elif name == "version":
            pom.version = _text(child)
        elif name == "packaging":
            pom.packaging = _text(child)
        elif name == "parent":
            parts = _children(child)
            coords = tuple(_text(parts[key]) if key in parts else "" for key in ("groupId", "artifactId", "version"))
            pom.parent = coords  # type: ignore[assignment]
        elif name == "properties":
            pom.properties = _properties(child)
        elif name == "dependencies":
            pom.dependencies = _dependency_list(child)
        elif name == "dependencyManagement":
            pom.managed = _managed(child)
        elif name == "distributionManagement":
            relocation = _children(child).get("relocation")
            if relocation is not None:
                parts = _children(relocation)
                pom.relocation = {
                    key: (_text(parts[tag]) if tag in parts else None)
                    for key, tag in (("group", "groupId"), ("artifact", "artifactId"), ("version", "version"), ("message", "message"))
                }
        elif name == "profiles":
            for profile in child:
                if _local(profile.tag) != "profile":
                    continue
                parts = _children(profile)
                by_default, activation = _activation(parts.get("activation"))
                pom.profiles.append(
                    RawProfile(
                        id=_text(parts["id"]) if "id" in parts else "default",
                        active_by_default=by_default,
                        activation=activation,
                        properties=_properties(parts.get("properties")),
                        dependencies=_dependency_list(parts.get("dependencies")),
                        managed=_managed(parts.get("dependencyManagement")),
                    )
                )
    return pom


def parent_relative_path(data: bytes, where: str) -> str | None:
    """`<parent><relativePath>` of a project's POM (None when absent), read as XML."""
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise PomError(f"malformed POM {where}: {exc}") from None
    parent = _children(root).get("parent")
    if parent is None:
        return None
    relative = _children(parent).get("relativePath")
    return None if relative is None else _text(relative)


def parse_metadata_versions(data: bytes, where: str) -> list[str]:
    """Versions listed by a `maven-metadata.xml` (versioning/versions/version)."""
    import xml.etree.ElementTree as ET

    import defusedxml.ElementTree as DET
    from defusedxml import DefusedXmlException

    try:
        root = DET.fromstring(data)
    except (ET.ParseError, DefusedXmlException, ValueError) as exc:
        raise PomError(f"malformed metadata {where}: {exc}") from None
    versions: list[str] = []
    for versioning in root:
        if _local(versioning.tag) != "versioning":
            continue
        for listing in versioning:
            if _local(listing.tag) != "versions":
                continue
            for element in listing:
                if _local(element.tag) == "version" and _text(element):
                    versions.append(_text(element))
    return list(dict.fromkeys(versions))


def pom_to_json(pom: RawPom) -> bytes:
    """A parsed POM as JSON, so warm runs skip XML parsing."""
    import dataclasses
    import json

    return json.dumps(dataclasses.asdict(pom), separators=(",", ":")).encode()


def _text_or_none(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError("not text")


def _texts(mapping: Any) -> dict[str, str]:
    if not isinstance(mapping, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()):
        raise TypeError("not a mapping of text")
    return mapping


def _dep_from(data: dict[str, Any]) -> RawDependency:
    fields: dict[str, Any] = {k: _text_or_none(v) for k, v in data.items() if k != "exclusions"}
    dep = RawDependency(**fields)
    for exclusion in data.get("exclusions", []):
        group, artifact = exclusion
        if not (isinstance(group, str) and isinstance(artifact, str)):
            raise TypeError("bad exclusion")
        dep.exclusions.append((group, artifact))
    return dep


def _activation_from(activation: Any) -> dict[str, Any]:
    if not isinstance(activation, dict):
        raise TypeError("bad activation")
    if "jdk" in activation and not isinstance(activation["jdk"], str):
        raise TypeError("bad activation")
    for key in ("os", "file"):
        if key in activation:
            _texts(activation[key])
    if "property" in activation:
        name, value = activation["property"]
        if not isinstance(name, str):
            raise TypeError("bad activation")
        activation["property"] = (name, _text_or_none(value))
    return activation


def pom_from_json(data: bytes) -> RawPom:
    import json

    raw = json.loads(data)  # the cache is untrusted too: wrong types are TypeError, a stale entry
    parent: tuple[str, str, str] | None = None
    if raw["parent"]:
        pg, pa, pv = (_text_or_none(p) or "" for p in raw["parent"])
        parent = (pg, pa, pv)
    relocation = raw["relocation"]
    if relocation is not None:
        _texts({k: v or "" for k, v in relocation.items()})
    pom = RawPom(
        group=_text_or_none(raw["group"]), artifact=_text_or_none(raw["artifact"]), version=_text_or_none(raw["version"]),
        packaging=_text_or_none(raw["packaging"]),
        parent=parent,
        properties=_texts(raw["properties"]), relocation=relocation,
        dependencies=[_dep_from(d) for d in raw["dependencies"]],
        managed=[_dep_from(d) for d in raw["managed"]],
    )
    for profile in raw["profiles"]:
        activation = _activation_from(profile["activation"])
        if not isinstance(profile["id"], str):
            raise TypeError("bad profile")
        pom.profiles.append(
            RawProfile(
                id=profile["id"], active_by_default=profile["active_by_default"] is True, activation=activation,
                properties=_texts(profile["properties"]),
                dependencies=[_dep_from(d) for d in profile["dependencies"]],
                managed=[_dep_from(d) for d in profile["managed"]],
            )
        )
    return pom
