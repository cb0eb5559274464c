"""The model as policy levers see it: the documented interface a lever may read and change.

:class:`PolicyHost` lists every attribute and method of the model that the
:class:`~clustersim.policy.base.Policy` base and the levers use, and nothing
else. ``CreativeClusterModel`` satisfies it (``tests/policy/test_host.py``
checks), and an AST test checks that code in ``clustersim/policy/`` reaches the
model only through these members, never through private ones. A new hook for
levers is added here first, with a line saying what it is and how a lever may
use it.

Rules for levers: act through the hooks (change what the mechanisms read), never
write outcomes (jobs, firms, talents) directly; add to a hook array and undo
your own change in ``on_stop`` (never reset it), so that levers can overlap.

This module imports nothing from :mod:`clustersim.policy`: the model layer
never depends on the levers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import networkx as nx
    import numpy as np

    from clustersim.model.agents import CulturalInstitution, Incubator, Municipality, University
    from clustersim.model.config import SimConfig
    from clustersim.model.hooks import PolicyAgent
    from clustersim.model.state import AgentTable

__all__ = ["PolicyHost"]


@runtime_checkable
class PolicyHost(Protocol):
    """The members of the model that policies and levers may use.

    A host is also a ``mesa.Model``: a Policy is a ``mesa.Agent`` and registers
    with it when created. Node arrays have one entry per node of the city graph
    (``n_nodes``), place arrays one per place (``place_names``).
    """

    # ------------------------------------------------------------ read only
    params: SimConfig
    """The validated configuration (read only), e.g. ``params.households.creative_spend_share``."""
    rng: np.random.Generator
    """The model's generator: read its seed (``lever_rng``); never draw from it in a lever."""
    steps: int
    """The current month (1 in the first step); read only."""
    n_nodes: int
    """Number of nodes of the city graph."""
    node_names: list[str]
    """Node names, by node id: targets named in configs resolve through them."""
    place: np.ndarray
    """Place index of each node."""
    place_names: list[str]
    """Names of the places (a town, its large city, ...)."""
    focus_place: int
    """Index of the focus place (the town the policies are for)."""
    focus_nodes: np.ndarray
    """Node ids of the focus place: the default target of a policy."""
    rent: np.ndarray
    """Workspace rent per node this month (read only; change ``rent_factor``)."""
    amenity: np.ndarray
    """Amenity per node this month (read only; change ``amenity_bonus``)."""
    residents: np.ndarray
    """Resident population per node (read only)."""
    vacant_space0: np.ndarray
    """Share of vacant space per node at the start (read only)."""
    university_count: np.ndarray
    """Universities per node (read only)."""
    universities: list[University]
    """The universities (their ``node``); read only."""
    talents: AgentTable
    """The talent table (columns such as ``home``, ``alive``); levers may add to ``grant``."""
    firms: AgentTable
    """The firm table (``node``, ``alive``, ``employees``, ...); levers may add to ``subsidy``
    and multiply ``market_reach``."""
    municipality: Municipality
    """The municipal budget: ``Policy.pay`` pays from it (``pay``, ``budget``)."""
    policies: list[PolicyAgent]
    """The policy agents; a Policy appends itself when created."""

    # ------------------------------------------------- hooks levers change
    graph: nx.Graph
    """The city graph; a lever may replace it by an edited copy, then call
    ``set_travel_times_changed``."""
    amenity_bonus: np.ndarray
    """Extra amenity per node that levers add (and take back)."""
    visitor_budget: np.ndarray
    """Visitors' spending at creative firms per node this month (EUR from outside)."""
    visitor_demand: np.ndarray
    """Extra space demand per node (visitors occupying dwellings), raising rents."""
    rent_factor: np.ndarray
    """Multiplier of workspace rent per node (cheap space: below 1)."""
    productivity_bonus: np.ndarray
    """Extra productivity (share) of creative firms per node."""
    knowledge_multiplier: np.ndarray
    """Multiplier of the university knowledge field per node."""
    tech: np.ndarray
    """Broadband / technological facilities per node (0 to 1)."""
    openness: np.ndarray
    """Openness (tolerance) per node (0 to 1)."""
    market_access: np.ndarray
    """External price multiplier per node from the people it reaches (1 at the reference
    market potential); follows travel times (``set_travel_times_changed``)."""
    retention_bonus: np.ndarray
    """Extra attachment of new graduates to their place, per place."""
    graduate_pull: np.ndarray
    """Extra pull of new graduates of a place (row) toward a node (column)."""

    # ------------------------------------------------------------ methods
    def add_incubator(self, node: int, capacity: int, **kwargs: Any) -> Incubator:
        """Open an incubator at ``node`` and return it (the creative-hub lever)."""

    def close_incubator(self, hub: Incubator) -> None:
        """Close an incubator: its tenants lose their places at once."""

    def add_cultural_institution(self, node: int, strength: float) -> CulturalInstitution:
        """Open a cultural institution at ``node`` and return it; amenity rises around it."""

    def close_cultural_institution(self, inst: CulturalInstitution) -> None:
        """Close a cultural institution; amenity around it falls."""

    def attract_talents(
        self,
        prospects: int,
        nodes: list[int],
        bonus: float,
        policy: Any,
        within: list[int] | None = None,
    ) -> None:
        """Queue prospective newcomers with an extra pull ``bonus`` at ``nodes``.

        With ``within`` they weigh only those nodes (and not coming), else every node.
        The model calls ``policy.on_attracted(ids)`` with the ids of those who came.
        """

    def add_collaboration_ties(self, pairs: np.ndarray) -> int:
        """Add ties between living firms (pairs of firm ids); returns how many are new."""

    def set_travel_time(self, u: int, v: int, minutes: float) -> None:
        """Set the travel time of edge (u, v) and recompute reach."""

    def set_travel_times_changed(self) -> None:
        """Recompute travel times and reach after edge travel times of ``graph`` changed."""
