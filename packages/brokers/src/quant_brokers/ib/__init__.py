"""Interactive Brokers through ib_async: the LiveBroker adapter, its mapping and its settings."""
