"""Distribution days: each unit's queue goes to its distributor on the unit's two weekly slots."""
