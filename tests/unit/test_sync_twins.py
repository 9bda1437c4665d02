"""SyncStore has a synchronous twin of every public coroutine method of BaseStore, typed."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from tests import sync_surface
from threadstore import BaseStore, SyncStore, sync_methods
from threadstore.sync_store import _LIFECYCLE, SYNC_METHODS

ASYNC_METHODS = {
    name
    for name, value in inspect.getmembers(BaseStore)
    if not name.startswith("_") and inspect.iscoroutinefunction(value)
}


def _declarations() -> dict[str, ast.FunctionDef]:
    """The defs of SyncMethods' ``if TYPE_CHECKING:`` block, by name."""
    tree = ast.parse(Path(sync_methods.__file__).read_text())
    (cls,) = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "SyncMethods"]
    (block,) = [n for n in cls.body if isinstance(n, ast.If)]
    assert ast.unparse(block.test) == "TYPE_CHECKING"
    return {n.name: n for n in block.body if isinstance(n, ast.FunctionDef)}


def test_every_async_method_has_a_sync_twin_with_its_signature() -> None:
    assert set(SYNC_METHODS) == ASYNC_METHODS
    assert {"add_message", "pop_message", "save_checkpoint", "erase_user"} <= ASYNC_METHODS
    for name in sorted(ASYNC_METHODS):
        twin = getattr(SyncStore, name)
        assert not inspect.iscoroutinefunction(twin), name
        assert inspect.signature(twin) == inspect.signature(getattr(BaseStore, name)), name
        assert twin.__doc__ == getattr(BaseStore, name).__doc__ or name == "close", name


def test_blocks_and_views_are_sync_too() -> None:
    for name in ("transaction", "for_user", "open", "close"):
        assert not inspect.iscoroutinefunction(getattr(SyncStore, name))


def test_declared_signatures_are_base_stores() -> None:
    """Regenerate with ``python -m tests.sync_surface`` when this fails."""
    declared = _declarations()
    assert sync_surface.HAND_WRITTEN == _LIFECYCLE
    assert set(declared) == ASYNC_METHODS - _LIFECYCLE
    for name, declaration in declared.items():
        original = sync_surface.source_node(getattr(BaseStore, name))
        assert ast.dump(declaration.args) == ast.dump(original.args), name
        assert ast.dump(declaration.returns) == ast.dump(original.returns), name
        summary = (ast.get_docstring(original) or "").split("\n", 1)[0]
        assert ast.get_docstring(declaration) == summary, name


def test_declared_names_are_the_objects_base_store_means() -> None:
    for name in sorted(ASYNC_METHODS - _LIFECYCLE):
        function = getattr(BaseStore, name)
        home = inspect.getmodule(function)
        assert home is not None
        for used in sync_surface.annotation_names(sync_surface.source_node(function)):
            meant = sync_surface.resolve(home, used)
            assert sync_surface.resolve(sync_methods, used) is meant, (name, used)


def test_mypy_sees_the_twins_signatures(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    program = tmp_path / "uses_sync_store.py"
    program.write_text(
        "from threadstore import SyncStore\n"
        "with SyncStore('memory://') as sync:\n"
        "    reveal_type(sync.pop_message('t1'))\n"
        "    sync.add_message('t1', 'user', 1)\n"
        "    sync.no_such_method()\n"
    )
    out, _, status = api.run(
        ["--strict", "--cache-dir", str(tmp_path / "cache"), "--no-error-summary", str(program)]
    )
    lines = out.splitlines()
    assert status == 1, out
    assert 'Revealed type is "TypedDict(threadstore.records.MessageRecord' in lines[0]
    assert lines[0].endswith('| None"')
    assert 'Argument 3 to "add_message"' in lines[1]
    assert 'expected "str"' in lines[1]
    assert '"SyncStore" has no attribute "no_such_method"' in lines[2]
    assert len(lines) == 3, out
