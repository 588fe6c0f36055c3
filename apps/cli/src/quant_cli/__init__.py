"""The quant command line."""
