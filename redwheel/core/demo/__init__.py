"""The demo city: a fictional but realistic Chengdu built through the real services."""
