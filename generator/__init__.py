"""Fills the .docx templates, stamps QR IDs and converts to PDF.

Depends on ``forms`` only; never on ``ducha`` (the application calls in).
"""
