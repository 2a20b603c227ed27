"""The fast YAML text the city generator writes: :func:`yamlwrite.dumps`,
whose fast path lays plain records out directly (no Pydantic round trip,
no PyYAML representer per node) with the same bytes as PyYAML's."""

from __future__ import annotations

from .yamlwrite import dumps

__all__ = ["dumps"]
