"""What a backtest swaps in behind the ports: the simulated broker and the simulated clock."""
