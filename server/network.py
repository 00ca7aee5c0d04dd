"""``from server.network import Network`` keeps working: the network lives in ``server.engine.network``."""

from .engine.network import DTYPES, Gradients, Network, Trace, one_hot, validate_config

__all__ = ["DTYPES", "Gradients", "Network", "Trace", "one_hot", "validate_config"]
