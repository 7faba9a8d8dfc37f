"""The event handling of each event-driven (non-HTTP) function, one module per function.

Each module's ``handle(event, ...)`` parses the function's events and dispatches them to the
services: the handler (``functions/<name>/app.py``) reads its config, gets its dependencies from
``bookbay.wiring`` and passes them in, and is wiring only. ``now`` is called when an event is
handled (a handler with a module ``clock`` passes it, which tests set).
"""
