"""The command center: city-wide figures, map, charts, alerts and exports.

Figures come from rollups that the worker folds from the journal (see
`projector`), so a page reads a few hundred small rows whatever the size of
the city, and every figure can be recomputed from the events themselves.
"""
