"""Contraindication screening: the clinic's rules, what patients say, and the outcome."""
