"""The fleet simulator: vendor-shaped pushes and command answers for tests, the demo and users.

`Fleet` and `CommandResponder` are pure; `Simulator`/`run_simulator` put them on a broker.
"""

from app.sim.fleet import NOT_ONLINE, NOT_REGISTERED, Device, Fleet, SubLock
from app.sim.responder import CommandResponder
from app.sim.runner import SimStats, Simulator, SimulatorError, run_simulator

__all__ = [
    "NOT_ONLINE",
    "NOT_REGISTERED",
    "CommandResponder",
    "Device",
    "Fleet",
    "SimStats",
    "Simulator",
    "SimulatorError",
    "SubLock",
    "run_simulator",
]
