"""The demo city: a fictional but realistic Chengdu built through the real services, with a
part of every capability, by one command (`manage.py demo`; docs/demo.md). This is the top
layer: nothing else in RedWheel imports it."""
