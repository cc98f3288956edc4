"""Statistics for managers and coordinators, and the retention purge (DESIGN §8b, §7; issue #13 items 5-6)."""
