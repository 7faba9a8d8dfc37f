"""The HTTP routes of each API function, one module per function.

Each module's ``register(app, deps, now=...)`` adds its routes to the function's resolver (made by
``bookbay.api.resolver.make_resolver``): the handler (``functions/<name>/app.py``) reads its
config, gets its dependencies from ``bookbay.wiring`` and registers these, and is wiring only.
``now`` is called for each request (the handler passes its module's ``clock``, which tests set).
"""
