"""The execution service: strategies trading on bars from the bus, in PAPER (later LIVE) mode."""
