"""Errors of the model layer, in the platform's hierarchy (one line for the CLI)."""

from __future__ import annotations

from quant_domain import QuantError


class ModelError(QuantError):
    """A model cannot be trained, loaded or used as asked (not fitted, wrong columns)."""


class ArtifactError(QuantError):
    """An artifact is missing from its store or its bytes do not match its checksum."""


class RegistryError(QuantError):
    """A registry lookup or stage change cannot be made (unknown model, wrong stage, no reason)."""


class GateRefused(RegistryError):
    """A promotion failed its gate; the message names every check that failed."""
