"""The model as levers see it (clustersim.model.host.PolicyHost): complete, and the only way in.

The model has every member the interface lists, and the policy package touches
no other attribute of the model (an AST check over src/clustersim/policy/, with
aliases such as ``m = self.model``), in particular no private one.
"""

from __future__ import annotations

import ast
import inspect
import itertools
from pathlib import Path

import pytest

import clustersim.policy
from clustersim import CreativeClusterModel
from clustersim.model.host import PolicyHost

POLICY_SRC = Path(clustersim.policy.__file__).resolve().parent
POLICY_MODULES = sorted(POLICY_SRC.rglob("*.py"))
MEMBERS = {
    name for name in [*PolicyHost.__annotations__, *vars(PolicyHost)] if not name.startswith("_")
}
METHODS = {name for name in MEMBERS if inspect.isfunction(vars(PolicyHost).get(name))}


@pytest.fixture(scope="module")
def model():
    return CreativeClusterModel(rng=0, city="small_town", population=3000)


# ------------------------------------------------- the model is a PolicyHost
def test_the_interface_lists_the_hooks_levers_need_and_nothing_private():
    assert {"graph", "firms", "talents", "municipality", "policies", "add_incubator"} <= MEMBERS
    assert {"set_travel_times_changed", "attract_talents", "amenity_bonus"} <= MEMBERS
    assert not [name for name in MEMBERS if name.startswith("_")]
    for name in MEMBERS:
        member = vars(PolicyHost).get(name)
        documented = member.__doc__ if name in METHODS else _attribute_doc(name)
        assert documented and documented.strip(), f"PolicyHost.{name} has no one-line doc"


def _attribute_doc(name: str) -> str | None:
    """The string right after ``name: type`` in the PolicyHost class body."""
    tree = ast.parse(inspect.getsource(PolicyHost))
    body = tree.body[0].body
    for stmt, after in itertools.pairwise(body):
        if isinstance(stmt, ast.AnnAssign) and getattr(stmt.target, "id", None) == name:
            if isinstance(after, ast.Expr) and isinstance(after.value, ast.Constant):
                return after.value.value
    return None


def test_a_real_model_has_every_member_of_the_interface(model):
    missing = sorted(name for name in MEMBERS if not hasattr(model, name))
    assert not missing, f"CreativeClusterModel lacks PolicyHost members: {missing}"
    assert isinstance(model, PolicyHost)


@pytest.mark.parametrize("name", sorted(METHODS))
def test_the_models_methods_take_the_arguments_the_interface_names(model, name):
    method = getattr(model, name)
    assert callable(method)
    wanted = list(inspect.signature(vars(PolicyHost)[name]).parameters)[1:]  # without self
    assert list(inspect.signature(method).parameters) == wanted


# --------------------------------------- the policy package uses only those
def _is_model(node: ast.AST, aliases: set[str]) -> bool:
    """``self.model`` or a name bound to the model."""
    if isinstance(node, ast.Name):
        return node.id in aliases
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "model"
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
    )


def _aliases(scope: ast.AST) -> set[str]:
    """Names bound to the model in ``scope``: ``model`` and e.g. ``m = self.model``."""
    aliases = {"model"}
    pairs = []
    for node in ast.walk(scope):
        if isinstance(node, ast.Assign | ast.AnnAssign | ast.NamedExpr):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                    pairs += zip(target.elts, node.value.elts, strict=False)
                else:
                    pairs.append((target, node.value))
    changed = True
    while changed:  # m = self.model; mm = m
        changed = False
        for target, value in pairs:
            bound = isinstance(target, ast.Name) and target.id not in aliases
            if bound and value is not None and _is_model(value, aliases):
                aliases.add(target.id)
                changed = True
    return aliases


def model_attributes(source: str) -> set[tuple[str, int]]:
    """(attribute, line) of every attribute of the model that ``source`` reads or writes.

    Covers ``self.model.x``, ``model.x``, aliases (``m = self.model``; ``m, s =
    self.model, self.settings``) and ``getattr(model, "x")``-style calls.
    """
    tree = ast.parse(source)
    scopes = [tree, *(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef))]
    found = set()
    for scope in scopes:
        aliases = _aliases(scope) if scope is not tree else {"model"}
        for node in ast.walk(scope):
            if isinstance(node, ast.Attribute) and _is_model(node.value, aliases):
                found.add((node.attr, node.lineno))
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"getattr", "setattr", "hasattr", "delattr"}
                and len(node.args) >= 2
                and _is_model(node.args[0], aliases)
                and isinstance(node.args[1], ast.Constant)
            ):
                found.add((str(node.args[1].value), node.lineno))
    return found


def outside_the_interface(source: str) -> list[str]:
    """Model attributes ``source`` uses that PolicyHost does not list (or that are private)."""
    return sorted(
        f"line {line}: model.{name}"
        for name, line in model_attributes(source)
        if name not in MEMBERS or name.startswith("_")
    )


BAD = """
class Sneaky(Lever):
    def act(self):
        m = self.model
        m._edges.clear()
        self.model.travel_time[0, 1] = 1.0
        x, mm = 1, m
        mm.secret += 1
        getattr(self.model, "_attraction_requests")
        self.model.graph.copy()


def helper(model):
    return model.hidden, model.n_nodes
"""


def test_the_interface_check_finds_what_a_lever_must_not_touch():
    used = {name for name, _ in model_attributes(BAD)}
    assert used == {
        "_edges",
        "travel_time",
        "secret",
        "_attraction_requests",
        "graph",
        "hidden",
        "n_nodes",
    }
    bad = outside_the_interface(BAD)
    assert {entry.split(": ")[1] for entry in bad} == {
        f"model.{name}"
        for name in ("_edges", "travel_time", "secret", "_attraction_requests", "hidden")
    }
    assert outside_the_interface("def ok(model):\n    return model.graph, model.rng\n") == []


@pytest.mark.parametrize(
    "path", POLICY_MODULES, ids=lambda p: p.relative_to(POLICY_SRC.parent).as_posix()
)
def test_the_policy_package_reaches_the_model_only_through_the_interface(path):
    bad = outside_the_interface(path.read_text(encoding="utf-8"))
    assert not bad, f"{path.name} uses model members outside PolicyHost: {bad}"


@pytest.mark.parametrize(
    "path", POLICY_MODULES, ids=lambda p: p.relative_to(POLICY_SRC.parent).as_posix()
)
def test_levers_type_their_model_as_the_interface(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    untyped = [
        f"{node.name} (line {node.lineno})"
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef)
        for arg in node.args.args + node.args.kwonlyargs
        if arg.arg == "model" and ast.unparse(arg.annotation or ast.Constant("")) != "PolicyHost"
    ]
    assert not untyped, f"type model as PolicyHost in {untyped}"
