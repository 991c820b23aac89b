"""`envman lock` of system.apt against the small apt repository served on 127.0.0.1 (apt in
a container of a base whose one source it is): entries, preferences and upgrades, environments,
missing names, conflicts, lock --check."""

from __future__ import annotations

import hashlib
import json

import yaml

from tests.system.conftest import project, run_envman


def entries(folder, env="default"):
    """The packages envman installs (not the base's runtime packages the lock records)."""
    lock = yaml.safe_load((folder / "envman.lock").read_text())
    return {e["name"]: e for e in lock["environments"][env]["linux-64"].get("system", []) if not e.get("base")}


def test_lock_records_what_apt_would_install_with_the_index_hashes(tmp_path, apt_repo, repo_base):
    root, url = apt_repo
    folder = project(tmp_path, repo_base, ["envtest-app"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    found = entries(folder)
    assert sorted(found) == ["envtest-app", "envtest-lib"]
    lib = found["envtest-lib"]
    assert lib["version"] == "1.1-1" and lib["architecture"] == "all"  # apt's candidate: the newest
    data = (root / lib["filename"]).read_bytes()
    assert lib["sha256"] == hashlib.sha256(data).hexdigest() and lib["size"] == len(data)
    assert lib["url"] == f"{url}/pool/main/envtest-lib_1.1-1_all.deb"
    assert lib["release-date"] == "2024-06-01T12:00:00Z"
    assert found["envtest-app"]["requires"] == ["envtest-lib"]
    # the base's runtimes: which Debian package provides each, recorded (not installed again)
    lock = yaml.safe_load((folder / "envman.lock").read_text())
    runtimes = {e["name"]: e for e in lock["environments"]["default"]["linux-64"]["system"] if e.get("base")}
    assert sorted(runtimes) == ["openjdk-17-jre-headless", "python3.11-minimal", "r-base-core"]
    assert runtimes["python3.11-minimal"]["runtime"] == "python 3.11.2" and "sha256" not in runtimes["python3.11-minimal"]
    assert runtimes["r-base-core"]["runtime"] == "R 4.2.2" and runtimes["openjdk-17-jre-headless"]["runtime"].startswith("java 17.0.")
    assert "python3.11-minimal" in done.stderr  # lock says so
    check = run_envman("lock", "--check", cwd=folder)
    assert check.returncode == 0, check.stderr
    offline = run_envman("lock", "--offline", "--upgrade", cwd=folder)  # the lists kept from the last lock
    assert offline.returncode == 0, offline.stderr
    assert entries(folder) == found
    # this machine's own dpkg database: the locked packages are missing, its packages are not extra
    local = run_envman("check", "local", "--format", "json", cwd=folder)
    assert local.returncode == 1, local.stderr
    findings = [(f["name"], f["kind"]) for f in json.loads(local.stdout)["targets"][0]["findings"] if f["ecosystem"] == "system"]
    assert ("envtest-app", "missing") in findings and ("envtest-lib", "missing") in findings
    assert not [f for f in findings if f[1] == "extra"], findings


def test_old_pins_are_kept_until_an_upgrade_is_asked_for(tmp_path, apt_repo, repo_base):
    folder = project(tmp_path, repo_base, ["envtest-lib (<< 1.1)"])
    assert run_envman("lock", cwd=folder).returncode == 0
    assert entries(folder)["envtest-lib"]["version"] == "1.0-1"
    project(tmp_path, repo_base, ["envtest-lib", "envtest-app"])
    stale = run_envman("lock", "--check", cwd=folder)
    assert stale.returncode == 1 and "system" in (stale.stdout + stale.stderr)
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert entries(folder)["envtest-lib"]["version"] == "1.0-1"  # apt preference: the old pin
    done = run_envman("lock", "--upgrade-package", "envtest-lib", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert entries(folder)["envtest-lib"]["version"] == "1.1-1"


def test_environments_share_one_version(tmp_path, apt_repo, repo_base):
    extra = "environments:\n  production: {}\n  design:\n    system: {apt: [envtest-app]}\n"
    folder = project(tmp_path, repo_base, ["envtest-lib (<< 1.1)"], extra)
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    production, design = entries(folder, "production"), entries(folder, "design")
    assert sorted(production) == ["envtest-lib"] and sorted(design) == ["envtest-app", "envtest-lib"]
    assert production["envtest-lib"]["version"] == design["envtest-lib"]["version"] == "1.0-1"


def test_a_virtual_package_is_locked_as_its_provider(tmp_path, apt_repo, repo_base):
    folder = project(tmp_path, repo_base, ["envtest-virtual"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    assert sorted(entries(folder)) == ["envtest-java-shim"]


def test_a_name_the_sources_lack_is_exit_3_naming_it(tmp_path, apt_repo, repo_base):
    folder = project(tmp_path, repo_base, ["envtest-app", "envtest-nonexistent"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 3, done.stderr
    assert "envtest-nonexistent" in done.stderr and "envtest-app" not in done.stderr.replace("envtest-app,", "")
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert not (folder / "envman.lock").exists()


def test_conflicts_and_missing_dependencies_are_exit_3_with_apts_reason(tmp_path, apt_repo, repo_base):
    folder = project(tmp_path, repo_base, ["envtest-red", "envtest-blue"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 3, done.stderr
    assert "cannot install these together" in done.stderr and "envtest-blue" in done.stderr  # apt's own lines
    folder = project(tmp_path / "ghost", repo_base, ["envtest-needs-ghost"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 3, done.stderr
    assert "envtest-ghost" in done.stderr and "Traceback" not in done.stderr


def test_bad_relations_are_refused_at_the_manifest(tmp_path, repo_base):
    for spec, words in (("libfoo (>= )", "Debian package relation"), ("libfoo | libbar", "'|'"), ("LibFoo", "Debian package relation")):
        folder = project(tmp_path / str(abs(hash(spec))), repo_base, [spec])
        done = run_envman("validate", cwd=folder)
        assert done.returncode == 2, done.stderr
        assert "envman.yaml:3:" in done.stderr and words in done.stderr, done.stderr
