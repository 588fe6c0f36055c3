"""Trading models: the TradingModel port, XGBoost, purged validation and the model registry."""
