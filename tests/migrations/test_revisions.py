"""The revision files themselves: one linear history, self-contained and reversible."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest
from alembic.script import Script

from tests.migrations.support import chain, script_directory
from threadstore.migrations import HEAD_REVISION

ALLOWED_IMPORTS = {"__future__", "collections", "typing", "alembic", "sqlalchemy"}


def _module(script: Script) -> ast.Module:
    return ast.parse(Path(script.path).read_text(encoding="utf-8"))


def _function(tree: ast.Module, name: str) -> ast.FunctionDef:
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return node
    raise AssertionError(f"no {name}() function")


def test_single_head() -> None:
    heads = script_directory().get_heads()
    assert len(heads) == 1, f"several heads {heads}: merge them or rebase the new revision"


def test_the_head_constant_is_the_newest_revision_file() -> None:
    """threadstore knows its head without loading Alembic; this keeps the two the same."""
    assert script_directory().get_current_head() == HEAD_REVISION


def test_history_is_linear_from_base() -> None:
    scripts = chain()
    assert scripts, "no revisions found"
    assert scripts[0].down_revision is None
    for older, newer in itertools.pairwise(scripts):
        assert newer.down_revision == older.revision, newer.revision
    for script in scripts:
        assert not script.branch_labels, f"{script.revision} has branch labels"
        assert not script.dependencies, f"{script.revision} depends on another branch"


@pytest.mark.parametrize("script", chain(), ids=lambda script: script.revision)
def test_header_says_what_changes_and_what_a_downgrade_loses(script: Script) -> None:
    doc = ast.get_docstring(_module(script)) or ""
    assert "Schema change:" in doc
    assert "Downgrade notes:" in doc


@pytest.mark.parametrize("script", chain(), ids=lambda script: script.revision)
def test_revision_is_self_contained(script: Script) -> None:
    """Revisions import only Alembic and SQLAlchemy: never the live models."""
    for node in ast.walk(_module(script)):
        if isinstance(node, ast.Import):
            roots = {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots = {(node.module or "").split(".")[0]}
        else:
            continue
        assert roots <= ALLOWED_IMPORTS, f"{script.revision} imports {sorted(roots)}"


@pytest.mark.parametrize("script", chain(), ids=lambda script: script.revision)
def test_revision_has_a_real_downgrade(script: Script) -> None:
    body = _function(_module(script), "downgrade").body
    statements = [
        node
        for node in body
        if not isinstance(node, ast.Pass)
        and not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))
    ]
    assert statements, f"{script.revision}.downgrade() does nothing"
