"""The command line: one module per command, assembled in app.py; options declared once in options.py.

Importing this package loads nothing: the plain `get` path (launch.py) reads options.py without Typer.
"""
