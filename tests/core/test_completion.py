"""`envman completion bash` gives a script that real bash completes commands and options with."""

from __future__ import annotations

import subprocess

from tests.python.conftest import run_envman


def _complete(script_path, words: list[str]) -> list[str]:
    line = " ".join(f"'{w}'" for w in words)
    bash = f"source {script_path}; COMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _shtab_envman; printf '%s\\n' \"${{COMPREPLY[@]}}\""
    done = subprocess.run(["bash", "-c", bash], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return sorted(done.stdout.split())


def test_bash_completes_commands_and_options(tmp_path):
    done = run_envman("completion", "bash", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    script = tmp_path / "envman.bash"
    script.write_text(done.stdout)
    assert _complete(script, ["envman", "ren"]) == ["render"]
    assert "tree" in _complete(script, ["envman", "t"])
    assert _complete(script, ["envman", "lock", "--up"]) == ["--upgrade", "--upgrade-package"]
    assert run_envman("completion", "fish", cwd=tmp_path).returncode == 2
