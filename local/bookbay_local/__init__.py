"""Bookbay's local stack: the whole system in one process on moto (see SPEC "Running it").

``python -m bookbay_local`` serves it; tests use :class:`bookbay_local.stack.LocalStack`.
"""
