"""One module per pipeline stage; each defines ``register(subparsers)``.

The CLI discovers them, so adding a stage does not touch ``cli.py``.
"""
