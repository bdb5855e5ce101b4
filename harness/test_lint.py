"""The lint itself (harness/pios/lint.py): it must reject every broken kernel in
grading/lint_cases.py under the rule meant to catch it, and accept every correct
variant -- helpers not inlined, other registers (-Os), extra or stronger barriers --
with no finding at all. Each case builds its own copy of a lesson: course checks
(`make test-course`). The lessons' own tests run it on the reference kernels."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading.lint_cases import MUTANTS, VARIANTS   # noqa: E402
from pios import lint                               # noqa: E402

pytestmark = pytest.mark.course


@pytest.mark.parametrize("case", MUTANTS, ids=[c.name for c in MUTANTS])
def test_lint_rejects_the_mutant(case, tmp_path):
    found, _ = lint.judge(case, lint.build_case(case, tmp_path))
    assert found, f"{case.name} ({case.why}): the {case.rule!r} rule found nothing"


@pytest.mark.parametrize("case", VARIANTS, ids=[c.name for c in VARIANTS])
def test_lint_accepts_the_variant(case, tmp_path):
    _, every = lint.judge(case, lint.build_case(case, tmp_path))
    assert not every, f"{case.name} ({case.why}) is correct, but the lint says:\n" + \
        "\n".join(map(str, every))


def test_every_rule_has_mutants_and_three_variants():
    for rule in lint.RULES:
        assert any(c.rule == rule for c in MUTANTS), f"no mutant for {rule}"
        assert sum(c.rule == rule for c in VARIANTS) >= 3, f"fewer than 3 variants for {rule}"
