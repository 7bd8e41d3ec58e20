"""ducha (督查): monthly spot checks of village work teams and first secretaries."""

__version__ = "0.1.0"
