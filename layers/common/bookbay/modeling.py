"""The base of every pydantic model in the layer: pydantic's, with its validator built on first use.

A function imports the models of every route and message it could handle, and building one
(its core schema, validator and serializer) costs about a millisecond: ~70 of them were a fifth
of a cold start. With ``defer_build`` a model is built the first time it validates, serializes or
gives its JSON schema, so a request pays only for the models it uses.
"""

from __future__ import annotations

import pydantic
from pydantic import ConfigDict


class BaseModel(pydantic.BaseModel):
    model_config = ConfigDict(defer_build=True)
