"""Command-line interface: one module per command group, each with ``add_parser`` and handlers."""
