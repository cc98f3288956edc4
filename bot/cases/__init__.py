"""The GFI case: models, rules (state machine + authorisation), service and messaging."""
