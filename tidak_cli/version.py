"""paytoken's version, in a leaf module: the transport's User-Agent reads it without loading the library API."""

__version__ = "0.1.0"
