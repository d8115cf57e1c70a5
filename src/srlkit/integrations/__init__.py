"""Adapters to RL engines other than TRL: srlkit's data, rewards and filter in their own formats.

Each engine is a sub-package that imports the engine lazily, so srlkit itself never needs it.
"""
