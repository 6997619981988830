"""Personal data requests: export everything about a customer, erase what identifies them."""
