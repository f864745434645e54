"""Running the assistant's processes together on one machine (`make run`, `make shell`, tests)."""
