"""The workflow language: YAML sources with positions, the schema, CEL expressions, sandboxed
Jinja templates, and validation. Pure: no database, no broker."""

from .source import Problem
from .validate import Definitions, validate_paths, validate_texts

__all__ = ["Definitions", "Problem", "validate_paths", "validate_texts"]
