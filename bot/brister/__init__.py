"""Brister i samverkan (DESIGN §8): reports of failed collaboration, drafts from the ladder, the yearly report."""
