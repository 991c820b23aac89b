"""Inventories (pure): Ansible INI and YAML, a YAML list of targets, variable precedence,
host ranges, --limit patterns, errors with FILE:LINE:COL."""

from __future__ import annotations

import pytest

from envman.errors import BadInputError, LocatedError
from envman.fleet.inventory import parse_inventory, select, targets_of

INI = """\
# hosts
[web]
web[01:03] ansible_host=10.0.0.5 ansible_user=deploy ansible_port=2222
api ansible_connection=docker envman_engine=tcp://10.0.0.9:2375

[db]
db1 ansible_host=10.0.1.1 envman_python=/opt/venv/bin/python envman_rlib=/srv/R/lib,/opt/R/lib envman_containers=etl,jobs

[web:vars]
envman_environment=production
ansible_ssh_common_args='-o ProxyJump=bastion'

[prod:children]
web
db

[all:vars]
envman_environment=design
envman_timeout=20
"""

YAML = """\
all:
  vars:
    envman_environment: design
  children:
    prod:
      vars:
        envman_environment: production
      children:
        web:
          hosts:
            web1: {ansible_host: 10.0.0.5, ansible_user: deploy}
            web2: {ansible_host: 10.0.0.6, envman_environment: canary}
    lab:
      hosts:
        laptop: {ansible_connection: local, envman_jars: /opt/jars}
"""


def test_ini_hosts_groups_and_precedence():
    inventory = parse_inventory(INI, "hosts.ini")
    targets = {t.host: t for t in targets_of(inventory, "hosts.ini")}
    assert sorted(targets) == ["api", "db1", "web01", "web02", "web03"]  # db1's containers share its name
    web = targets["web02"]
    assert web.spec.text == "web02 (ssh:deploy@10.0.0.5:2222)" and web.spec.kind == "ssh"
    assert web.spec.ssh_options == ("-o", "ProxyJump=bastion")
    assert web.environment == "production" and web.groups == ("prod", "web") and web.timeout == 20
    assert targets["api"].spec.engine == "tcp://10.0.0.9:2375" and targets["api"].spec.value == "api"
    all_targets = [t.spec.text for t in targets_of(inventory, "hosts.ini")]
    assert "db1/docker:etl" in all_targets and "db1/docker:jobs" in all_targets
    db = next(t for t in targets_of(inventory, "hosts.ini") if t.spec.text.startswith("db1 ("))
    assert db.environment == "design"  # all:vars only
    assert db.places.of("python") == ("/opt/venv/bin/python",) and db.places.of("r") == ("/srv/R/lib", "/opt/R/lib")
    etl = next(t for t in targets_of(inventory, "hosts.ini") if t.spec.text == "db1/docker:etl")
    assert etl.spec.engine == "ssh://10.0.1.1"  # the host's own engine, through docker's ssh transport


def test_yaml_inventory_and_limit_patterns():
    inventory = parse_inventory(YAML, "hosts.yml")
    targets = targets_of(inventory, "hosts.yml")
    by_host = {t.host: t for t in targets}
    assert by_host["web1"].environment == "production" and by_host["web2"].environment == "canary"
    assert by_host["laptop"].spec.kind == "local" and by_host["laptop"].places.of("jvm") == ("/opt/jars",)
    assert [t.host for t in select(targets, inventory, "prod", "x")] == ["web1", "web2"]
    assert [t.host for t in select(targets, inventory, "all:!web2", "x")] == ["laptop", "web1"]
    assert [t.host for t in select(targets, inventory, "prod:&web*:!web1", "x")] == ["web2"]
    with pytest.raises(BadInputError, match="matches no group or host"):
        select(targets, inventory, "nope", "x")


def test_a_list_of_targets():
    text = "- docker:api\n- target: ssh:ops@10.0.0.8/usr/bin/python3\n  environment: production\n  groups: [vms]\n  timeout: 5\n"
    targets = targets_of(parse_inventory(text, "t.yaml"), "t.yaml")
    assert [t.spec.text for t in targets] == ["docker:api", "ssh:ops@10.0.0.8/usr/bin/python3"]
    assert targets[1].environment == "production" and targets[1].groups == ("vms",) and targets[1].timeout == 5


@pytest.mark.parametrize(
    ("text", "where", "message"),
    [
        ("[web]\nweb1 ansible_host\n", "hosts:2:6", "expected KEY=VALUE"),
        ("[web\nweb1\n", "hosts:1:1", "bad section header"),
        ("[web]\nweb[5:a]\n", "hosts:2", "bad host range"),
        ("- docker:api\n- target: nothing:here\n", "hosts:2:3", "unknown target"),
        ("- target: docker:api\n  colour: blue\n", "hosts:2:3", "unknown key 'colour'"),
        ("all:\n  hostz: {}\n", "hosts:2:3", "unknown key 'hostz'"),
        ("all:\n  children:\n    a: &x {}\n    b: *x\n", "hosts:3", "anchors and aliases"),
    ],
)
def test_bad_inventories_name_the_place(text, where, message):
    with pytest.raises(LocatedError) as caught:
        targets_of(parse_inventory(text, "hosts"), "hosts")
    assert str(caught.value).startswith(where) and message in str(caught.value), str(caught.value)


def test_bad_variables_are_bad_input():
    for text in ("[w]\nw1 ansible_connection=winrm\n", "[w]\nw1 envman_timeout=soon\n", "[w]\nw1 ansible_port=99999\n"):
        with pytest.raises(BadInputError):
            targets_of(parse_inventory(text, "hosts"), "hosts")
