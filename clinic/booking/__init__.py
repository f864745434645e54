"""Consultations: free-slot search, preferences in patients' words, phone numbers, the store."""
