"""mamoru (守る): a personal-information protection management system for organizations in Japan."""

__version__ = "0.1.0"
