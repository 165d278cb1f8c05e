"""Typer commands: parse options, call the library, print the result at the edge."""
