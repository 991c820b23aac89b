"""The pure parts: channels, virtual packages, the entry's fast constructor, the closure."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from envman.ecosystems.conda.channels import auth_headers, channel_of_url, channels_of, public_text, public_url
from envman.ecosystems.conda.entry import CondaEntry
from envman.ecosystems.conda.platforms import virtual_packages
from envman.ecosystems.conda.resolve import closure
from envman.ecosystems.conda.section import CondaSection, spec_name


def test_channels_names_urls_and_defaults() -> None:
    section = CondaSection(channels=["conda-forge", "https://u:p@example.org/c/", "defaults", "conda-forge"],
                           channel_alias="https://mirror.example.org/conda")
    refs = channels_of(section)
    assert [(r.label, r.url, r.auth) for r in refs] == [
        ("conda-forge", "https://mirror.example.org/conda/conda-forge/", None),
        ("https://example.org/c", "https://example.org/c/", ("u", "p")),
        ("defaults", "https://repo.anaconda.com/pkgs/main/", None),
        ("defaults", "https://repo.anaconda.com/pkgs/r/", None),
    ]
    assert channel_of_url("https://u:p@example.org/c/noarch/x-1-0.conda", refs) == refs[1]
    assert channel_of_url("https://elsewhere.org/x.conda", refs) is None


def test_credentials_go_as_a_header_to_their_channel_only() -> None:
    refs = channels_of(CondaSection(channels=["https://us%40r:p%3Ass@example.org/private/", "https://example.org/public"]))
    headers = auth_headers(refs)
    assert headers("example.org", "/private/noarch/repodata.json") == {"Authorization": "Basic dXNAcjpwOnNz"}  # us@r:p:ss
    assert headers("example.org", "/public/noarch/repodata.json") is None
    assert headers("elsewhere.org", "/private/noarch/repodata.json") is None
    assert auth_headers(channels_of(CondaSection(channels=["conda-forge"]))) is None


def test_tokens_and_passwords_are_cut() -> None:
    assert public_url("https://conda.anaconda.org/t/tk-123-abc/private/noarch/x-1-0.conda") == (
        "https://conda.anaconda.org/private/noarch/x-1-0.conda"
    )
    assert public_url("https://user:secret@host/c/") == "https://host/c/"
    text = public_text("error for url (https://user:secret@host/t/tk-1/c/noarch/repodata.json)")
    assert "secret" not in text and "tk-1" not in text


@pytest.mark.parametrize(
    ("platform", "expected"),
    [
        ("linux-64", {"__unix": "0", "__linux": "4.18", "__glibc": "2.28", "__archspec": "1"}),
        ("linux-aarch64", {"__unix": "0", "__linux": "4.18", "__glibc": "2.28", "__archspec": "1"}),
        ("osx-64", {"__unix": "0", "__osx": "13.0", "__archspec": "1"}),
        ("osx-arm64", {"__unix": "0", "__osx": "13.0", "__archspec": "1"}),
        ("win-64", {"__win": "0", "__archspec": "1"}),
    ],
)
def test_default_virtual_packages(platform: str, expected: dict[str, str]) -> None:
    assert {vp.name: vp.version for vp in virtual_packages(platform)} == expected


def test_virtual_package_overrides_apply_where_they_exist() -> None:
    overrides = {"cuda": "12.4", "glibc": "2.31", "osx": "12.0", "linux": None}
    assert {vp.name: vp.version for vp in virtual_packages("linux-64", overrides)}["__cuda"] == "12.4"
    assert {vp.name: vp.version for vp in virtual_packages("linux-64", overrides)}["__glibc"] == "2.31"
    assert "__cuda" not in {vp.name for vp in virtual_packages("osx-arm64", overrides)}
    assert {vp.name: vp.version for vp in virtual_packages("osx-arm64", overrides)}["__osx"] == "12.0"
    assert {vp.name: vp.version for vp in virtual_packages("win-64", overrides)}["__cuda"] == "12.4"
    assert {vp.build for vp in virtual_packages("osx-arm64") if vp.name == "__archspec"} == {"m1"}


def test_spec_names() -> None:
    assert [spec_name(s) for s in ("numpy>=1", "conda-forge::gdal 3.8.*", "Python=3.11", 'x[version=">1"]')] == [
        "numpy", "gdal", "python", "x",
    ]


GOOD: dict[str, Any] = {
    "name": "pkg", "version": "1.0", "build": "h0_0", "build_number": 0, "url": "https://x/noarch/pkg-1.0-h0_0.conda",
    "sha256": "a" * 64, "md5": "b" * 32, "subdir": "noarch", "channel": "c", "requires": ["dep"], "depends": ["dep >=1"],
}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "../x"), ("name", "a b"), ("version", "1.0-1"), ("build", "h/0"), ("url", "https://x/a b.conda"),
        ("url", "ftp://x/a.conda"), ("url", "https://x/\n@EXPLICIT"), ("sha256", "A" * 64), ("sha256", "a" * 63),
        ("md5", "x" * 32), ("depends", ["dep\nx"]), ("requires", [" dep"]),
    ],
)
def test_the_fast_constructor_refuses_what_validation_refuses(field: str, value: Any) -> None:
    with pytest.raises(ValidationError):
        CondaEntry(**{**GOOD, field: value})
    with pytest.raises(ValueError):
        CondaEntry.checked(**{**GOOD, field: value})


def test_the_fast_constructor_builds_the_validated_model() -> None:
    assert CondaEntry.checked(**GOOD) == CondaEntry(**GOOD)
    assert CondaEntry.checked(**GOOD).model_dump(by_alias=True) == CondaEntry(**GOOD).model_dump(by_alias=True)


def test_closure_follows_requires_within_the_solution() -> None:
    def entry(name: str, requires: list[str]) -> CondaEntry:
        return CondaEntry(**{**GOOD, "name": name, "requires": requires, "depends": requires})

    solution = {e.name: e for e in (entry("app", ["core"]), entry("core", ["libz"]), entry("libz", []), entry("tools", []))}
    assert closure(["app"], solution) == ["app", "core", "libz"]
    assert closure(["tools", "libz"], solution) == ["libz", "tools"]


def _entry(name: str, version: str, depends: list[str], purls: list[str] | None = None) -> CondaEntry:
    return CondaEntry(
        name=name, version=version, build="h0_0", url=f"https://example.org/c/linux-64/{name}-{version}-h0_0.conda",
        sha256="0" * 64, depends=depends, purls=purls or [],
    )


def test_what_a_conda_solution_provides_to_python() -> None:
    """The interpreter, PyPI names from `pkg:pypi` purls (a version in the purl wins), else the
    conda name of a package that depends on python; native packages provide nothing."""
    from envman.ecosystems.conda.pypi import provided_by

    given = provided_by([
        _entry("python", "3.11.9", []),
        _entry("pytorch", "2.1.0", ["python >=3.11"], ["pkg:pypi/torch"]),
        _entry("Python_DateUtil", "2.9.0", ["python"]),
        _entry("tzdata-py", "2024.1", ["python"], ["pkg:pypi/tzdata@2024.1.post1", "pkg:github/x/y"]),
        _entry("libblas", "3.9.0", ["__glibc >=2.17"]),
        _entry("pythonx", "1.0", ["pythonic >=1"]),
    ], "conda")
    assert given is not None and given.by == "conda" and given.runtimes == {"python": "3.11.9"}
    assert {n: (p.version, p.provider) for n, p in given.packages["python"].items()} == {
        "torch": ("2.1.0", "pytorch"),
        "python-dateutil": ("2.9.0", "Python_DateUtil"),
        "tzdata": ("2024.1.post1", "tzdata-py"),
    }
    assert provided_by([_entry("libblas", "3.9.0", [])], "conda") is None


def test_an_environment_without_the_conda_package_its_pypi_part_needs_is_a_conflict() -> None:
    """The Python part of environment `lean` needs numpy, which conda installs only in `full`."""
    from envman.ecosystems.base import Provided, ProvidedPackage, ResolveRequest
    from envman.ecosystems.python.entry import PythonEntry
    from envman.ecosystems.python.provided import _marked
    from envman.errors import ResolutionError

    numpy = ProvidedPackage("numpy", "1.26.4", "numpy")
    request = ResolveRequest(
        section=None, environments={"full": [], "lean": []}, platforms=["linux-64"],
        provided={
            "full": {"linux-64": [Provided("conda", {"python": "3.11.9"}, {"python": {"numpy": numpy}})]},
            "lean": {"linux-64": [Provided("conda", {"python": "3.11.9"}, {})]},
        },
    )
    entries = [PythonEntry(name="numpy", version="1.26.4"), PythonEntry(name="pandas", version="2.2.0", hashes=["sha256:" + "1" * 64])]
    marked = _marked(entries, request, "linux-64", "full", {"numpy": "1.26.4"})
    assert [(e.name, e.manager, e.provider, e.hashes) for e in marked] == [
        ("numpy", "conda", "numpy", []), ("pandas", "pypi", None, ["sha256:" + "1" * 64]),
    ]
    with pytest.raises(ResolutionError, match="environment 'lean' needs numpy, which conda installs in other environments"):
        _marked(entries, request, "linux-64", "lean", {"numpy": "1.26.4"})
