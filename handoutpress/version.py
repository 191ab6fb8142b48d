"""The version of Handout Press, in one place."""

__version__ = "0.1.0"
