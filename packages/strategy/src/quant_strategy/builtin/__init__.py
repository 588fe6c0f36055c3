"""Built-in strategies, each with a config in configs/strategies/."""
