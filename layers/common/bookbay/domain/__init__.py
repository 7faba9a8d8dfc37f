"""Domain entities (pydantic): what the services work with. Storage models stay in bookbay.models."""
