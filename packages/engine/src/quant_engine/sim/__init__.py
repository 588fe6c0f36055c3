"""What a backtest swaps in behind the ports: the simulated broker and the simulated clocks."""

from quant_engine.sim.broker import SimulatedBroker
from quant_engine.sim.clock import SimulatedClock, TimelineClock

__all__ = ["SimulatedBroker", "SimulatedClock", "TimelineClock"]
