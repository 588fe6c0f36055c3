"""What a backtest simulates behind the ports of quant_domain.ports: the clock (and the broker)."""

from quant_engine.sim.clock import SimulatedClock

__all__ = ["SimulatedClock"]
