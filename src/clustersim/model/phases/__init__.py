"""The monthly phases of the model, one module each, in the order of the process overview.

:meth:`clustersim.model.core.CreativeClusterModel.step` runs them in this order:

1. :mod:`~.policies` — the municipality's month begins, levers act, incubators admit firms;
2. :mod:`~.fields` — amenity around cultural institutions and the knowledge field;
3. :mod:`~.production` — firms produce, sell locally and outside, pay costs, innovate;
4. :mod:`~.labour` — quits, layoffs, matching within commuting reach, wages;
5. :mod:`~.demography` — firms out of cash exit, spin-offs and start-ups enter;
6. :mod:`~.moves` — retirement, graduates and locals, location review, newcomers;
7. :mod:`~.rents` — rents move toward demand, low-income residents are displaced;
8. :mod:`~.ties` — collaboration ties lapse and form;
9. :mod:`~.recording` — the month's row of declared outcomes, and a row per place.

Each phase is a function that reads the model's state, calls the pure
functions of :mod:`clustersim.model.mechanisms` and writes the state back.
:mod:`~.aggregates` holds the counts the phases share (a ``Census`` taken once
and passed on), :mod:`~.roster` adds and removes talents and firms.
"""

from __future__ import annotations

__all__: list[str] = []
