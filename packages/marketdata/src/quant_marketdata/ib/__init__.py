"""Interactive Brokers real-time bars (ib_async); import this subpackage only where IB is used."""
