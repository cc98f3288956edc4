"""Awaiting answers and the responsibility ladder (ansvarstrappan), DESIGN §5."""
