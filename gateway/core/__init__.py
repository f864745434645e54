"""Settings and dependencies shared by the gateway's routes."""
