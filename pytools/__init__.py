"""tryon: virtual try-on toolkit (teacher, student, export, evaluation). Imports nothing heavy."""

__version__ = "0.1.0"
__all__ = ["__version__"]
