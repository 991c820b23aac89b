"""The generated fixture repository: one scenario per Maven rule, plus root items per scenario."""

from __future__ import annotations

from pathlib import Path

from tests.jvm.mavenrepo import FixtureRepo

__all__ = ["build_rules_repo", "SCENARIOS"]

JDK_PROFILE = """<profiles>
 <profile><id>modern</id><activation><jdk>[9,)</jdk></activation>
  <dependencies><dependency><groupId>p.lib</groupId><artifactId>jdk9-only</artifactId><version>1.0</version></dependency></dependencies></profile>
 <profile><id>ancient</id><activation><jdk>1.8</jdk></activation>
  <dependencies><dependency><groupId>p.lib</groupId><artifactId>jdk8-only</artifactId><version>1.0</version></dependency></dependencies></profile>
 <profile><id>linux</id><activation><os><family>unix</family></os></activation>
  <properties><native.version>2.0</native.version></properties></profile>
</profiles>"""

DEFAULT_PROFILE = """<profiles>
 <profile><id>fallback</id><activation><activeByDefault>true</activeByDefault></activation>
  <dependencies><dependency><groupId>p.lib</groupId><artifactId>by-default</artifactId><version>1.0</version></dependency></dependencies></profile>
 <profile><id>never</id><activation><property><name>envman.never.set</name></property></activation>
  <dependencies><dependency><groupId>p.lib</groupId><artifactId>never</artifactId><version>1.0</version></dependency></dependencies></profile>
 <profile><id>negated</id><activation><property><name>!envman.never.set</name></property></activation>
  <dependencies><dependency><groupId>p.lib</groupId><artifactId>negated</artifactId><version>1.0</version></dependency></dependencies></profile>
</profiles>"""


def build_rules_repo(root: Path) -> FixtureRepo:
    repo = FixtureRepo(root)
    add = repo.add
    # -- plain leaves used everywhere --------------------------------------------------
    for name in ("leaf", "other", "third"):
        for version in ("1.0", "1.5", "2.0", "3.0"):
            add(f"x.leaf:{name}:{version}")

    # -- parents and properties --------------------------------------------------------
    add("p.base:grand:1", packaging="pom", properties={"leaf.version": "1.0", "other.version": "${leaf.version}"},
        managed=["x.leaf:other:${other.version}"])
    add("p.base:parent:2", packaging="pom", parent="p.base:grand:1", properties={"leaf.version": "1.5"},
        managed=["x.leaf:leaf:${leaf.version}", "p.base:sibling:${project.version}"])
    add("p.base:sibling:7", deps=["x.leaf:third:3.0"])
    add("p.base:child:7", parent="p.base:parent:2", properties={"own": "x.leaf"},
        deps=["${own}:leaf", "x.leaf:other", {"g": "p.base", "a": "sibling", "v": None}])
    # child without groupId/version: inherited from parent
    add("p.base:inherit:2", parent="p.base:parent:2", deps=["x.leaf:leaf:${project.parent.version}.0"],
        pom_bytes=repo.pom_text(":inherit:", deps=["x.leaf:leaf:${project.parent.version}.0"], parent="p.base:parent:2").encode())

    # -- BOM import ----------------------------------------------------------------------
    add("b.bom:bom-parent:1", packaging="pom", properties={"bom.leaf": "2.0"})
    add("b.bom:bom-a:1", packaging="pom", parent="b.bom:bom-parent:1",
        managed=["x.leaf:leaf:${bom.leaf}", "x.leaf:other:1.0", "x.leaf:third:1.0"])
    add("b.bom:bom-b:1", packaging="pom", managed=["x.leaf:other:3.0", "x.leaf:third:3.0"])
    add("b.bom:bom-nested:1", packaging="pom",
        managed=[{"g": "b.bom", "a": "bom-b", "v": "1", "type": "pom", "scope": "import"}])
    add("b.bom:app-parent:1", packaging="pom",
        managed=[{"g": "b.bom", "a": "bom-a", "v": "1", "type": "pom", "scope": "import"},
                 {"g": "b.bom", "a": "bom-nested", "v": "1", "type": "pom", "scope": "import"},
                 "x.leaf:third:1.5"])
    add("b.bom:app:1", parent="b.bom:app-parent:1", deps=["x.leaf:leaf", "x.leaf:other", "x.leaf:third"])

    # -- ranges ---------------------------------------------------------------------------
    for version in ("1.0", "1.1", "1.9", "2.0", "2.1-SNAPSHOT"):
        add(f"r.range:ranged:{version}", deps=[f"x.leaf:leaf:{'1.0' if version < '1.5' else '2.0'}"])
    add("r.range:wants-range:1", deps=["r.range:ranged:[1.0,2.0)"])
    add("r.range:wants-soft:1", deps=["r.range:ranged:2.0"])
    add("r.range:deep:1", deps=["r.range:wants-range:1"])
    add("r.range:wants-exact:1", deps=["r.range:ranged:[1.1]"])
    add("r.range:wants-union:1", deps=["r.range:ranged:(,1.0],[1.9,1.9]"])

    # -- exclusions -------------------------------------------------------------------------
    add("e.ex:mid:1", deps=["x.leaf:leaf:1.0", "x.leaf:other:1.0", "e.ex:low:1"])
    add("e.ex:low:1", deps=["x.leaf:third:1.0", "x.leaf:leaf:2.0"])
    add("e.ex:excluder:1", deps=[{"g": "e.ex", "a": "mid", "v": "1", "exclusions": ["x.leaf:third"]}])
    add("e.ex:wild:1", deps=[{"g": "e.ex", "a": "mid", "v": "1", "exclusions": ["*:*"]}])
    add("e.ex:wild-group:1", deps=[{"g": "e.ex", "a": "mid", "v": "1", "exclusions": ["x.leaf:*"]}])

    # -- optional and scopes ----------------------------------------------------------------
    add("o.opt:has-optional:1", deps=[{"g": "x.leaf", "a": "leaf", "v": "1.0", "optional": True}, "x.leaf:other:1.0"])
    add("o.opt:scoped:1", deps=[{"g": "x.leaf", "a": "leaf", "v": "1.0", "scope": "test"},
                                {"g": "x.leaf", "a": "other", "v": "1.0", "scope": "provided"},
                                {"g": "x.leaf", "a": "third", "v": "1.0", "scope": "runtime"},
                                "o.opt:has-optional:1"])
    add("o.opt:runtime-user:1", deps=[{"g": "o.opt", "a": "scoped", "v": "1", "scope": "runtime"}])
    add("o.opt:wide-a:1", deps=[{"g": "x.leaf", "a": "third", "v": "2.0", "scope": "runtime"}])
    add("o.opt:wide-b:1", deps=["o.opt:wide-c:1"])
    add("o.opt:wide-c:1", deps=["x.leaf:third:3.0"])

    # -- classifiers and types ------------------------------------------------------------------
    add("c.cls:native:1.0", classifiers=("linux-x86_64", "tests"), extra=JDK_PROFILE,
        deps=["x.leaf:leaf:${native.version}"])
    add("c.cls:user:1", deps=[{"g": "c.cls", "a": "native", "v": "1.0", "classifier": "linux-x86_64"},
                              {"g": "c.cls", "a": "native", "v": "1.0", "type": "test-jar"},
                              "c.cls:native:1.0"])
    add("c.cls:pomdep:1", packaging="pom", deps=["x.leaf:other:2.0"])
    add("p.lib:jdk9-only:1.0")
    add("p.lib:jdk8-only:1.0")
    add("p.lib:by-default:1.0")
    add("p.lib:never:1.0")
    add("p.lib:negated:1.0")
    add("p.lib:profiled:1", extra=DEFAULT_PROFILE)

    # -- relocation -----------------------------------------------------------------------------
    add("l.old:moved:1.0", relocation={"groupId": "l.new"})
    add("l.new:moved:1.0", deps=["x.leaf:leaf:1.0"])
    add("l.new:moved:2.0", deps=["x.leaf:leaf:2.0"])
    add("l.old:renamed:1.0", relocation={"groupId": "l.new", "artifactId": "moved", "version": "2.0"})
    add("l.use:old-user:1", deps=["l.old:moved:1.0"])

    # -- mediation -------------------------------------------------------------------------------
    add("m.med:a:1", deps=["x.leaf:leaf:1.0", "m.med:c:1"])
    add("m.med:b:1", deps=["x.leaf:leaf:2.0", "x.leaf:other:2.0"])
    add("m.med:c:1", deps=["x.leaf:other:1.0", "x.leaf:third:1.0"])
    add("m.med:d:1", deps=["m.med:e:1"])
    add("m.med:e:1", deps=["x.leaf:third:3.0"])
    # a POM's own dependencyManagement does not reach its transitive dependencies (Maven 3)
    add("m.med:manager:1", managed=["x.leaf:third:2.0", "x.leaf:leaf:3.0"], deps=["m.med:c:1", "x.leaf:leaf"])
    # duplicates: the last declaration wins
    add("m.med:dupes:1", deps=["x.leaf:other:1.0", "x.leaf:leaf:1.0", "x.leaf:other:1.5"])
    # cycle
    add("m.cyc:one:1", deps=["m.cyc:two:1", "x.leaf:leaf:1.0"])
    add("m.cyc:two:1", deps=["m.cyc:one:1", "x.leaf:other:1.0"])
    # a loser's subtree does not count
    add("m.med:loser-parent:1", deps=["m.med:loser:1.0"])
    add("m.med:loser:1.0", deps=["x.leaf:third:1.5"])
    add("m.med:loser:2.0", deps=[])
    # -- management of scope, exclusions and (not) optional; ${project.version} from a parent ----
    add("g.mgmt:parent:1", packaging="pom",
        managed=[{"g": "x.leaf", "a": "leaf", "v": "1.5", "scope": "runtime"},
                 {"g": "e.ex", "a": "mid", "v": "1", "exclusions": ["e.ex:low"]},
                 {"g": "x.leaf", "a": "other", "v": "1.0", "optional": True}],
        deps=["g.mgmt:api:${project.version}"])
    add("g.mgmt:api:4")
    add("g.mgmt:api:1")
    add("g.mgmt:child:4", parent="g.mgmt:parent:1", deps=["x.leaf:leaf", "e.ex:mid", "x.leaf:other"])
    add("g.mgmt:user:1", deps=["g.mgmt:child:4"])
    # exclusions apply to the relocated coordinates
    add("l.use:excludes-new:1", deps=[{"g": "l.use", "a": "old-user", "v": "1", "exclusions": ["l.new:moved"]}])
    # a parent's profile adds a property used by the child
    add("p.prof:parent:1", packaging="pom", properties={"dep.version": "1.0"},
        extra="<profiles><profile><id>j17</id><activation><jdk>17</jdk></activation>"
              "<properties><dep.version>3.0</dep.version></properties></profile></profiles>")
    add("p.prof:child:1", parent="p.prof:parent:1", deps=["x.leaf:third:${dep.version}"])
    # inherited dependencies come after the child's own (first-declaration ties)
    add("i.inh:parent:1", packaging="pom", deps=["m.med:b:1"])
    add("i.inh:child:1", parent="i.inh:parent:1", deps=["m.med:a:1"])
    # the child's BOM imports come before the parent's; explicit entries beat both
    add("i.inh:bom-parent:1", packaging="pom",
        managed=[{"g": "b.bom", "a": "bom-a", "v": "1", "type": "pom", "scope": "import"}, "x.leaf:leaf:3.0"])
    add("i.inh:bom-child:1", parent="i.inh:bom-parent:1",
        managed=[{"g": "b.bom", "a": "bom-b", "v": "1", "type": "pom", "scope": "import"}],
        deps=["x.leaf:other", "x.leaf:third", "x.leaf:leaf"])
    repo.finish()
    return repo


SCENARIOS: dict[str, list] = {
    "parents": ["p.base:child:7", "p.base:inherit:2"],
    "bom": ["b.bom:app:1"],
    "range": ["r.range:wants-range:1"],
    "range-vs-soft": ["r.range:wants-soft:1", "r.range:deep:1"],
    "range-backtrack": ["r.range:deep:1", "r.range:wants-soft:1", "r.range:wants-exact:1"],
    "range-union": ["r.range:wants-union:1"],
    "exclusion": ["e.ex:excluder:1"],
    "exclusion-wildcard": ["e.ex:wild:1", "e.ex:wild-group:1"],
    "exclusion-root": [{"g": "e.ex", "a": "mid", "v": "1", "exclusions": ["x.leaf:other", "e.ex:low"]}],
    "optional-scopes": ["o.opt:scoped:1"],
    "runtime-root": [{"g": "o.opt", "a": "scoped", "v": "1", "scope": "runtime"}],
    "runtime-transitive": ["o.opt:runtime-user:1"],
    "scope-widening": ["o.opt:wide-a:1", "o.opt:wide-b:1"],
    "classifiers": ["c.cls:user:1"],
    "pom-type": ["c.cls:pomdep:1@pom"],
    "profiles": ["p.lib:profiled:1", "c.cls:native:1.0"],
    "relocation": ["l.use:old-user:1", "l.new:moved:2.0"],
    "relocation-root": ["l.old:renamed:1.0"],
    "nearest": ["m.med:a:1", "m.med:b:1"],
    "first-declaration": ["m.med:b:1", "m.med:a:1"],
    "deep-vs-shallow": ["m.med:d:1", "m.med:c:1"],
    "management-scope": ["m.med:manager:1"],
    "duplicates": ["m.med:dupes:1"],
    "cycle": ["m.cyc:one:1"],
    "loser-subtree": ["m.med:loser-parent:1", "m.med:loser:2.0"],
    "root-classifier": ["c.cls:native:1.0:tests", "c.cls:native:1.0:linux-x86_64"],
    "management-details": ["g.mgmt:user:1"],
    "management-direct": ["g.mgmt:child:4"],
    "relocation-excluded": ["l.use:excludes-new:1"],
    "parent-profile": ["p.prof:child:1"],
    "root-range": ["r.range:ranged:[1.0,2.0)", "r.range:wants-soft:1"],
    "root-test-jar": ["c.cls:native:1.0@test-jar"],
    "inherited-order": ["i.inh:child:1"],
    "inherited-imports": ["i.inh:bom-child:1"],
}
