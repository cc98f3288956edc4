"""One-shot reminders (DESIGN §6): meeting preparation, meeting day, outcome, follow-ups, consent."""
