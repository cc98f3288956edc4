"""Disagreement is not silence: disputes about whose a case is (tvist om ansvarsfördelning, issue #10 item 7)."""
