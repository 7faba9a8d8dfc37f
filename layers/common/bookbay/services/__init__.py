"""Use cases: one function per thing a user does. They take repositories and adapters."""
