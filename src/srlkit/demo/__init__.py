"""The embedded default: a built-in task family, a cached tiny base student, and ``srl demo``."""
