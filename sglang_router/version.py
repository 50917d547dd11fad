"""The Python package version (the Go library reports its own via sgl_version)."""

__version__ = "0.2.0"
