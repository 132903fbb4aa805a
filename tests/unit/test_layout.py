"""The library's layout: one subpackage per stage, each importing only the shared core, the stages before it and
itself, so that a stage's code can be read (and changed) without the ones after it."""

import re

from conftest import REPO

LIBRARY = REPO / "workflow" / "scripts" / "torchbasics"
# The order of the stages: the report reads every other stage's files; data comes before the stages that read it.
STAGES = ["core", "data", "autograd", "denoise", "classifier", "report"]


def test_every_stage_of_the_rules_has_its_subpackage_and_entry_scripts():
    rule_files = {path.stem for path in (REPO / "workflow" / "rules").glob("*.smk")} - {"common"}
    assert rule_files == set(STAGES) - {"core"}
    for stage in rule_files:
        assert (LIBRARY / stage / "__init__.py").exists(), stage
        assert list((REPO / "workflow" / "scripts" / stage).glob("*.py")), stage
    assert not [path.name for path in LIBRARY.glob("*.py") if path.name != "__init__.py"]


def test_a_stage_imports_only_the_core_the_stages_before_it_and_itself():
    wrong = []
    for stage in STAGES:
        allowed = STAGES[: STAGES.index(stage) + 1]
        for module in (LIBRARY / stage).glob("*.py"):
            for imported in re.findall(r"^\s*(?:from|import) torchbasics\.(\w+)", module.read_text(), re.MULTILINE):
                if imported not in allowed:
                    wrong.append(f"{stage}/{module.name} imports torchbasics.{imported}")
    assert not wrong, wrong
