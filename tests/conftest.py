"""Every test starts with an empty strategies folder of its own, never the checkout's or a
developer's (QUANT_STRATEGIES_PATH); tests about that folder point it where they need."""

from __future__ import annotations

from pathlib import Path

import pytest

from quant_strategy.strategy_folder import ENV_VAR


@pytest.fixture(autouse=True)
def _own_strategies_folder(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Path:
    folder = tmp_path_factory.mktemp("no-strategies")
    monkeypatch.setenv(ENV_VAR, str(folder))
    return folder
